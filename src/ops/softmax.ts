/** Softmax and log-softmax over an axis: the functional forms of the Tensor methods (tensor/math.ts). */
import type { Tensor } from '../tensor/tensor.js';

// The composition the fused softmax replaces (its reference in the tests).
export { softmaxComposed } from '../tensor/math.js';

/**
 * log softmax(x)_i = x_i − m − log Σ_j exp(x_j − m), m = max_j x_j. The shift m is taken without a
 * tape: its gradient contributions cancel exactly, so recording it would only cost time.
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return x.logSoftmax(axis);
}

/**
 * softmax(x)_i = exp(x_i − m) / Σ_j exp(x_j − m); over the last axis of a contiguous tensor one fused
 * kernel forward and one backward (the `softmax` primitive), otherwise composed.
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  return x.softmax(axis);
}
