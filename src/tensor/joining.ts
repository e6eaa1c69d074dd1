/** torch.cat and torch.stack as functions (the same as Tensor.cat and Tensor.stack). */
import { Tensor } from './tensor.js';

/** Concatenates tensors along `dim` (torch.cat): every other dim must match; views are read in place. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  return Tensor.cat(tensors, dim);
}

/** Stacks equal-shaped tensors along a new `dim` (torch.stack). */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  return Tensor.stack(tensors, dim);
}
