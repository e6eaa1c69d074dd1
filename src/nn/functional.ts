/** F: the functional forms (torch.nn.functional). */
export { dropout, dropoutLayer, type DropoutOptions } from '../ops/dropout.js';
export {
  alphaDropout,
  broadcastDropout,
  gaussianDropout,
  type NoiseShapeOptions,
} from '../ops/dropoutVariants.js';
export { linear } from '../ops/linear.js';
export {
  adaptiveAvgPool2d,
  avgPool2d,
  conv2d,
  maxPool2d,
  type Size2,
  type WindowOptions,
} from '../ops/conv.js';
export { gelu } from '../ops/gelu.js';
export { scaledDotProductAttention, type AttentionOptions } from '../ops/attention.js';
export { dropBlock, type DropBlockOptions } from '../ops/dropBlock.js';
export { dropPath, type DropPathOptions } from '../ops/dropPath.js';
export {
  crossEntropy,
  accuracy,
  mseLoss,
  nllLoss,
  type CrossEntropyOptions,
  type Reduction,
} from '../ops/loss.js';
export { logSoftmax, softmax } from '../ops/softmax.js';
export { layerNorm } from '../ops/normalization.js';
export { rdropLoss, symmetricKl } from '../ops/rdrop.js';
import type { Tensor } from '../tensor/tensor.js';

/** max(0, x) elementwise, with ReLU'(0) = 0. */
export function relu(x: Tensor): Tensor {
  return x.relu();
}
