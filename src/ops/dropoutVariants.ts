/**
 * Dropout variants, composed from primitives (no hand-written backward): dropout with a Keras-style
 * `noiseShape` (one mask broadcast over some axes, e.g. channel-wise spatial dropout), Gaussian
 * dropout (Srivastava et al. 2014, §10) and alpha dropout for SELU networks (Klambauer et al. 2017,
 * https://arxiv.org/abs/1706.02515). Same rules as `dropout`: `training` is explicit, p is validated,
 * masks come from the seeded generator.
 */
import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { dropoutKeep } from '../random/dropoutKeep.js';
import { defaultGenerator, type Generator } from '../random/generator.js';
import { full, rand, randFromStream, randn } from '../tensor/creation.js';
import { sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkDropoutP, checkTraining, type DropoutOptions } from './dropout.js';
import { noteNoise } from './noiseTap.js';

/** Options of `broadcastDropout`: a `noiseShape` with 1 on the axes the mask is shared over. */
export interface NoiseShapeOptions extends DropoutOptions {
  /**
   * Shape of the mask, one entry per input axis: 1 shares the mask along that axis, null (or the
   * input's size) draws it per element, as Keras `Dropout(noise_shape=…)` with None entries.
   */
  noiseShape?: readonly (number | null)[] | undefined;
}

/** SELU's α (Klambauer et al. 2017, eq. 2), to 16 digits as in PyTorch and Keras; SELU_SCALE is its λ. */
export const SELU_ALPHA = 1.6732632423543772;
/** SELU's λ (Klambauer et al. 2017, eq. 2). */
export const SELU_SCALE = 1.0507009873554805;

/** Keep mask u ≥ ceil(p·2^24)·2^-24 of shape `shape`: the fused kernels' rule (random/dropoutKeep.ts). */
function keepMask(shape: readonly number[], p: number, x: Tensor, generator: Generator | undefined): Tensor {
  const u = rand(shape, { backend: x.backend, generator: generator ?? defaultGenerator });
  return u.ge(dropoutKeep(p).uniform);
}

/** Resolves a Keras noise shape against the input shape; entries must be 1, null or the input's size. */
export function resolveNoiseShape(
  shape: readonly number[],
  noiseShape: readonly (number | null)[],
): number[] {
  if (noiseShape.length !== shape.length) {
    throw new ShapeError(
      `noiseShape ${formatShape(noiseShape.map((d) => d ?? -1))} needs one entry per axis of the input ${formatShape(shape)} (null = per element).`,
    );
  }
  return noiseShape.map((d, i) => {
    if (d === null || d === shape[i]) return shape[i]!;
    if (d === 1) return 1;
    throw new ShapeError(
      `noiseShape entry ${i} is ${d}, but input axis ${i} has size ${shape[i]}; use 1 (share the mask) or null.`,
    );
  });
}

/**
 * Inverted dropout whose Bernoulli(1 − p) mask has shape `noiseShape` and is broadcast to x:
 * y = x ⊙ broadcast(mask) / (1 − p). E[y] = x for every element; with noiseShape [N, C, 1, 1] whole
 * channels are dropped together (Tompson et al. 2015, SpatialDropout). Without noiseShape this is
 * `dropout` composed from primitives (the same mask for the same generator state).
 */
export function broadcastDropout(x: Tensor, p: number, opts: NoiseShapeOptions): Tensor {
  checkDropoutP(p, 'broadcastDropout');
  checkTraining(opts, 'broadcastDropout');
  return applyBroadcastDropout(x, p, opts);
}

/** `broadcastDropout` for a p already checked where it entered (nn.SpatialDropout); see checkDropoutP. */
export function applyBroadcastDropout(x: Tensor, p: number, opts: NoiseShapeOptions): Tensor {
  const maskShape = resolveNoiseShape(x.shape, opts.noiseShape ?? x.shape.map(() => null));
  if (!opts.training || p === 0) return x;
  if (p === 1) return x.mul(0);
  const stream = (opts.generator ?? defaultGenerator).next('uniform', sizeOf(maskShape));
  noteNoise({ kind: 'broadcast', shape: x.shape, maskShape, p, stream });
  const keep = randFromStream(maskShape, stream, { backend: x.backend }).ge(dropoutKeep(p).uniform);
  const scaled = Tensor.where(
    keep,
    full([], dropoutKeep(p).scale, { backend: x.backend }),
    full([], 0, { backend: x.backend }),
  );
  return x.mul(scaled);
}

/**
 * Gaussian dropout (Srivastava et al. 2014, §10): y = x ⊙ ε with ε ~ N(1, σ²), σ² = p/(1 − p), the
 * variance of Bernoulli dropout's multiplier mask/(1 − p); E[y] = x, identity in eval. p = 1 would
 * need infinite variance and is rejected (as Keras' rate < 1).
 */
export function gaussianDropout(x: Tensor, p: number, opts: DropoutOptions): Tensor {
  checkGaussianP(p, 'gaussianDropout');
  checkTraining(opts, 'gaussianDropout');
  return applyGaussianDropout(x, p, opts);
}

/** checkDropoutP, and p < 1: Gaussian dropout's noise variance p/(1 − p) is infinite at p = 1. */
export function checkGaussianP(p: number, where: string): void {
  checkDropoutP(p, where);
  if (p === 1) throw new ArgumentError(`${where}: p = 1 means infinite noise variance p/(1 − p); use p < 1.`);
}

/** `gaussianDropout` for a p already checked where it entered (nn.GaussianDropout); see checkGaussianP. */
export function applyGaussianDropout(x: Tensor, p: number, opts: DropoutOptions): Tensor {
  if (!opts.training || p === 0) return x;
  const sigma = Math.sqrt(p / (1 - p));
  const eps = randn(x.shape, { backend: x.backend, generator: opts.generator ?? defaultGenerator });
  return x.mul(eps.mul(sigma).add(1));
}

/** The affine correction (a, b) of alpha dropout and the value α' = −λα dropped units take. */
export function alphaDropoutCoefficients(p: number): { a: number; b: number; alphaPrime: number } {
  const alphaPrime = -SELU_SCALE * SELU_ALPHA;
  const q = 1 - p;
  const a = 1 / Math.sqrt(q * (1 + p * alphaPrime * alphaPrime));
  return { a, b: -a * alphaPrime * p, alphaPrime };
}

/**
 * Alpha dropout (Klambauer et al. 2017, §"New dropout technique"): dropped units are set to SELU's
 * negative saturation α' = −λα instead of 0, then y = a·x̃ + b with a = (q + α'²q(1 − q))^−½,
 * b = −a·α'(1 − q), q = 1 − p, so inputs with mean 0 and variance 1 keep them. p = 1 returns zeros
 * (PyTorch's choice), p = 0 and eval return x.
 */
export function alphaDropout(x: Tensor, p: number, opts: DropoutOptions): Tensor {
  checkDropoutP(p, 'alphaDropout');
  checkTraining(opts, 'alphaDropout');
  return applyAlphaDropout(x, p, opts);
}

/** `alphaDropout` for a p already checked where it entered (nn.AlphaDropout); see checkDropoutP. */
export function applyAlphaDropout(x: Tensor, p: number, opts: DropoutOptions): Tensor {
  if (!opts.training || p === 0) return x;
  if (p === 1) return x.mul(0);
  const { a, b, alphaPrime } = alphaDropoutCoefficients(p);
  const keep = keepMask(x.shape, p, x, opts.generator);
  const dropped = full([], a * alphaPrime + b, { backend: x.backend });
  return Tensor.where(keep, x.mul(a).add(b), dropped);
}
