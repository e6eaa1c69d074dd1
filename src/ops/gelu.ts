/**
 * GELU, x·Φ(x) with Φ the standard normal CDF (Hendrycks & Gimpel 2016, https://arxiv.org/abs/1606.08415;
 * torch.nn.GELU's default, the erf form, not the tanh approximation). Composed from primitives: erf
 * comes from Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5·10⁻⁷, about one float32 ulp of Φ near 1), so
 * the backward is the composition's and no new kernel is needed.
 */
import { full } from '../tensor/creation.js';
import { composite } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';

// A&S 7.1.26: erf(z) ≈ 1 − t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·exp(−z²), t = 1/(1 + p·z), z ≥ 0.
const P = 0.3275911;
const A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429] as const;

/** GELU(x) = x·Φ(x) = x·(1 + erf(x/√2))/2, elementwise. */
export function gelu(x: Tensor): Tensor {
  return composite(() => {
    const positive = x.ge(0);
    const z = Tensor.where(positive, x, x.neg()).mul(Math.SQRT1_2);
    const t = full([], 1, { backend: x.backend }).div(z.mul(P).add(1));
    let poly = t.mul(A[4]);
    for (let i = 3; i >= 0; i--) poly = poly.add(A[i]!).mul(t);
    // q = (1 − erf(|z|))/2, so Φ(x) = 1 − q for x ≥ 0 and q for x < 0.
    const q = poly.mul(z.mul(z).neg().exp()).mul(0.5);
    return x.mul(Tensor.where(positive, q.neg().add(1), q));
  });
}
