/**
 * The book's MLP (784→256→256→10) with normalisation layers, for the deck's closing claim that
 * BatchNorm/LayerNorm "provide similar regularization for free" and for the variance shift of Li et
 * al., "Understanding the Disharmony between Dropout and Batch Normalization by Variance Shift"
 * (CVPR 2019, https://arxiv.org/abs/1801.05134): dropout before a BatchNorm makes the variance the
 * BatchNorm sees in training differ from the one it sees in evaluation.
 */
import { ArgumentError } from '../errors.js';
import { Dropout, Flatten, LazyLinear, ReLU, Sequential } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import { BatchNorm1d, LayerNorm } from '../nn/normalization.js';
import { checkDropoutP } from '../ops/dropout.js';
import { BOOK_HPARAMS } from './dropoutMlp.js';
import type { Tensor } from '../tensor/tensor.js';
import { Classifier } from '../train/module.js';

/** Which normalisation follows each hidden Linear. */
export type NormKind = 'batch' | 'layer';

/**
 * Where dropout goes: none; `before` (after each hidden ReLU, as in the book, so the first dropout
 * feeds the second BatchNorm: the "disharmony" order); `after` (only after the last normalised
 * hidden layer, the paper's fix: no BatchNorm sees a dropped input).
 */
export type NormDropout = 'none' | 'before' | 'after';

/** Hyperparameters of a normalised MLP (the defaults are the book's). */
export interface NormMLPConfig {
  readonly norm: NormKind;
  readonly dropout: NormDropout;
  readonly numOutputs?: number;
  readonly numHiddens1?: number;
  readonly numHiddens2?: number;
  /** Dropout rate after hidden layer 1 (used by `before` only). */
  readonly dropout1?: number;
  /** Dropout rate after hidden layer 2 (used by `before` and `after`). */
  readonly dropout2?: number;
  readonly lr?: number;
  readonly momentum?: number;
  readonly weightDecay?: number;
  /** Max-norm c on each unit's incoming weights, 0 = off. */
  readonly maxNorm?: number;
}

/**
 * Flatten → [Linear → Norm → ReLU (→ Dropout)] × 2 → Linear, with BatchNorm1d (batch statistics in
 * training, running statistics in evaluation) or LayerNorm (per-example statistics in both).
 */
export class NormMLP extends Classifier {
  override readonly hparams: Required<NormMLPConfig>;
  readonly net: Sequential;

  /** Builds the network; omitted hyperparameters take the book's values. */
  constructor(config: NormMLPConfig) {
    super();
    // The book's values (sizes, p = 0.5, plain SGD) are written once, in BOOK_HPARAMS.
    const { variant: _variant, dropConnect: _dropConnect, ...book } = BOOK_HPARAMS;
    const h: Required<NormMLPConfig> = { ...book, ...config };
    if (h.dropout === 'none') Object.assign(h, { dropout1: 0, dropout2: 0 });
    if (h.dropout === 'after') Object.assign(h, { dropout1: 0 });
    if (!['none', 'before', 'after'].includes(h.dropout) || !['batch', 'layer'].includes(h.norm)) {
      throw new ArgumentError(
        `NormMLP: norm must be batch or layer and dropout none, before or after; got ${h.norm}, ${h.dropout}.`,
      );
    }
    checkDropoutP(h.dropout1, 'dropout1');
    checkDropoutP(h.dropout2, 'dropout2');
    this.hparams = h;
    const norm = (n: number): Module => (h.norm === 'batch' ? new BatchNorm1d(n) : new LayerNorm(n));
    // Dropout layers only where this placement puts them (a Dropout(0) would be the identity anyway).
    const hidden = (n: number, p: number | null): Module[] => [
      new LazyLinear(n),
      norm(n),
      new ReLU(),
      ...(p === null ? [] : [new Dropout(p)]),
    ];
    this.net = this.registerModule(
      'net',
      new Sequential(
        new Flatten(),
        ...hidden(h.numHiddens1, h.dropout === 'before' ? h.dropout1 : null),
        ...hidden(h.numHiddens2, h.dropout === 'none' ? null : h.dropout2),
        new LazyLinear(h.numOutputs),
      ),
    );
  }

  /** Runs the Sequential. */
  forward(X: Tensor): Tensor {
    return this.net.forward(X);
  }
}
