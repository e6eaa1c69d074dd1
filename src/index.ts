/**
 * dropout-lab: a tensor + autograd engine, inverted dropout done right, and the dropout MLPs of
 * d2l's "Dropout" section. Browser-safe entry point; Node-only helpers (data files) are in
 * `dropout-lab/node`.
 */
export { Tensor, type NestedArray } from './tensor/tensor.js';
export type { Disposable } from './tensor/engine.js';
export {
  arange,
  bernoulli,
  full,
  ones,
  rand,
  randn,
  tensor,
  zeros,
  type CreateOptions,
  type RandomOptions,
  gatherRows,
} from './tensor/creation.js';
export { cat, stack } from './tensor/joining.js';
export { getBackend, keep, noGrad, setBackend, tidy, isGradEnabled } from './tensor/engine.js';
export { where, type MinMaxResult, type VarOptions } from './tensor/math.js';
export type { Shape } from './tensor/shape.js';
export type { DType } from './tensor/dtype.js';
export type { MemoryInfo } from './backend/backend.js';
export { ReferenceBackend } from './backend/reference.js';
export {
  BACKEND_NAMES,
  createBackend,
  disposeBackend,
  type BackendName,
  type CreateBackendOptions,
} from './backend/select.js';
export { createBestBackend, type ChosenBackend, type CreateBestBackendOptions } from './backend/auto.js';
export { Generator, defaultGenerator, manualSeed, type GeneratorState } from './random/generator.js';
export { randperm } from './random/randperm.js';
export { checkDropoutP, dropout, dropoutLayer, type DropoutOptions } from './ops/dropout.js';
export type { NoiseShapeOptions } from './ops/dropoutVariants.js';
export type { BackwardOptions } from './tensor/tensor.js';
export {
  alphaDropout,
  alphaDropoutCoefficients,
  broadcastDropout,
  gaussianDropout,
  SELU_ALPHA,
  SELU_SCALE,
} from './ops/dropoutVariants.js';
export { applyMaxNorm } from './ops/maxNorm.js';
export { crossEntropy, accuracy } from './ops/loss.js';
export { softmax, logSoftmax } from './ops/softmax.js';
export { gradcheck, type GradcheckResult } from './autograd/gradcheck.js';
export { primitiveNames } from './autograd/primitives.js';
export type { Primitive } from './autograd/primitiveAttrs.js';
export * as nn from './nn/index.js';
export { loadSafetensors, saveSafetensors, type SafetensorsContents } from './nn/safetensors.js';
export * as F from './nn/functional.js';
export * as optim from './optim/index.js';
export * as d2l from './train/index.js';
export {
  DropoutMLP,
  DropoutMLPScratch,
  MLP,
  BOOK_HPARAMS,
  type DropoutMLPConfig,
  type ResolvedDropoutMLPConfig,
} from './models/dropoutMlp.js';
export {
  DataLoader,
  TensorDataset,
  type DataLoaderOptions,
  type HostColumn,
  type TensorBatch,
} from './data/dataLoader.js';
export {
  ArgumentError,
  DataError,
  DropoutLabError,
  InterruptedError,
  NumericError,
  ShapeError,
  type DropoutLabErrorOptions,
  type ErrorCode,
  type ErrorName,
} from './errors.js';
