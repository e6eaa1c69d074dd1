/** d2l: the book's training scaffolding (Module, Classifier, DataModule, Trainer, ProgressBoard). */
export { Classifier, TrainableModule as Module, type ValidationResult } from './module.js';
export { DataModule, type Batch } from '../data/dataModule.js';
export { Trainer, type EpochMetrics, type FitResult, type StepInfo, type TrainerOptions } from './trainer.js';
export { ProgressBoard, type BoardMetric, type BoardPoint } from './progressBoard.js';
export {
  FashionMNIST,
  FASHION_MNIST_LABELS,
  type FashionMNISTOptions,
  type FashionMnistArrays,
} from '../data/fashionMnist.js';
export { trainStep, type Checkpointer } from './trainer.js';
export type {
  ConfigValue,
  DataPosition,
  OptimizerHparams,
  RunIdentity,
  TrainingCheckpoint,
} from './checkpoint.js';
export {
  checkDropoutSchedule,
  dropRateAt,
  dropoutScheduler,
  type DropMode,
  type DropSchedule,
  type DropoutScheduleConfig,
} from './dropoutSchedule.js';
