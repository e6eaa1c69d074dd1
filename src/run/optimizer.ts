/**
 * The optimiser and learning-rate schedule of a run, from its config: the run layer builds them (as
 * LightningCLI's --optimizer does) so that every registered model trains with either optimiser
 * without knowing of it. SGD is built exactly as the models' own `configureOptimizers` build it.
 */
import { AdamW } from '../optim/adamw.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LrScheduleOptions } from '../optim/schedule.js';
import { sgdFromHparams } from '../optim/sgd.js';
import type { TrainableModule } from '../train/module.js';
import type { RunConfig } from './config.js';

/** The run's optimiser over all of the model's parameters (call after lazy layers are materialised). */
export function runOptimizer(model: TrainableModule, c: RunConfig): Optimizer {
  if (c.optimizer === 'adamw') {
    return new AdamW(model.parameters(), {
      lr: c.lr,
      betas: [c.beta1, c.beta2],
      eps: c.eps,
      weightDecay: c.weightDecay,
    });
  }
  return sgdFromHparams(model.parameters(), c);
}

/** The run's schedule in optimizer steps: warm-up epochs × steps per epoch, then cosine to 0. */
export function runSchedule(c: RunConfig, stepsPerEpoch: number): LrScheduleOptions {
  return c.lrSchedule === 'constant'
    ? { name: 'constant' }
    : { name: 'warmup-cosine', warmupSteps: c.warmupEpochs * stepsPerEpoch };
}
