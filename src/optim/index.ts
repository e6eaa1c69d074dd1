/** optim: optimisers and learning-rate schedules. */
export { SGD, type SGDOptions } from './sgd.js';
export { AdamW, type AdamWOptions, type AdamWState } from './adamw.js';
export { checkWarmupCosine, warmupCosine, type WarmupCosineOptions } from './schedule.js';
