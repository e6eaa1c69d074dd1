/**
 * The arithmetic of strided views (tinygrad's movement ops over one buffer): a view is a shape, an
 * element stride per axis and a storage offset, so permuting, expanding, narrowing, striding and most
 * reshapes cost no copy. The primitive table (src/autograd/primitives.ts) runs these on a tensor's
 * layout; the argument checks shared by the Tensor methods (PyTorch's dims and Python's slices) are
 * here too.
 */
import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { sizeOf, type Shape } from './shape.js';

/** Where a tensor's elements sit in its storage: element i = storage[offset + Σ iₐ·strides[a]]. */
export interface Layout {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** A dim in range for a tensor of `rank` (negative counts from the end), or an ArgumentError naming `op`. */
export function normalizeDim(dim: number, rank: number, op: string): number {
  if (!Number.isInteger(dim) || dim < -Math.max(rank, 1) || dim >= Math.max(rank, 1)) {
    throw new ArgumentError(
      `${op}: dim ${dim} is out of range for a tensor with ${rank} dims; use ${-rank}…${rank - 1}.`,
    );
  }
  return dim < 0 ? dim + rank : dim;
}

/** True when a layout reads its elements row-major from storage element 0 (size-1 axes' strides ignored). */
export function isRowMajor(x: Layout): boolean {
  if (sizeOf(x.shape) === 0) return true;
  if (x.offset !== 0) return false;
  let expected = 1;
  for (let a = x.shape.length - 1; a >= 0; a--) {
    if (x.shape[a] !== 1 && x.strides[a] !== expected) return false;
    expected *= x.shape[a]!;
  }
  return true;
}

/** permute: axis a of the view is axis perm[a] of the input. */
export function permuteLayout(x: Layout, perm: readonly number[]): Layout {
  return { shape: perm.map((p) => x.shape[p]!), strides: perm.map((p) => x.strides[p]!), offset: x.offset };
}

/** expand: new leading axes and size-1 axes grown to `shape` read with stride 0 (NumPy broadcasting). */
export function expandLayout(x: Layout, shape: readonly number[]): Layout {
  const fits = (d: number, i: number): boolean => d === shape[i + shape.length - x.shape.length] || d === 1;
  if (
    shape.length < x.shape.length ||
    !x.shape.every(fits) ||
    shape.some((d) => !Number.isInteger(d) || d < 0)
  ) {
    throw new ShapeError(
      `expand: cannot expand ${formatShape(x.shape)} to ${formatShape(shape)}; only size-1 dims grow (cat([x, x, …], dim) repeats the values).`,
    );
  }
  const lead = shape.length - x.shape.length;
  const strides = shape.map((d, i) => {
    if (i < lead) return 0;
    return x.shape[i - lead] === 1 && d !== 1 ? 0 : x.strides[i - lead]!;
  });
  return { shape: [...shape], strides, offset: x.offset };
}

/** shrink: axis a keeps [ranges[a][0], ranges[a][1]) (tinygrad's shrink; the adjoint of pad). */
export function shrinkLayout(x: Layout, ranges: readonly (readonly [number, number])[]): Layout {
  let offset = x.offset;
  const shape = ranges.map(([s, e], a) => {
    offset += s * x.strides[a]!;
    return e - s;
  });
  return { shape, strides: [...x.strides], offset };
}

/** stride: axis a keeps every steps[a]-th element from the first (Python's x[::step]). */
export function strideLayout(x: Layout, steps: readonly number[]): Layout {
  return {
    shape: x.shape.map((n, a) => Math.ceil(n / steps[a]!)),
    strides: x.strides.map((s, a) => s * steps[a]!),
    offset: x.offset,
  };
}

/**
 * Strides that read a view of shape `from` (with `strides`) as `to` without a copy, or null when the
 * elements are not evenly spaced across the merged axes (PyTorch's computeStride): then reshape copies.
 */
export function reshapeStrides(from: Shape, strides: readonly number[], to: Shape): number[] | null {
  if (sizeOf(from) === 0 || from.length === 0) return null;
  const out = new Array<number>(to.length);
  let viewD = to.length - 1;
  let chunkBase = strides[strides.length - 1]!;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = from.length - 1; d >= 0; d--) {
    tensorNumel *= from[d]!;
    if (d === 0 || (from[d - 1] !== 1 && strides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || to[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= to[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = strides[d - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? out : null;
}

/** Python's slice(start, end, step) on an axis of length n, clamped as Python clamps: [start, end) by step. */
export function sliceRange(
  n: number,
  start: number | undefined,
  end: number | undefined,
  step: number,
): { start: number; end: number } {
  if (!Number.isInteger(step) || step < 1) {
    throw new ArgumentError(
      `slice: step must be a positive integer (got ${step}); flip the tensor for a reversed slice.`,
    );
  }
  const clamp = (v: number | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    if (!Number.isInteger(v)) throw new ArgumentError(`slice: bounds must be integers, got ${v}.`);
    return Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  };
  const s = clamp(start, 0);
  return { start: s, end: Math.max(clamp(end, n), s) };
}

/** The shape of cat(tensors, dim): every other dim equal; a ShapeError naming the first mismatch. */
export function catShape(shapes: readonly Shape[], dim: number): number[] {
  const first = shapes[0]!;
  const out = [...first];
  out[dim] = 0;
  shapes.forEach((s, i) => {
    if (s.length !== first.length || s.some((d, a) => a !== dim && d !== first[a])) {
      throw new ShapeError(
        `cat: tensor ${i} has shape ${formatShape(s)} but tensor 0 has ${formatShape(first)}; ` +
          `every dim but ${dim} must match.`,
      );
    }
    out[dim]! += s[dim]!;
  });
  return out;
}

/** The sizes split(splitSizeOrSections) cuts an axis of length n into (PyTorch's rules). */
export function splitSizes(n: number, sizeOrSections: number | readonly number[]): number[] {
  if (typeof sizeOrSections !== 'number') {
    const total = sizeOrSections.reduce((a, b) => a + b, 0);
    if (total !== n || sizeOrSections.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new ArgumentError(
        `split: sections [${sizeOrSections.join(', ')}] must be non-negative integers summing to the dim's size ${n}.`,
      );
    }
    return [...sizeOrSections];
  }
  if (!Number.isInteger(sizeOrSections) || sizeOrSections < 1) {
    throw new ArgumentError(`split: split size must be a positive integer, got ${sizeOrSections}.`);
  }
  const out: number[] = [];
  for (let s = 0; s < n; s += sizeOrSections) out.push(Math.min(sizeOrSections, n - s));
  return out.length === 0 ? [0] : out;
}
