/** nn.DropBlock2d: a thin module over ops/dropBlock.ts (Ghiasi et al. 2018), like nn.Dropout over dropout. */
import { checkDropoutP } from '../ops/dropout.js';
import { applyDropBlock, checkBlockSize } from '../ops/dropBlock.js';
import type { Tensor } from '../tensor/tensor.js';
import type { LayerRandomOptions } from './layers.js';
import { Module } from './module.js';

/** Drops blockSize × blockSize regions of each feature map so that a fraction p is dropped, while training. */
export class DropBlock2d extends Module {
  private readonly opts: LayerRandomOptions;

  /** DropBlock with drop rate `p` (the paper's 1 − keep_prob) and an odd `blockSize` (validated here). */
  constructor(
    readonly p: number,
    readonly blockSize: number,
    opts: LayerRandomOptions = {},
  ) {
    super();
    checkDropoutP(p, 'nn.DropBlock2d');
    checkBlockSize(blockSize, 'nn.DropBlock2d');
    this.opts = opts;
  }

  /** Training mode means DropBlock on; nothing else changes (so Monte-Carlo dropout switches it too). */
  override get trainingOnlySwitchesDropout(): boolean {
    return true;
  }

  /** dropBlock following this module's mode. */
  override forward(X: Tensor): Tensor {
    return applyDropBlock(X, this.p, {
      training: this.training,
      blockSize: this.blockSize,
      ...(this.opts.generator ? { generator: this.opts.generator } : {}),
    });
  }
}
