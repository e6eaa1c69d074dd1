/** Softmax and log-softmax, composed from primitives with the max-shift that keeps exp from overflowing. */
import { noGrad } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * log softmax(x)_i = x_i − m − log Σ_j exp(x_j − m), m = max_j x_j. The shift m is taken without a
 * tape: its gradient contributions cancel exactly, so recording it would only cost time.
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const m = noGrad(() => x.max(axis, true));
  const shifted = x.sub(m);
  return shifted.sub(shifted.exp().sum(axis, true).log());
}

/** softmax(x)_i = exp(x_i − m) / Σ_j exp(x_j − m). */
export function softmax(x: Tensor, axis = -1): Tensor {
  const m = noGrad(() => x.max(axis, true));
  const e = x.sub(m).exp();
  return e.div(e.sum(axis, true));
}
