/** nn.DropPath: a thin module over ops/dropPath.ts (stochastic depth, timm's DropPath), like nn.Dropout. */
import { checkDropoutP } from '../ops/dropout.js';
import { applyDropPath } from '../ops/dropPath.js';
import type { Generator } from '../random/generator.js';
import type { Tensor } from '../tensor/tensor.js';
import type { LayerRandomOptions } from './layers.js';
import { Module } from './module.js';

/** Options of nn.DropPath: the generator, and whether survivors are scaled by 1/(1 − p). */
export interface DropPathLayerOptions extends LayerRandomOptions {
  /** timm's scale_by_keep (default true). */
  scaleByKeep?: boolean | undefined;
}

/** Drops a whole example's residual branch with probability p while training (timm's DropPath). */
export class DropPath extends Module {
  /** The generator of this layer's draws, or undefined for the global one. */
  readonly generator: Generator | undefined;
  /** Whether survivors are scaled by 1/(1 − p). */
  readonly scaleByKeep: boolean;

  /** DropPath with drop probability `p` (validated here). */
  constructor(
    readonly p: number,
    opts: DropPathLayerOptions = {},
  ) {
    super();
    checkDropoutP(p, 'nn.DropPath');
    this.generator = opts.generator;
    this.scaleByKeep = opts.scaleByKeep ?? true;
  }

  /** Training mode means DropPath on; nothing else changes (so Monte-Carlo dropout switches it too). */
  override get trainingOnlySwitchesDropout(): boolean {
    return true;
  }

  /** dropPath following this module's mode. */
  override forward(X: Tensor): Tensor {
    return applyDropPath(X, this.p, {
      training: this.training,
      scaleByKeep: this.scaleByKeep,
      ...(this.generator ? { generator: this.generator } : {}),
    });
  }
}
