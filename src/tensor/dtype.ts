/**
 * Element types. float32 is the default, as in PyTorch; int32 marks class labels and indices (torch
 * uses int64; int32 is enough for them). Every backend stores both as float32, which holds every
 * integer up to 2^24 exactly, so an int32 tensor is float32 storage whose values are checked whole
 * numbers in that range and which never carries a gradient.
 */
import { ArgumentError, formatValue } from '../errors.js';
import type { Primitive } from '../autograd/primitiveAttrs.js';

/** The element type of a tensor: 'float32' (the default) or 'int32' (labels and indices). */
export type DType = 'float32' | 'int32';

/** The largest magnitude an int32 tensor holds here: float32 storage represents integers exactly up to 2^24. */
export const INT32_LIMIT = 2 ** 24;

/** The dtype named by an option, or an ArgumentError listing the ones there are. */
export function checkDType(value: unknown, op: string): DType {
  if (value === 'float32' || value === 'int32') return value;
  throw new ArgumentError(`${op}: dtype must be 'float32' or 'int32', got ${formatValue(value)}.`);
}

/** Values converted to int32 as torch does from floats (truncated toward zero), range-checked. */
export function toInt32Values(values: ArrayLike<number>, op: string): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.trunc(values[i]!);
    if (!(Math.abs(v) <= INT32_LIMIT)) {
      throw new ArgumentError(
        `${op}: ${values[i]} does not fit an int32 tensor here (integers up to ±2^24 = ${INT32_LIMIT}, stored as float32).`,
      );
    }
    out[i] = v;
  }
  return out;
}

/** Primitives whose result is int32 when their inputs are: integer arithmetic stays integer (torch's promotion). */
const INT_CLOSED = new Set<Primitive>([
  'add',
  'sub',
  'mul',
  'neg',
  'sum',
  'max',
  'reshape',
  'permute',
  'expand',
  'shrink',
  'stride',
  'pad',
  'contiguous',
  'cat',
  'maxPool2d',
]);

/** The dtype of a primitive's result: int32 only for integer-closed ops on int32 values; division, exp, … give float32. */
export function resultDType(prim: Primitive, inputs: readonly { readonly dtype: DType }[]): DType {
  // gather and where take their values from the first (resp. the two value) inputs, not the index or mask.
  const values = prim === 'gather' ? inputs.slice(0, 1) : prim === 'where' ? inputs.slice(1) : inputs;
  const closed = INT_CLOSED.has(prim) || prim === 'gather' || prim === 'where';
  return closed && values.every((t) => t.dtype === 'int32') ? 'int32' : 'float32';
}
