/** Smooth activations beside layers.ts's ReLU: GELU (torch.nn.GELU, the exact erf form), Sigmoid, Tanh. */
import { gelu } from '../ops/gelu.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/** x·Φ(x), Φ the standard normal CDF (Hendrycks & Gimpel 2016); the Transformers' activation. */
export class GELU extends Module {
  /** `approximate='none'`, as PyTorch prints a GELU. */
  override extraRepr(): string {
    return "approximate='none'";
  }

  /** Applies GELU elementwise. */
  override forward(X: Tensor): Tensor {
    return gelu(X);
  }
}

/** σ(x) = 1/(1 + e^−x) elementwise (torch.nn.Sigmoid). */
export class Sigmoid extends Module {
  /** Applies the logistic sigmoid elementwise. */
  override forward(X: Tensor): Tensor {
    return X.sigmoid();
  }
}

/** tanh(x) elementwise (torch.nn.Tanh). */
export class Tanh extends Module {
  /** Applies tanh elementwise. */
  override forward(X: Tensor): Tensor {
    return X.tanh();
  }
}
