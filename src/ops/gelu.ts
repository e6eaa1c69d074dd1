/**
 * GELU, x·Φ(x) with Φ the standard normal CDF (Hendrycks & Gimpel 2016, https://arxiv.org/abs/1606.08415;
 * torch.nn.GELU's default, the erf form, not the tanh approximation). erf comes from Abramowitz &
 * Stegun 7.1.26 (|error| ≤ 1.5·10⁻⁷, about one float32 ulp of Φ near 1).
 *
 * `gelu` is the fused primitive (autograd/primitives.ts): one elementwise kernel forward and one
 * backward, where the composition `geluComposed` runs about twenty of each (it was a third of a
 * tiny-ViT training step). The kernels follow the composition's steps (backend/gelu-math.ts) except
 * that in float32 they take exp(−z²) in float32 arithmetic (backend/expf32.ts, four lanes per SIMD
 * step on wasm) where the composition's `exp` rounds float64 Math.exp: the fused float32 forward is
 * within a few ulps of the composition (equal to it in float64); the fused backward is the exact
 * derivative of the same approximation, computed analytically. `geluComposed` stays as the fused
 * kernels' reference (test/unit/ops/gelu.test.ts).
 */
import { apply } from '../autograd/apply.js';
import { ERF_A, ERF_P } from '../backend/gelu-math.js';
import { full } from '../tensor/creation.js';
import { composite } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';

/** GELU(x) = x·Φ(x) = x·(1 + erf(x/√2))/2, elementwise, in one fused kernel. */
export function gelu(x: Tensor): Tensor {
  return apply('gelu', [x], {});
}

/** The same GELU composed from primitives (where, mul, div, exp, add): the fused kernel's reference. */
export function geluComposed(x: Tensor): Tensor {
  return composite(() => {
    // erf(z) ≈ 1 − t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·exp(−z²), t = 1/(1 + p·z), z = |x|/√2 ≥ 0.
    const positive = x.ge(0);
    const z = Tensor.where(positive, x, x.neg()).mul(Math.SQRT1_2);
    const t = full([], 1, { backend: x.backend }).div(z.mul(ERF_P).add(1));
    let poly = t.mul(ERF_A[4]);
    for (let i = 3; i >= 0; i--) poly = poly.add(ERF_A[i]!).mul(t);
    // q = (1 − erf(|z|))/2, so Φ(x) = 1 − q for x ≥ 0 and q for x < 0.
    const q = poly.mul(z.mul(z).neg().exp()).mul(0.5);
    return x.mul(Tensor.where(positive, q.neg().add(1), q));
  });
}
