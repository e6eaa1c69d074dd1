/**
 * Functions that create tensors: from data, constants, ranges and seeded random draws. Loading this
 * module binds Tensor's methods to autograd (installAutograd below): every tensor is made here or by
 * an op on tensors made here, so wherever a tensor exists its ops work, in Node and in any bundle.
 */
import { apply } from '../autograd/apply.js';
import { runBackward } from '../autograd/backward.js';
import type { Backend } from '../backend/backend.js';
import { ArgumentError, ShapeError, formatShape, formatValue } from '../errors.js';
import { defaultGenerator, type Generator } from '../random/generator.js';
import type { RandomStream } from '../random/stream.js';
import { getBackend } from './engine.js';
import { checkDType, toInt32Values, type DType } from './dtype.js';
import { checkOptions, checkShapeArg } from './options.js';
import { sizeOf, type Shape } from './shape.js';
import { Tensor, installAutograd, type NestedArray } from './tensor.js';
import { installMath } from './math.js';

// Late binding (see tensor.ts): tensor.ts cannot import autograd/, which imports it. The call sits in
// a module whose exports every program with tensors uses, so no bundler drops it as unused.
installAutograd(apply, runBackward);
// The everyday math methods (sqrt, pow, max(dim), var, …) on Tensor's prototype; a call, not a bare
// import, because the package declares no side effects and a bundler would drop the import.
installMath();

/** Options shared by the creation functions. */
export interface CreateOptions {
  /** Track gradients for this tensor (a parameter or an input to differentiate). */
  requiresGrad?: boolean | undefined;
  /** Backend to allocate on; defaults to the active one (`setBackend`). */
  backend?: Backend | undefined;
  /** Element type: 'float32' (the default) or 'int32' for labels and indices (values truncated toward zero). */
  dtype?: DType | undefined;
}

/** Options of the random creation functions (float32 draws). */
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
  const dtype = opts.dtype === undefined ? 'float32' : checkDType(opts.dtype, 'tensor creation');
  if (dtype === 'int32' && opts.requiresGrad === true) {
    throw new ArgumentError(
      "only float32 tensors can require gradients (as in PyTorch); drop requiresGrad or use dtype 'float32'.",
    );
  }
  const t = Tensor.uninitialized(opts.backend ?? getBackend(), shape);
  init(t);
  t.requiresGrad = opts.requiresGrad ?? false;
  return t.setDType(dtype);
}

const CREATE_KEYS = ['requiresGrad', 'backend', 'dtype'];
const RANDOM_KEYS = ['requiresGrad', 'backend', 'generator', 'dtype'];
const TENSOR_OPTION_KEYS = new Set(['shape', 'requiresGrad', 'backend', 'dtype']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Checks that `shape` is an array of non-negative integers; quotes what it got otherwise. */
function checkTensorShape(shape: unknown): Shape {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new ArgumentError(
      `tensor(): a shape is an array of non-negative integers such as [2, 3], got ${formatValue(shape)}.`,
    );
  }
  return shape as Shape;
}

/** Reads tensor()'s optional arguments: a shape (TF.js's form) or an options object (ours), never anything else. */
function tensorOptions(second: unknown, third: unknown): CreateOptions & { shape?: Shape } {
  const USAGE = 'pass a shape such as [2, 3] or options such as { shape: [2, 3], requiresGrad: true }';
  if (second === undefined) {
    if (third !== undefined)
      throw new ArgumentError(`tensor(): a third argument needs a shape before it; ${USAGE}.`);
    return {};
  }
  if (Array.isArray(second)) {
    const shape = checkTensorShape(second);
    // TF.js's third argument is a dtype.
    if (third === undefined || third === 'float32') return { shape };
    if (third === 'int32') return { shape, dtype: 'int32' };
    if (!isPlainObject(third) || 'shape' in third) {
      throw new ArgumentError(
        `tensor(): after a shape only 'float32', 'int32' or { requiresGrad, backend, dtype } may follow, got ${formatValue(third)}.`,
      );
    }
    return { ...tensorOptions(third, undefined), shape };
  }
  if (!isPlainObject(second)) throw new ArgumentError(`tensor(): ${USAGE}; got ${formatValue(second)}.`);
  if (third !== undefined) {
    throw new ArgumentError(`tensor(): nothing may follow the options object, got ${formatValue(third)}.`);
  }
  const unknown = Object.keys(second).filter((k) => !TENSOR_OPTION_KEYS.has(k));
  if (unknown.length > 0) {
    throw new ArgumentError(
      `tensor(): unknown option ${unknown.map((k) => `'${k}'`).join(', ')}; the options are shape, requiresGrad, backend and dtype.`,
    );
  }
  if (second['shape'] !== undefined) checkTensorShape(second['shape']);
  return second as CreateOptions & { shape?: Shape };
}

