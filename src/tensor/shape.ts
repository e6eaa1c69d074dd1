/** Shape arithmetic shared by the frontend: sizes, strides, broadcasting (NumPy rules), axes. */
import { ArgumentError, ShapeError, formatShape } from '../errors.js';

/** A tensor shape: one non-negative integer per axis; [] is a scalar. */
export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major contiguous element strides. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return strides;
}

/** True when two shapes are equal. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The broadcast shape of two shapes under NumPy rules, or a ShapeError naming both. */
export function broadcastShapes(a: Shape, b: Shape, op = 'operation'): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together; ` +
          `make trailing dimensions equal or 1 (reshape one operand).`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Element strides that read a tensor of `shape` as if it had shape `outShape` (0 = broadcast): a
 * contiguous one, or a view with its own `strides` (Tensor.stride()).
 */
export function broadcastStrides(
  shape: Shape,
  outShape: Shape,
  strides: readonly number[] = stridesOf(shape),
): number[] {
  const own = strides;
  const offset = outShape.length - shape.length;
  return outShape.map((d, i) => {
    const j = i - offset;
    if (j < 0 || shape[j] === 1) return 0;
    return own[j]!;
  });
}

/** Normalises axes (negative counts from the end) and checks range; undefined means all axes. */
export function normalizeAxes(axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new ArgumentError(
        `axis ${a} is out of range for a tensor of rank ${rank}; use -${rank}…${rank - 1}.`,
      );
    }
    return a < 0 ? a + rank : a;
  });
  return [...new Set(out)].sort((x, y) => x - y);
}

/** Resolves a reshape target (one -1 allowed) against a size, or throws a ShapeError naming both shapes. */
export function resolveReshape(from: Shape, to: readonly number[]): number[] {
  const size = sizeOf(from);
  // One pass over the target (every view op reshapes; the filter/map chain showed in a step's profile).
  let unknownAt = -1;
  let valid = true;
  let known = 1;
  for (let i = 0; i < to.length; i++) {
    const d = to[i]!;
    if (d === -1) {
      valid &&= unknownAt === -1;
      unknownAt = i;
    } else {
      valid &&= Number.isInteger(d) && d >= 0;
      known *= d;
    }
  }
  if (!valid) {
    throw new ShapeError(
      `reshape: invalid target shape ${formatShape(to)}; use non-negative integers and at most one -1.`,
    );
  }
  const inferred = unknownAt === -1 ? 1 : known === 0 ? 0 : size / known;
  const out = [...to];
  if (unknownAt !== -1) out[unknownAt] = inferred;
  if (known * inferred !== size || !Number.isInteger(inferred)) {
    throw new ShapeError(
      `reshape: cannot view ${formatShape(from)} (${size} elements) as ${formatShape(to)}; the element counts must match.`,
    );
  }
  return out;
}
