/** Gradient clipping by the global norm (torch.nn.utils.clip_grad_norm_). */
import { ArgumentError, formatValue } from '../errors.js';
import { keep, noGrad, tidy } from '../tensor/engine.js';
import { checkOptions } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Rescales the gradients of `params` together so that their joint norm ‖(‖g₁‖, ‖g₂‖, …)‖ is at most
 * `maxNorm`: each g ← g · maxNorm / (norm + 1e-6) when the norm exceeds it, as PyTorch does. Returns
 * the norm before clipping. Parameters without a gradient are skipped; `normType` is p (default 2,
 * Infinity for the largest |g|). Reads the norm back, so CPU backends only.
 */
export function clipGradNorm(
  params: Iterable<Tensor>,
  maxNorm: number,
  opts: { normType?: number | undefined } = {},
): number {
  checkOptions('clipGradNorm', opts, ['normType'], {
    errorIfNonfinite: 'check the returned norm with Number.isFinite instead',
  });
  const { normType = 2 } = opts;
  if (!(typeof maxNorm === 'number' && maxNorm >= 0)) {
    throw new ArgumentError(`clipGradNorm: maxNorm must be a number ≥ 0, got ${formatValue(maxNorm)}.`);
  }
  if (!(normType === Infinity || (typeof normType === 'number' && normType > 0))) {
    throw new ArgumentError(`clipGradNorm: normType must be > 0 or Infinity, got ${formatValue(normType)}.`);
  }
  const withGrad = [...params].filter((p) => p.grad !== null);
  if (withGrad.length === 0) return 0;
  const total = noGrad(() =>
    tidy(() => {
      // Σ_p Σ |g|^p over every gradient, then the p-th root (or the largest |g| for p = ∞).
      const parts = withGrad.map((p) => {
        const a = p.grad!.abs();
        return normType === Infinity ? a.amax() : a.pow(normType).sum();
      });
      let joint = parts[0]!;
      for (const part of parts.slice(1))
        joint = normType === Infinity ? joint.maximum(part) : joint.add(part);
      if (normType !== Infinity) joint = joint.pow(1 / normType);
      return joint.item();
    }),
  );
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (const p of withGrad) {
      const old = p.grad!;
      p.grad = keep(noGrad(() => old.mul(coef)));
      old.dispose();
    }
  }
  return total;
}
