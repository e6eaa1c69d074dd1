/** Smooth activations beside layers.ts's ReLU: GELU (torch.nn.GELU, the exact erf form). */
import { gelu } from '../ops/gelu.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/** x·Φ(x), Φ the standard normal CDF (Hendrycks & Gimpel 2016); the Transformers' activation. */
export class GELU extends Module {
  /** Applies GELU elementwise. */
  override forward(X: Tensor): Tensor {
    return gelu(X);
  }
}
