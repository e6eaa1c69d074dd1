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
import { SGD } from '../optim/sgd.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Loss and accuracy of one validation batch as scalar tensors; the Trainer reads them with
 * `await t.data()`, which works on every backend (WebGPU reads are asynchronous).
 */
export interface ValidationResult {
  readonly loss: Tensor;
  readonly acc?: Tensor;
}

/** d2l.Module: a network with a loss, a training step and an optimiser (default SGD with `lr`). */
export abstract class TrainableModule extends Module {
  /** Learning rate used by `configureOptimizers`. */
  abstract readonly lr: number;

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

  /** The optimiser the Trainer steps (SGD or AdamW): minibatch SGD on all parameters with `lr`, as in the book. */
  configureOptimizers(): Optimizer {
    return new SGD(this.parameters(), { lr: this.lr });
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
