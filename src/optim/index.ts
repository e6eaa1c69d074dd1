/** optim: optimisers and learning-rate schedules. */
export { SGD, type SGDOptions, type SGDParamGroup, type SGDParamGroupInput } from './sgd.js';
export { AdamW, type AdamWOptions, type AdamWParamGroup, type AdamWParamGroupInput } from './adamw.js';
export { Adam, type AdamOptions, type ParamGroup, type ParamGroupInput } from './adam.js';
export { CosineAnnealingLR, LRScheduler, LinearLR, SequentialLR, StepLR } from './lrScheduler.js';
export type {
  AdamHparams,
  AdamWHparams,
  Optimizer,
  OptimizerHparams,
  OptimizerState,
  SGDHparams,
} from './optimizer.js';
export {
  checkWarmupCosine,
  warmupCosine,
  type LrScheduleOptions,
  type LrScheduleState,
  type WarmupCosineOptions,
} from './schedule.js';
