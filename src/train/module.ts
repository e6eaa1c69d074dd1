/**
 * d2l's `Module` and `Classifier` (d2l/torch.py), with typed config objects instead of
 * `save_hyperparameters()` introspection: a model knows its loss, its training and validation
 * steps and its optimiser; the Trainer drives them. d2l's `Module` is called TrainableModule here,
 * so that it is never confused with nn.Module (PyTorch's, which it extends); the public API still
 * names it `d2l.Module` (train/index.ts).
 */
import type { Batch } from '../data/dataModule.js';
import { Module } from '../nn/module.js';
import { accuracy, accuracyTensor, crossEntropy } from '../ops/loss.js';
import type { Optimizer } from '../optim/optimizer.js';
import { sgdFromHparams } from '../optim/sgd.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Loss and accuracy of one validation batch as scalar tensors; the Trainer reads them with
 * `await t.data()`, which works on every backend (WebGPU reads are asynchronous).
 */
export interface ValidationResult {
  readonly loss: Tensor;
  readonly acc?: Tensor;
}

/** The SGD settings a module's hyperparameters may name for d2l's default optimiser (absent: the book's plain SGD). */
export interface SgdHparams {
  readonly lr?: number;
  readonly momentum?: number;
  readonly weightDecay?: number;
  /** Max-norm c on each unit's incoming weights; 0 = off. */
  readonly maxNorm?: number;
}

/** d2l's default learning rate: the book's 0.1. */
const BOOK_LR = 0.1;

/**
 * d2l.Module: a network with a loss, a training step and an optimiser (default SGD with `lr`). A run
 * (src/run/) builds its optimiser and schedule itself (run/optimizer.ts); the default here is d2l's,
 * for `new Trainer({ maxEpochs }).fit(model, data)` in the library.
 */
export abstract class TrainableModule extends Module {
  /**
   * d2l's saved hyperparameters, as a typed config object instead of introspection: the default
   * optimiser reads its SGD settings here, the Trainer the checkpoint's identity.
   */
  declare readonly hparams?: Readonly<SgdHparams & Record<string, unknown>>;

  /** Learning rate of the default optimiser: `hparams.lr`, else the book's 0.1. */
  get lr(): number {
    return this.hparams?.lr ?? BOOK_LR;
  }

  /** The training objective. */
  abstract loss(yHat: Tensor, y: Tensor): Tensor;

  /** Forward pass and loss on one batch; returns the loss tensor to differentiate. */
  trainingStep(batch: Batch): Tensor {
    return this.loss(this.forward(batch.X), batch.y);
  }

  /** Loss on one validation batch (run by the Trainer in eval mode without a tape). */
  validationStep(batch: Batch): ValidationResult {
    return { loss: this.loss(this.forward(batch.X), batch.y) };
  }

  /**
   * The optimiser the Trainer steps by default: minibatch SGD on all parameters with `lr`, as in the
   * book, with the momentum, weight decay and max-norm the hyperparameters name (0 = off).
   */
  configureOptimizers(): Optimizer {
    const h = this.hparams ?? {};
    return sgdFromHparams(this.parameters(), {
      lr: this.lr,
      momentum: h.momentum ?? 0,
      weightDecay: h.weightDecay ?? 0,
      maxNorm: h.maxNorm ?? 0,
    });
  }
}

/** d2l.Classifier: cross-entropy loss and accuracy reported on validation batches. */
export abstract class Classifier extends TrainableModule {
  /** Mean softmax cross-entropy of logits `yHat` against labels `y`. */
  loss(yHat: Tensor, y: Tensor): Tensor {
    return crossEntropy(yHat, y);
  }

  /** Fraction of correct predictions. */
  accuracy(yHat: Tensor, y: Tensor): number {
    return accuracy(yHat, y);
  }

  /** Validation loss and accuracy of one batch. */
  override validationStep(batch: Batch): ValidationResult {
    const yHat = this.forward(batch.X);
    return { loss: this.loss(yHat, batch.y), acc: accuracyTensor(yHat, batch.y) };
  }
}
