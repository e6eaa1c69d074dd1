/**
 * A last training batch of one example under BatchNorm: BatchNorm1d cannot normalise one value per
 * channel in training (its batch variance is 0/0), so the Trainer does not train on that batch, as
 * PyTorch's `drop_last` would; models without BatchNorm train on every batch.
 */
import type { DataModule } from '../data/dataModule.js';
import { ArgumentError } from '../errors.js';
import { BatchNorm1d } from '../nn/normalization.js';
import type { TrainableModule } from './module.js';

/** Whether `model` normalises with batch statistics in training (it holds a BatchNorm1d). */
export function usesBatchStatistics(model: TrainableModule): boolean {
  return model.modules().some((m) => m instanceof BatchNorm1d);
}

/** Whether the Trainer leaves out `data`'s last training batch for `model`: one example, under BatchNorm. */
export function dropsLastBatch(model: TrainableModule, data: DataModule): boolean {
  return usesBatchStatistics(model) && data.batchSize > 1 && data.numTrain % data.batchSize === 1;
}

/**
 * The steps of each training epoch of `model` on `data`: the data's batches, less a last batch of one
 * under BatchNorm. Refuses (before any training) batches that could never hold two examples.
 */
export function trainStepsPerEpoch(model: TrainableModule, data: DataModule): number {
  if (usesBatchStatistics(model) && (data.batchSize < 2 || data.numTrain < 2)) {
    throw new ArgumentError(
      `BatchNorm needs at least 2 examples per training batch, got a batch size of ${data.batchSize} and ${data.numTrain} training examples; use a batch size and a training set of 2 or more.`,
    );
  }
  return data.numTrainBatches - (dropsLastBatch(model, data) ? 1 : 0);
}

/** The one-line note of a dropped last batch, or null when every batch is trained. */
export function lastBatchNote(model: TrainableModule, data: DataModule): string | null {
  if (!dropsLastBatch(model, data)) return null;
  return (
    `note: the last training batch holds 1 example, which BatchNorm cannot normalise in training; ` +
    `it is dropped every epoch (as PyTorch's drop_last would), so each epoch trains on ${data.numTrain - 1} of ${data.numTrain} examples.`
  );
}
