/**
 * nn.BatchNorm1d and nn.LayerNorm with PyTorch's names, defaults and update rules
 * (torch/nn/modules/batchnorm.py, normalization.py), composed from primitives (src/ops/normalization.ts).
 */
import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { checkEps, layerNorm, normalize, rsqrtEps } from '../ops/normalization.js';
import { full, ones, zeros } from '../tensor/creation.js';
import { getBackend, noGrad } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module, pyRepr } from './module.js';

/** Options of BatchNorm1d (PyTorch's defaults). */
export interface BatchNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /**
   * Weight of the new batch in the running statistics, r ← (1 − m)·r + m·batch (default 0.1);
   * null: the cumulative average over all batches so far (m = 1/numBatchesTracked), as in PyTorch.
   */
  momentum?: number | null;
  /** Learnable per-feature scale (weight, init 1) and shift (bias, init 0) (default true). */
  affine?: boolean;
}

/** Writes `value` (same shape) into `target`'s storage in place, on any backend, and frees `value`. */
function assign(target: Tensor, value: Tensor): void {
  target.backend.unary('copy', value.id, value.strides(), target.id, target.shape);
  value.dispose();
}

/**
 * Batch normalisation over [N, C] or [N, C, L] (torch.nn.BatchNorm1d). Training: normalise with the
 * batch mean and the biased batch variance, and update running_mean and running_var with the
 * unbiased variance (·n/(n − 1)); evaluation: normalise with the running statistics. Then y·weight + bias.
 */
export class BatchNorm1d extends Module {
  /** Per-feature scale [C] (null without affine). */
  readonly weight: Tensor | null = null;
  /** Per-feature shift [C] (null without affine). */
  readonly bias: Tensor | null = null;
  /** Running mean [C] (buffer `running_mean`, init 0). */
  readonly runningMean: Tensor;
  /** Running unbiased variance [C] (buffer `running_var`, init 1). */
  readonly runningVar: Tensor;
  /** Training batches seen (buffer `num_batches_tracked`, a float32 scalar; PyTorch stores int64). */
  readonly numBatchesTracked: Tensor;
  /** eps and momentum as resolved. */
  readonly eps: number;
  readonly momentum: number | null;

  /** Normalises `numFeatures` channels. */
  constructor(
    readonly numFeatures: number,
    opts: BatchNormOptions = {},
  ) {
    super();
    if (!(Number.isInteger(numFeatures) && numFeatures > 0)) {
      throw new ArgumentError(`BatchNorm1d: numFeatures must be a positive integer, got ${numFeatures}.`);
    }
    this.eps = opts.eps ?? 1e-5;
    checkEps(this.eps, 'BatchNorm1d');
    const m = opts.momentum === undefined ? 0.1 : opts.momentum;
    if (m !== null && !(typeof m === 'number' && m >= 0 && m <= 1)) {
      throw new ArgumentError(`BatchNorm1d: momentum must be in [0, 1] or null, got ${String(m)}; e.g. 0.1.`);
    }
    this.momentum = m;
    const backend = getBackend();
    if (opts.affine !== false) {
      this.weight = this.registerParameter('weight', ones([numFeatures], { backend }));
      this.bias = this.registerParameter('bias', zeros([numFeatures], { backend }));
    }
    this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures], { backend }));
    this.runningVar = this.registerBuffer('running_var', ones([numFeatures], { backend }));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', zeros([], { backend }));
  }

  /** `256, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True`, as PyTorch prints it. */
  override extraRepr(): string {
    return (
      `${this.numFeatures}, eps=${pyRepr(this.eps)}, momentum=${pyRepr(this.momentum)}, ` +
      `affine=${pyRepr(this.weight !== null)}, track_running_stats=True`
    );
  }

  /** Batch statistics (and a running-statistics update) in training mode, running statistics in eval. */
  override forward(X: Tensor): Tensor {
    const C = this.numFeatures;
    if (!((X.ndim === 2 || X.ndim === 3) && X.shape[1] === C)) {
      throw new ShapeError(
        `BatchNorm1d(${C}) expects [batch, ${C}] or [batch, ${C}, length], got ${formatShape(X.shape)}.`,
      );
    }
    // Per-channel tensors [C] broadcast as [C] over [N, C], and as [C, 1] over [N, C, L].
    const perChannel = (t: Tensor): Tensor => (X.ndim === 3 ? t.reshape([C, 1]) : t);
    const axes = X.ndim === 3 ? [0, 2] : [0];
    let y: Tensor;
    if (this.training) {
      const n = X.size / C;
      if (n <= 1) {
        throw new ArgumentError(
          `BatchNorm1d: expected more than 1 value per channel when training, got input ${formatShape(X.shape)}; ` +
            'use a batch larger than 1 or eval().',
        );
      }
      const { y: normalized, mean, variance } = normalize(X, axes, this.eps);
      y = normalized;
      noGrad(() => this.updateRunningStats(mean.reshape([C]), variance.reshape([C]), n));
    } else {
      y = X.sub(perChannel(this.runningMean)).mul(perChannel(rsqrtEps(this.runningVar, this.eps)));
    }
    if (this.weight) y = y.mul(perChannel(this.weight));
    if (this.bias) y = y.add(perChannel(this.bias));
    return y;
  }

  /** r ← (1 − m)·r + m·batch, with the unbiased variance (Bessel's n/(n − 1)) for running_var. */
  private updateRunningStats(mean: Tensor, biasedVar: Tensor, n: number): void {
    assign(this.numBatchesTracked, this.numBatchesTracked.add(1));
    // momentum null: the cumulative average, m = 1/numBatchesTracked, kept on the device (no read back).
    const m = this.momentum ?? full([], 1, { backend: mean.backend }).div(this.numBatchesTracked);
    const keepOld = typeof m === 'number' ? 1 - m : m.neg().add(1);
    assign(this.runningMean, this.runningMean.mul(keepOld).add(mean.mul(m)));
    assign(this.runningVar, this.runningVar.mul(keepOld).add(biasedVar.mul(n / (n - 1)).mul(m)));
  }
}

