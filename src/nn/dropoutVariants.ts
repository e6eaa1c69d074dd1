/**
 * Modules over the dropout variants of src/ops/dropoutVariants.ts, thin like nn.Dropout: each holds
 * p (validated in the constructor, where it enters, so forward calls the ops' unchecked `apply…`
 * forms) and an optional generator, and follows `this.training`.
 */
import { ArgumentError } from '../errors.js';
import { checkDropoutP } from '../ops/dropout.js';
import {
  applyAlphaDropout,
  applyBroadcastDropout,
  applyGaussianDropout,
  checkGaussianP,
} from '../ops/dropoutVariants.js';
import type { Generator } from '../random/generator.js';
import type { Tensor } from '../tensor/tensor.js';
import type { LayerRandomOptions } from './layers.js';
import { Module } from './module.js';

function genOpt(generator: Generator | undefined): { generator?: Generator } {
  return generator ? { generator } : {};
}

/**
 * Dropout with a mask shared over some axes. By default channel-wise (torch.nn.Dropout2d,
 * Keras SpatialDropout2D on channels-first data): for x of shape [N, C, …] the mask has shape
 * [N, C, 1, …], so a whole feature map is kept or dropped. `noiseShape` sets any Keras noise shape.
 */
export class SpatialDropout extends Module {
  private readonly generator: Generator | undefined;
  private readonly noiseShape: readonly (number | null)[] | undefined;

  /** Training mode means dropout on; nothing else changes. */
  override get trainingOnlySwitchesDropout(): boolean {
    return true;
  }

  /** Drops each channel (or each cell of `noiseShape`) with probability `p`. */
  constructor(
    readonly p = 0.5,
    opts: LayerRandomOptions & { noiseShape?: readonly (number | null)[] } = {},
  ) {
    super();
    checkDropoutP(p, 'nn.SpatialDropout');
    this.generator = opts.generator;
    this.noiseShape = opts.noiseShape;
  }

  /** broadcastDropout with this module's noise shape and mode. */
  override forward(X: Tensor): Tensor {
    if (this.noiseShape === undefined && X.ndim < 2) {
      throw new ArgumentError(
        `nn.SpatialDropout expects [batch, channels, …], got ${X.ndim} axis; pass noiseShape for other layouts.`,
      );
    }
    const noiseShape = this.noiseShape ?? X.shape.map((d, i) => (i < 2 ? d : 1));
    return applyBroadcastDropout(X, this.p, {
      training: this.training,
      noiseShape,
      ...genOpt(this.generator),
    });
  }
}

/** Multiplicative N(1, p/(1 − p)) noise while training, identity in eval (Keras GaussianDropout). */
export class GaussianDropout extends Module {
  private readonly generator: Generator | undefined;

  /** Training mode means dropout on; nothing else changes. */
  override get trainingOnlySwitchesDropout(): boolean {
    return true;
  }

  /** `p` in [0, 1): the Bernoulli dropout rate whose multiplier variance the noise matches. */
  constructor(
    readonly p = 0.5,
    opts: LayerRandomOptions = {},
  ) {
    super();
    checkGaussianP(p, 'nn.GaussianDropout');
    this.generator = opts.generator;
  }

  /** F.gaussianDropout following this module's mode. */
  override forward(X: Tensor): Tensor {
    return applyGaussianDropout(X, this.p, { training: this.training, ...genOpt(this.generator) });
  }
}

/** Alpha dropout for SELU networks (torch.nn.AlphaDropout): keeps mean 0 and variance 1. */
export class AlphaDropout extends Module {
  private readonly generator: Generator | undefined;

  /** Training mode means dropout on; nothing else changes. */
  override get trainingOnlySwitchesDropout(): boolean {
    return true;
  }

  /** Sets each unit to SELU's saturation value with probability `p`, then rescales. */
  constructor(
    readonly p = 0.5,
    opts: LayerRandomOptions = {},
  ) {
    super();
    checkDropoutP(p, 'nn.AlphaDropout');
    this.generator = opts.generator;
  }

  /** F.alphaDropout following this module's mode. */
  override forward(X: Tensor): Tensor {
    return applyAlphaDropout(X, this.p, { training: this.training, ...genOpt(this.generator) });
  }
}
