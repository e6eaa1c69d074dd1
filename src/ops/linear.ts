/** The affine map of a Linear layer, y = x·Wᵀ + b (PyTorch's weight layout [out, in]), optionally + ReLU. */
import { apply } from '../autograd/apply.js';
import type { Tensor } from '../tensor/tensor.js';

/** y = x·Wᵀ + b, fused into one kernel with the optional ReLU: relu(x·Wᵀ + b). */
export function linear(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: { relu?: boolean } = {},
): Tensor {
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return apply('linear', inputs, { relu: opts.relu ?? false });
}

/** The same map composed from primitives (matmul, broadcast add, relu): the fused kernel's reference. */
export function linearComposed(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: { relu?: boolean } = {},
): Tensor {
  let y = x.matmul(weight, { transB: true });
  if (bias) y = y.add(bias);
  return opts.relu ? y.relu() : y;
}
