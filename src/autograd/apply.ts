/**
 * `apply`: runs one primitive of the table (primitives.ts) and records the tape entry that
 * backward.ts walks. Tensor's methods reach it through a slot that tensor/creation.ts fills.
 */
import { DropoutLabError } from '../errors.js';
import {
  addDependentView,
  adoptGraphTensor,
  consumeLifted,
  isGradEnabled,
  withoutGrad,
} from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Primitive, PrimitiveAttrs } from './primitiveAttrs.js';
import { rules, type Rule } from './primitives.js';

/**
 * Runs primitive `prim` on `inputs`, recording a tape node when gradients are enabled and any input
 * requires them. This is the only way the frontend computes.
 */
export function apply<P extends Primitive>(
  prim: P,
  inputs: readonly Tensor[],
  attrs: PrimitiveAttrs[P],
): Tensor {
  const backend = inputs[0]!.backend;
  for (const t of inputs) {
    t.assertAlive();
    if (t.backend !== backend) {
      throw new DropoutLabError(
        `${prim}: inputs live on different backends (${backend.name} and ${t.backend.name}); create them on one backend.`,
      );
    }
  }
  const rule = rules[prim] as Rule<P>;
  const { out, saved = [] } = withoutGrad(() => rule.forward(inputs, attrs));
  const record = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  // Constants lifted from numbers for this op alone: freed with its graph, or now when none is recorded.
  for (const t of inputs) consumeLifted(t, record);
  if (record) {
    out.node = { prim, inputs, attrs, saved, released: false };
    out.requiresGrad = true;
    adoptGraphTensor(out);
  } else {
    for (const s of saved) s.dispose();
    if (prim === 'reshape') addDependentView(inputs[0]!, out);
  }
  return out;
}