/**
 * Batch normalisation of images [N, C, H, W] per channel (torch.nn.BatchNorm2d): BatchNorm1d over
 * [N, C, H·W], the same statistics and updates.
 */
export class BatchNorm2d extends BatchNorm1d {
  /** Normalises each of the C channels over the batch and the image. */
  override forward(X: Tensor): Tensor {
    const C = this.numFeatures;
    if (!(X.ndim === 4 && X.shape[1] === C)) {
      throw new ShapeError(
        `BatchNorm2d(${C}) expects [batch, ${C}, height, width], got ${formatShape(X.shape)}.`,
      );
    }
    const [n, , h, w] = X.shape as [number, number, number, number];
    return super.forward(X.reshape([n, C, h * w])).reshape([n, C, h, w]);
  }
}

/** Layer normalisation over the trailing `normalizedShape` axes of each example (torch.nn.LayerNorm). */
export class LayerNorm extends Module {
  /** Elementwise scale of shape normalizedShape (init 1; null without elementwiseAffine). */
  readonly weight: Tensor | null = null;
  /** Elementwise shift of shape normalizedShape (init 0; null without elementwiseAffine). */
  readonly bias: Tensor | null = null;
  readonly normalizedShape: readonly number[];
  readonly eps: number;

  /** Normalises over the trailing axes `normalizedShape` (a number means one axis). */
  constructor(
    normalizedShape: number | readonly number[],
    opts: { eps?: number; elementwiseAffine?: boolean } = {},
  ) {
    super();
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new ArgumentError(
        `LayerNorm: normalizedShape must be positive integers, got [${shape.join(', ')}]; e.g. 256.`,
      );
    }
    this.normalizedShape = shape;
    this.eps = opts.eps ?? 1e-5;
    checkEps(this.eps, 'LayerNorm');
    if (opts.elementwiseAffine !== false) {
      const backend = getBackend();
      this.weight = this.registerParameter('weight', ones(shape, { backend }));
      this.bias = this.registerParameter('bias', zeros(shape, { backend }));
    }
  }

  /** `(256,), eps=1e-05, elementwise_affine=True`, as PyTorch prints it. */
  override extraRepr(): string {
    return `${pyRepr([...this.normalizedShape])}, eps=${pyRepr(this.eps)}, elementwise_affine=${pyRepr(this.weight !== null)}`;
  }

  /** F.layerNorm with this module's shape, eps and affine parameters (the same in train and eval). */
  override forward(X: Tensor): Tensor {
    return layerNorm(X, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
}
