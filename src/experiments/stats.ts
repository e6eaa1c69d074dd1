/** Small statistics for experiment summaries: mean ± sample std, error rates, calibration (ECE). */

/** Mean and sample standard deviation (n − 1; 0 for one value) of finite values. */
export function meanStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const v = values.filter(Number.isFinite);
  const n = v.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, n };
  const mean = v.reduce((s, x) => s + x, 0) / n;
  const std = n > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/** "0.8712 ± 0.0021" with `digits` decimals; a single value has no spread to show, so just "0.8712". */
export function formatMeanStd(values: readonly number[], digits = 4): string {
  const { mean, std, n } = meanStd(values);
  return n === 1 ? mean.toFixed(digits) : `${mean.toFixed(digits)} ± ${std.toFixed(digits)}`;
}

/** Index of the largest of `classes` values starting at `offset` (first on ties). */
export function argmaxRow(probs: ArrayLike<number>, offset: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (probs[offset + c]! > probs[offset + best]!) best = c;
  return best;
}

/** Fraction of rows of probs [N·C] whose argmax differs from the label. */
export function errorRate(probs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  let wrong = 0;
  for (let i = 0; i < labels.length; i++) if (argmaxRow(probs, i * classes, classes) !== labels[i]) wrong++;
  return wrong / labels.length;
}

/** One bin of a reliability diagram: examples whose confidence falls in [lo, hi). */
export interface ReliabilityBin {
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
  /** Mean confidence (max probability) in the bin. */
  readonly confidence: number;
  /** Accuracy in the bin. */
  readonly accuracy: number;
}

/**
 * Reliability bins and expected calibration error ECE = Σ_b (n_b/N)·|acc_b − conf_b| over `bins`
 * equal-width confidence bins (Guo et al. 2017, https://arxiv.org/abs/1706.04599).
 */
export function calibration(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
  bins = 15,
): { ece: number; bins: ReliabilityBin[] } {
  const count = new Float64Array(bins);
  const conf = new Float64Array(bins);
  const correct = new Float64Array(bins);
  for (let i = 0; i < labels.length; i++) {
    const k = argmaxRow(probs, i * classes, classes);
    const p = probs[i * classes + k]!;
    const b = Math.min(bins - 1, Math.floor(p * bins));
    count[b]!++;
    conf[b]! += p;
    if (k === labels[i]) correct[b]!++;
  }
  let ece = 0;
  const out: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const n = count[b]!;
    const c = n > 0 ? conf[b]! / n : 0;
    const a = n > 0 ? correct[b]! / n : 0;
    ece += (n / labels.length) * Math.abs(a - c);
    out.push({ lo: b / bins, hi: (b + 1) / bins, count: n, confidence: c, accuracy: a });
  }
  return { ece, bins: out };
}