/**
 * A tensor from nested arrays or a flat typed array, like torch.tensor; the shape comes second as in
 * TF.js (`tensor(values, [2, 3])`) or inside the options (`tensor(values, { shape: [2, 3] })`).
 */
export function tensor(
  data: NestedArray | ArrayLike<number>,
  shape: Shape,
  dtypeOrOpts?: DType | CreateOptions,
): Tensor;
/** A tensor from nested arrays or a flat typed array; `shape` in the options reshapes the values. */
export function tensor(
  data: NestedArray | ArrayLike<number>,
  opts?: CreateOptions & { shape?: Shape },
): Tensor;
export function tensor(data: NestedArray | ArrayLike<number>, second?: unknown, third?: unknown): Tensor {
  const opts = tensorOptions(second, third);
  let flat: ArrayLike<number>;
  let shape: Shape;
  if (typeof data === 'number' || Array.isArray(data)) {
    const inferred = inferShape(data as NestedArray);
    const values: number[] = [];
    flattenInto(data as NestedArray, inferred, 0, values);
    flat = values;
    shape = opts.shape ?? inferred;
  } else if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    flat = data;
    shape = opts.shape ?? [data.length];
  } else {
    throw new ArgumentError(
      `tensor(): values must be a number, nested arrays of numbers or a typed array, got ${formatValue(data)}.`,
    );
  }
  if (sizeOf(shape) !== flat.length) {
    throw new ShapeError(`tensor(): ${flat.length} values do not fill shape ${formatShape(shape)}.`);
  }
  const values = opts.dtype === 'int32' ? toInt32Values(flat, 'tensor()') : flat;
  return make(shape, opts, (t) => t.backend.write(t.id, values));
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
  checkShapeArg('full', shape);
  if (typeof value !== 'number') {
    throw new ArgumentError(`full(shape, value): value must be a number, got ${formatValue(value)}.`);
  }
  checkOptions('full', opts, CREATE_KEYS);
  const v = opts.dtype === 'int32' ? toInt32Values([value], 'full()')[0]! : value;
  return make(shape, opts, (t) => t.backend.fill(t.id, t.size, v));
}

/** A tensor of zeros. */
export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor {
  checkShapeArg('zeros', shape, opts);
  return full(shape, 0, opts);
}

/** A tensor of ones. */
export function ones(shape: Shape, opts: CreateOptions = {}): Tensor {
  checkShapeArg('ones', shape, opts);
  return full(shape, 1, opts);
}

/** Values start, start + step, … below end (like torch.arange); `arange(n)` is 0…n−1. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  checkOptions('arange', opts, CREATE_KEYS);
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

/** Random draws are float32: an int32 request is an error rather than truncated noise. */
function floatDraws(opts: CreateOptions, op: string): void {
  if (opts.dtype !== undefined && opts.dtype !== 'float32') {
    throw new ArgumentError(`${op}: draws are float32; convert with .to('int32') if you need integers.`);
  }
}

/** Uniform draws in [0, 1) from the seeded counter-based generator. */
export function rand(shape: Shape, opts: RandomOptions = {}): Tensor {
  checkShapeArg('rand', shape, opts);
  checkOptions('rand', opts, RANDOM_KEYS);
  floatDraws(opts, 'rand');
  const gen = opts.generator ?? defaultGenerator;
  return make(shape, opts, (t) => t.backend.random('uniform', gen.next('uniform', t.size), t.id, t.size));
}

/** The uniforms of a stream already taken from a generator (`rand` = this after `next('uniform', size)`). */
export function randFromStream(shape: Shape, stream: RandomStream, opts: CreateOptions = {}): Tensor {
  floatDraws(opts, 'randFromStream');
  return make(shape, opts, (t) => t.backend.random('uniform', stream, t.id, t.size));
}

/** Standard normal draws (Box–Muller over the counter-based generator). */
export function randn(shape: Shape, opts: RandomOptions = {}): Tensor {
  checkShapeArg('randn', shape, opts);
  checkOptions('randn', opts, RANDOM_KEYS);
  floatDraws(opts, 'randn');
  const gen = opts.generator ?? defaultGenerator;
  return make(shape, opts, (t) => t.backend.random('normal', gen.next('normal', t.size), t.id, t.size));
}

/** 1 with probability `prob`, else 0, elementwise (like torch.bernoulli on a constant). */
export function bernoulli(shape: Shape, prob: number, opts: RandomOptions = {}): Tensor {
  checkShapeArg('bernoulli', shape, typeof prob === 'number' && typeof opts === 'number' ? opts : undefined);
  checkOptions('bernoulli', opts, RANDOM_KEYS);
  if (!(prob >= 0 && prob <= 1)) {
    throw new ArgumentError(`bernoulli: probability must be in [0, 1], got ${formatValue(prob)}.`);
  }
  const u = rand(shape, opts);
  const out = u.lt(prob);
  u.dispose();
  return out;
}
