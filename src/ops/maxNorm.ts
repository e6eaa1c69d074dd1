/**
 * The max-norm constraint of Srivastava et al. 2014 (§5.1, https://jmlr.org/papers/v15/srivastava14a.html):
 * after each update, every hidden unit's incoming weight vector w (a row of W in PyTorch's [out, in]
 * layout) is projected onto the ball ‖w‖₂ ≤ c, i.e. w ← w · min(1, c/‖w‖₂).
 */
import { ArgumentError, formatValue } from '../errors.js';
import { full } from '../tensor/creation.js';
import { noGrad, tidy } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';

/** The per-row factor min(1, c/‖w‖₂) of a 2-D weight [out, in], as a [out, 1] tensor (composed, no sqrt primitive). */
export function maxNormScale(weight: Tensor, c: number): Tensor {
  const sumSq = weight.mul(weight).sum(1, true);
  // c/‖w‖ = c·exp(−½·log‖w‖²); only selected where ‖w‖² > c² > 0, so the log is finite there.
  const shrink = sumSq.log().mul(-0.5).exp().mul(c);
  return Tensor.where(sumSq.gt(c * c), shrink, full([], 1, { backend: weight.backend }));
}

/** Projects each row of every 2-D tensor in `params` in place onto ‖row‖₂ ≤ c; 1-D tensors (biases) are left alone. */
export function applyMaxNorm(params: readonly Tensor[], c: number): void {
  if (!(Number.isFinite(c) && c > 0)) {
    throw new ArgumentError(
      `maxNorm: c must be a positive number, got ${formatValue(c)}; the paper uses 3 to 4.`,
    );
  }
  noGrad(() =>
    tidy(() => {
      for (const w of params) {
        if (w.ndim !== 2) continue;
        const projected = w.mul(maxNormScale(w, c));
        // Write back into the parameter's own storage: optimisers and modules hold that tensor.
        w.backend.unary('copy', projected.id, projected.strides(), w.id, w.shape);
      }
    }),
  );
}
