/**
 * A small LeNet-style CNN for 28×28 Fashion-MNIST (d2l's LeNet with ReLU and max pooling):
 * two conv blocks, Conv2d(1→6, 5×5, padding 2) → ReLU → MaxPool2d(2) and Conv2d(6→16, 5×5) → ReLU →
 * MaxPool2d(2), then an MLP head 400 → numHiddens1 → numHiddens2 → 10. With dropout, each conv block
 * ends in spatial dropout (whole feature maps, torch.nn.Dropout2d) with rate `spatialDropout`, or in
 * DropBlock (Ghiasi et al. 2018) with rate `dropBlock` and 3×3 blocks (the maps are 14×14 and 5×5, too
 * small for the paper's 7), and each hidden layer of the head in dropout with rate `dropout`.
 * Trained with SGD like the MLPs.
 */
import { ArgumentError } from '../errors.js';
import { checkDropoutP } from '../ops/dropout.js';
import { Conv2d, MaxPool2d } from '../nn/conv.js';
import { DropBlock2d } from '../nn/dropBlock.js';
import { SpatialDropout } from '../nn/dropoutVariants.js';
import { Dropout, Flatten, Linear, ReLU, Sequential } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import type { Generator } from '../random/generator.js';
import type { Tensor } from '../tensor/tensor.js';
import { Classifier } from '../train/module.js';

/** Hyperparameters of LeNetCNN. */
export interface LeNetCNNConfig {
  /** Spatial dropout rate after each conv block (0 = no layer). */
  spatialDropout?: number | undefined;
  /** DropBlock rate after each conv block, 3×3 blocks (0 = no layer; not together with spatialDropout). */
  dropBlock?: number | undefined;
  /** Dropout rate after each hidden layer of the head (0 = no layer). */
  dropout?: number | undefined;
  numHiddens1?: number | undefined;
  numHiddens2?: number | undefined;
  lr?: number | undefined;
  momentum?: number | undefined;
  weightDecay?: number | undefined;
  /** Max-norm c on each head unit's incoming weights, 0 = off (the conv kernels are 4-D and left alone). */
  maxNorm?: number | undefined;
  /** Generator for initialisation and masks; defaults to the global one (`manualSeed`). */
  generator?: Generator | undefined;
}

/** The resolved hyperparameters (the checkpoint's and config.json's record). */
export type ResolvedLeNetCNNConfig = {
  readonly [K in Exclude<keyof LeNetCNNConfig, 'generator'>]-?: Exclude<LeNetCNNConfig[K], undefined>;
};

/** LeNet's head widths (120, 84), no dropout, lr 0.1, plain SGD. */
export const LENET_HPARAMS: ResolvedLeNetCNNConfig = {
  spatialDropout: 0,
  dropBlock: 0,
  dropout: 0,
  numHiddens1: 120,
  numHiddens2: 84,
  lr: 0.1,
  momentum: 0,
  weightDecay: 0,
  maxNorm: 0,
};

/**
 * The LeNet-style CNN; see the file comment. One Sequential, as d2l's LeNet, so the tools that walk a
 * model's Sequential (hidden activations, the experiments' statistics) see every layer; Sequential runs
 * each Conv2d + ReLU as one fused call.
 */
export class LeNetCNN extends Classifier {
  override readonly hparams: ResolvedLeNetCNNConfig;
  readonly net: Sequential;

  /** A LeNet-style CNN; omitted hyperparameters take LENET_HPARAMS' values. */
  constructor(config: LeNetCNNConfig = {}) {
    super();
    const { generator, ...rest } = config;
    const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    const h = (this.hparams = { ...LENET_HPARAMS, ...given } as ResolvedLeNetCNNConfig);
    checkDropoutP(h.spatialDropout, 'spatialDropout');
    checkDropoutP(h.dropBlock, 'dropBlock');
    checkDropoutP(h.dropout, 'dropout');
    if (h.spatialDropout > 0 && h.dropBlock > 0) {
      throw new ArgumentError(
        'LeNetCNN: choose spatialDropout or dropBlock after the conv blocks, not both.',
      );
    }
    const g = generator ? { generator } : {};
    // What ends a conv block: spatial dropout, DropBlock or nothing.
    const mapNoise = (): Module[] =>
      h.spatialDropout > 0
        ? [new SpatialDropout(h.spatialDropout, g)]
        : h.dropBlock > 0
          ? [new DropBlock2d(h.dropBlock, 3, g)]
          : [];
    const hidden = (inFeatures: number, outFeatures: number): Module[] => [
      new Linear(inFeatures, outFeatures, g),
      new ReLU(),
      ...(h.dropout > 0 ? [new Dropout(h.dropout, g)] : []),
    ];
    this.net = new Sequential(
      new Conv2d(1, 6, 5, { padding: 2, ...g }),
      new ReLU(),
      new MaxPool2d(2),
      ...mapNoise(),
      new Conv2d(6, 16, 5, g),
      new ReLU(),
      new MaxPool2d(2),
      ...mapNoise(),
      new Flatten(),
      ...hidden(16 * 5 * 5, h.numHiddens1),
      ...hidden(h.numHiddens1, h.numHiddens2),
      new Linear(h.numHiddens2, 10, g),
    );
  }

  /** Runs the Sequential on X [N, 1, 28, 28]. */
  forward(X: Tensor): Tensor {
    return this.net.forward(X);
  }
}
