/**
 * The JSON-lines events of a run, one spelling for every surface: what `train --json` prints, what
 * metrics.jsonl holds and what a resumed run rewrites.
 */
import type { EpochMetrics } from '../train/trainer.js';
import type { RunSummary } from './runOne.js';

/** The `epoch` event of one model's epoch. */
export function epochEvent(model: string, m: EpochMetrics): Record<string, unknown> {
  return {
    event: 'epoch',
    model,
    epoch: m.epoch,
    train_loss: m.trainLoss,
    val_loss: m.valLoss,
    val_acc: m.valAcc,
    epoch_seconds: m.epochSeconds,
    samples_per_second: m.samplesPerSecond,
  };
}

/** The `summary` event that ends one model's run. */
export function summaryEvent(s: RunSummary): Record<string, unknown> {
  return {
    event: 'summary',
    model: s.model,
    epochs: s.epochs,
    train_loss: s.trainLoss,
    val_loss: s.valLoss,
    val_acc: s.valAcc,
    gap: s.gap,
    seconds_per_epoch: s.secondsPerEpoch,
  };
}
