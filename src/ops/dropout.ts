/**
 * Inverted dropout (Srivastava, Hinton et al., 2014, https://jmlr.org/papers/v15/srivastava14a.html):
 * each unit is zeroed with probability p and survivors are scaled by 1/(1 − p), so E[h'] = h and the
 * network needs no rescaling at test time.
 */
import { checkOptions } from '../tensor/options.js';
import { apply } from '../autograd/apply.js';
import { ArgumentError, formatValue } from '../errors.js';
import { dropoutKeep } from '../random/dropoutKeep.js';
import { defaultGenerator, type Generator } from '../random/generator.js';
import { full, randFromStream } from '../tensor/creation.js';
import { Tensor } from '../tensor/tensor.js';
import { noteNoise } from './noiseTap.js';

/** Options of the functional dropout; `training` is required on purpose (see `dropout`). */
export interface DropoutOptions {
  /** Apply dropout (true) or return the input unchanged (false, evaluation). */
  training: boolean;
  /** Generator for the mask; defaults to the global one seeded by `manualSeed`. */
  generator?: Generator | undefined;
}

/**
 * Throws a clear ArgumentError unless 0 ≤ p ≤ 1. Called where p enters: the public ops and the nn
 * layers (when p is set); the layers then call the unchecked `apply…` forms, and the primitive and
 * the backends trust it.
 */
export function checkDropoutP(p: number, where = 'dropout'): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new ArgumentError(
      `${where}: dropout probability p must be a number in [0, 1], got ${formatValue(p)}; use e.g. 0.5.`,
    );
  }
}

/** Throws a clear ArgumentError unless `opts.training` is a boolean (it has no default on purpose). */
export function checkTraining(opts: DropoutOptions | undefined, where: string): void {
  if (typeof opts?.training !== 'boolean') {
    throw new ArgumentError(
      `${where}: pass { training: true | false } explicitly (e.g. { training: this.training }), got ${formatValue(opts)}.`,
    );
  }
}

/**
 * F.dropout: y = mask ⊙ x / (1 − p) with mask_i ~ Bernoulli(1 − p) when training, x otherwise.
 * Unlike PyTorch, `training` has no default: a default of true silently ignores eval mode.
 * p = 0 returns x itself; p = 1 returns zeros. Uses the fused kernel; see `dropoutComposed`.
 *
 * @example
 * ```ts
 * import { dropout, Generator, ones } from 'dropout-lab';
 * const y = dropout(ones([2, 4]), 0.5, { training: true, generator: new Generator(0) });
 * y.data; // each entry 0 or 2 (kept entries are scaled by 1 / (1 − p))
 * ```
 */
export function dropout(x: Tensor, p: number, opts: DropoutOptions): Tensor {
  checkDropoutP(p);
  checkTraining(opts, 'dropout');
  checkOptions('dropout', opts, ['training', 'generator'], {
    inplace: 'results are always new tensors here; remove inplace',
  });
  return applyDropout(x, p, opts.training, opts.generator);
}

/** `dropout` for a p already checked where it entered (nn.Dropout, Linear's DropConnect); see checkDropoutP. */
export function applyDropout(x: Tensor, p: number, training: boolean, generator?: Generator): Tensor {
  if (!training || p === 0) return x;
  if (p === 1) return x.mul(0);
  const stream = (generator ?? defaultGenerator).next('uniform', x.size);
  // A leaf that requires grad is a parameter: DropConnect masks weights, not a minibatch.
  const onParameter = x.requiresGrad && x.node === null;
  noteNoise({ kind: 'dropout', shape: x.shape, maskShape: x.shape, p, stream, onParameter });
  return apply('dropout', [x], { p, stream });
}

/**
 * The book's from-scratch `dropout_layer`, composed from primitives: mask = (rand ≥ p), then
 * where(mask, X · 1/(1 − p), 0). It always applies dropout; callers check `training` (as the book
 * does). It draws the same mask as the fused `dropout` for the same generator state.
 */
export function dropoutLayer(X: Tensor, p: number, opts: { generator?: Generator } = {}): Tensor {
  checkDropoutP(p, 'dropoutLayer');
  checkOptions('dropoutLayer', opts, ['generator']);
  if (p === 0) return X;
  if (p === 1) return X.mul(0);
  // u ≥ ceil(p·2^24)·2^-24, not u ≥ p: the threshold the kernels use, exact in float32 (dropoutKeep.ts).
  const { uniform, scale } = dropoutKeep(p);
  const stream = (opts.generator ?? defaultGenerator).next('uniform', X.size);
  noteNoise({ kind: 'dropout', shape: X.shape, maskShape: X.shape, p, stream });
  const mask = randFromStream(X.shape, stream, { backend: X.backend }).ge(uniform);
  const zero = full([], 0, { backend: X.backend });
  return Tensor.where(mask, X.mul(scale), zero);
}

/** Alias of `dropoutLayer` named for what it is in tests: the composition the fused kernel must equal. */
export const dropoutComposed = dropoutLayer;
