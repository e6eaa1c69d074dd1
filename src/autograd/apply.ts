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
import { resultDType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Primitive, PrimitiveAttrs } from './primitiveAttrs.js';
import { rules, type Rule } from './primitives.js';

/** Primitives whose output may share its input's storage (a view). */
const VIEWS = new Set<Primitive>(['reshape', 'permute', 'expand', 'shrink', 'stride']);
/** Primitives whose forward reads any layout itself (views, and the strided copies). */
const READS_LAYOUTS = new Set<Primitive>([...VIEWS, 'contiguous', 'cat', 'pad']);

/** Primitives whose kernels read any strides (the strided elementwise kernels), though not an offset. */
const READS_STRIDES = new Set<Primitive>([
  'add',
  'sub',
  'mul',
  'div',
  'neg',
  'exp',
  'log',
  'where',
  'compare',
  'gelu',
]);

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
  // Kernels read contiguous storage: a view input is copied for them, unless the rule reads layouts.
  const packed = READS_LAYOUTS.has(prim)
    ? inputs
    : inputs.map((t) => (READS_STRIDES.has(prim) && t.storageOffset() === 0 ? t : t.packed()));
  const { out, saved = [] } = withoutGrad(() => rule.forward(packed, attrs));
  packed.forEach((t, i) => t !== inputs[i] && t.dispose());
  out.setDType(resultDType(prim, inputs));
  const record = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  // Constants lifted from numbers for this op alone: freed with its graph, or now when none is recorded.
  for (const t of inputs) consumeLifted(t, record);
  if (record) {
    out.node = { prim, inputs, attrs, saved, released: false };
    out.requiresGrad = true;
    adoptGraphTensor(out);
  } else {
    for (const s of saved) s.dispose();
    if (VIEWS.has(prim) && out.id === inputs[0]!.id) addDependentView(inputs[0]!, out);
  }
  return out;
}
