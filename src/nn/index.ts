/** nn: modules and layers (PyTorch names). */
export { Module, type StateDict, type StateDictEntry } from './module.js';
export {
  Dropout,
  Flatten,
  LazyLinear,
  Linear,
  ReLU,
  Sequential,
  type LayerRandomOptions,
  type LinearOptions,
} from './layers.js';
export { AdaptiveAvgPool2d, AvgPool2d, Conv2d, MaxPool2d, type Conv2dOptions } from './conv.js';
export { GELU, Sigmoid, Tanh } from './activations.js';
export { MultiheadAttention, type AttendOptions, type MultiheadAttentionOptions } from './attention.js';
export { DropBlock2d } from './dropBlock.js';
export { DropPath, type DropPathLayerOptions } from './dropPath.js';
export { AlphaDropout, GaussianDropout, SpatialDropout } from './dropoutVariants.js';
/** torch.nn.Dropout2d: whole channels of [N, C, H, W] dropped together (SpatialDropout's default). */
export { SpatialDropout as Dropout2d } from './dropoutVariants.js';
export { isDropoutModule, predict, type PredictOptions, type Prediction } from './mcDropout.js';
export {
  activationStats,
  activationStatsRecorder,
  hiddenActivations,
  type ActivationStats,
  type ListsHiddenActivations,
} from './activationStats.js';
export { BatchNorm1d, BatchNorm2d, LayerNorm, type BatchNormOptions } from './normalization.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export { CrossEntropyLoss, MSELoss, NLLLoss, type LossOptions } from './losses.js';
export { ModuleDict, ModuleList } from './containers.js';
export { clipGradNorm } from './clipGrad.js';
// nn.init's doc comment is the head of init.ts (a namespace export takes its module's).
export * as init from './init.js';
export { varianceShift, type VarianceShift } from './varianceShift.js';
