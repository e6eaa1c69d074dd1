/**
 * R-Drop (Liang et al., NeurIPS 2021, https://arxiv.org/abs/2106.14448) as a run's training step:
 * each batch goes through the model twice, with independent dropout masks, and the loss is the mean
 * cross-entropy of both passes plus α times the symmetric KL between their predictive distributions
 * (src/ops/rdrop.ts). Validation is unchanged (one eval-mode pass).
 */
import { rdropLoss } from '../ops/rdrop.js';
import type { Batch } from '../data/dataModule.js';
import type { Classifier } from '../train/module.js';

/**
 * Replaces `model`'s training step by R-Drop's with weight `alpha` (the Trainer calls it as before:
 * the trainer's internals do not change). The first pass draws its masks before the second, so the
 * run stays a pure function of its seed; the logged training loss is the R-Drop loss.
 */
export function useRDrop(model: Classifier, alpha: number): void {
  model.trainingStep = (batch: Batch) =>
    rdropLoss(model.forward(batch.X), model.forward(batch.X), batch.y, alpha);
}
