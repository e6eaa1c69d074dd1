/** Functions that create tensors: from data, constants, ranges and seeded random draws. */
import type { Backend } from '../backend/backend.js';
import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { defaultGenerator, type Generator } from '../random/generator.js';
import { getBackend } from './engine.js';
import { sizeOf, type Shape } from './shape.js';
import { Tensor, type NestedArray } from './tensor.js';

/** Options shared by the creation functions. */
export interface CreateOptions {
  /** Track gradients for this tensor (a parameter or an input to differentiate). */
  requiresGrad?: boolean | undefined;
  /** Backend to allocate on; defaults to the active one (`setBackend`). */
  backend?: Backend | undefined;
}

/** Options of the random creation functions. */
export interface RandomOptions extends CreateOptions {
  /** Generator to draw from; defaults to the global one seeded by `manualSeed`. */
  generator?: Generator | undefined;
}

function checkShape(shape: Shape): void {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(`invalid shape ${formatShape(shape)}; dimensions must be non-negative integers.`);
  }
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0]!;
  }
  return shape;
}

function flattenInto(data: NestedArray, shape: Shape, depth: number, out: number[]): void {
  if (depth === shape.length) {
    if (typeof data !== 'number')
      throw new ShapeError('tensor(): ragged nested array; every row must have the same length.');
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new ShapeError('tensor(): ragged nested array; every row must have the same length.');
  }
  for (const item of data) flattenInto(item, shape, depth + 1, out);
}

function make(shape: Shape, opts: CreateOptions, init: (t: Tensor) => void): Tensor {
  checkShape(shape);
  // Every creation function writes all elements, so zero-filling first would be wasted work.
  const t = Tensor.uninitialized(opts.backend ?? getBackend(), shape);
  init(t);
  t.requiresGrad = opts.requiresGrad ?? false;
  return t;
}

/** A tensor from nested arrays or a flat typed array (then `shape` is required), like torch.tensor. */
export function tensor(
  data: NestedArray | ArrayLike<number>,
  opts: CreateOptions & { shape?: Shape } = {},
): Tensor {
  let flat: ArrayLike<number>;
  let shape: Shape;
  if (typeof data === 'number' || Array.isArray(data)) {
    const inferred = inferShape(data as NestedArray);
    const values: number[] = [];
    flattenInto(data as NestedArray, inferred, 0, values);
    flat = values;
    shape = opts.shape ?? inferred;
  } else {
    flat = data;
    shape = opts.shape ?? [data.length];
  }
  if (sizeOf(shape) !== flat.length) {
    throw new ShapeError(`tensor(): ${flat.length} values do not fill shape ${formatShape(shape)}.`);
  }
  return make(shape, opts, (t) => t.backend.write(t.id, flat));
}

/**
 * A tensor of `shape` whose row r is row `indices[r]` of `source` (rows of `rowLength` values): a
 * minibatch gathered from a dataset. CPU backends receive each row straight into tensor storage
 * (one copy); others get one upload of the gathered rows.
 */
export function gatherRows(
  source: Float32Array,
  indices: ArrayLike<number>,
  rowLength: number,
  shape: Shape,
  opts: CreateOptions = {},
): Tensor {
  if (sizeOf(shape) !== indices.length * rowLength) {
    throw new ShapeError(
      `gatherRows(): ${indices.length} rows of ${rowLength} do not fill shape ${formatShape(shape)}.`,
    );
  }
  return make(shape, opts, (t) => {
    const rowOf = (r: number): Float32Array => {
      const i = indices[r]!;
      if (!Number.isInteger(i) || i < 0 || (i + 1) * rowLength > source.length) {
        throw new RangeError(
          `gatherRows(): row index ${i} is outside the source's ${source.length / rowLength} rows.`,
        );
      }
      return source.subarray(i * rowLength, (i + 1) * rowLength);
    };
    if (t.backend.syncRead) {
      for (let r = 0; r < indices.length; r++) t.backend.write(t.id, rowOf(r), r * rowLength);
      return;
    }
    const flat = new Float32Array(indices.length * rowLength);
    for (let r = 0; r < indices.length; r++) flat.set(rowOf(r), r * rowLength);
    t.backend.write(t.id, flat);
  });
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  return make(shape, opts, (t) => t.backend.fill(t.id, t.size, value));
}

/** A tensor of zeros. */
export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}

/** A tensor of ones. */
export function ones(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** Values start, start + step, … below end (like torch.arange); `arange(n)` is 0…n−1. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  if (step === 0 || !Number.isFinite(step) || !Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new ArgumentError(`arange(${lo}, ${hi}, ${step}): bounds must be finite and step non-zero.`);
  }
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  return tensor(
    Array.from({ length: n }, (_, i) => lo + i * step),
    { ...opts, shape: [n] },
  );
}

/** Uniform draws in [0, 1) from the seeded counter-based generator. */
export function rand(shape: Shape, opts: RandomOptions = {}): Tensor {
  const gen = opts.generator ?? defaultGenerator;
  return make(shape, opts, (t) => t.backend.random('uniform', gen.next('uniform', t.size), t.id, t.size));
}

/** Standard normal draws (Box–Muller over the counter-based generator). */
export function randn(shape: Shape, opts: RandomOptions = {}): Tensor {
  const gen = opts.generator ?? defaultGenerator;
  return make(shape, opts, (t) => t.backend.random('normal', gen.next('normal', t.size), t.id, t.size));
}

/** 1 with probability `prob`, else 0, elementwise (like torch.bernoulli on a constant). */
export function bernoulli(shape: Shape, prob: number, opts: RandomOptions = {}): Tensor {
  if (!(prob >= 0 && prob <= 1)) {
    throw new ArgumentError(`bernoulli: probability must be in [0, 1], got ${prob}.`);
  }
  const u = rand(shape, opts);
  const out = u.lt(prob);
  u.dispose();
  return out;
}
