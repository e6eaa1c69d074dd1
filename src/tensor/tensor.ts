/**
 * Tensor: a float32 N-d array whose storage is owned by a backend. The frontend holds only the
 * storage id and the shape; every computation goes through the primitive table (src/autograd), which
 * records the tape for reverse-mode autograd.
 */
import type { Backend, StorageId } from '../backend/backend.js';
import type { Primitive, PrimitiveAttrs } from '../autograd/primitiveAttrs.js';
import { ArgumentError, DropoutLabError, NumericError, ShapeError, formatShape } from '../errors.js';
import {
  composite,
  disposeSymbol,
  markLifted,
  releaseStorage,
  retainStorage,
  track,
  untrack,
} from './engine.js';
import { broadcastShapes, normalizeAxes, resolveReshape, sizeOf, stridesOf, type Shape } from './shape.js';
import { toInt32Values, type DType } from './dtype.js';
import { isRowMajor, normalizeDim, permuteLayout, sliceRange, splitSizes, type Layout } from './views.js';
import { formatTensor } from './print.js';

/** Node's util.inspect hook, by its registry name so that browser-safe code imports nothing of Node. */
const inspectSymbol: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;

/** One tape entry: which primitive produced a tensor, from which inputs, and what backward needs. */
export interface Node {
  readonly prim: Primitive;
  readonly inputs: readonly Tensor[];
  readonly attrs: PrimitiveAttrs[Primitive];
  /** What backward needs beyond the inputs; freed (emptied) when the graph is released. */
  saved: readonly Tensor[];
  /** True once backward() without retainGraph (or a step sweep) released this node. */
  released: boolean;
}

/** Options of `backward()`. */
export interface BackwardOptions {
  /**
   * Keep the graph's saved intermediates so that backward can run through it again (PyTorch's
   * retain_graph); the last backward through it should omit this so the graph is released.
   */
  retainGraph?: boolean | undefined;
}

/** Runs one primitive and records it on the tape (autograd/apply.ts). */
type Apply = <P extends Primitive>(prim: P, inputs: readonly Tensor[], attrs: PrimitiveAttrs[P]) => Tensor;
/** Backpropagates from a root tensor (autograd/backward.ts). */
type RunBackward = (root: Tensor, gradient: Tensor | undefined, opts: BackwardOptions) => void;

const notInstalled = (): never => {
  throw new DropoutLabError(
    "tensor operations need dropout-lab's autograd, which tensor/creation.ts binds when it loads; " +
      "import from 'dropout-lab', not from a single source file.",
  );
};

// Late binding: tensor/creation.ts fills these two slots with autograd/apply.ts's `apply` and
// autograd/backward.ts's `runBackward` when it loads, so this file imports nothing from autograd/ (but
// types) and the two directories form no import cycle. A call through a module variable costs what a
// call through an imported binding did: nothing is allocated per op.
let apply: Apply = notInstalled;
let runBackward: RunBackward = notInstalled;

/** Binds Tensor's methods to the autograd engine (called once, by tensor/creation.ts). @internal */
export function installAutograd(applyPrimitive: Apply, backward: RunBackward): void {
  apply = applyPrimitive;
  runBackward = backward;
}

/** Allocates storage, turning the engine's RangeError (wasm memory or an ArrayBuffer exhausted) into advice. */
function allocate(backend: Backend, size: number, zeroed: boolean): StorageId {
  try {
    return backend.alloc(size, zeroed);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
    const live = backend.memory();
    throw new DropoutLabError(
      `out of memory on the ${backend.name} backend: ${mb(size * 4)} MB more did not fit beside ` +
        `${live.buffers} live tensors (${mb(live.bytes)} MB). Free what you no longer need (dispose(), ` +
        '`using`, tidy(fn)), read losses with .item() instead of keeping the tensors, or use a smaller batch.',
      { code: 'ERR_OUT_OF_MEMORY', cause: e },
    );
  }
}

/** Reads a strided view synchronously through a contiguous copy, freed once read. */
function readPacked<T>(t: Tensor, read: (packed: Tensor) => T): T {
  const packed = t.packed();
  try {
    return read(packed);
  } finally {
    packed.dispose();
  }
}

/** Throws unless every index is an integer in [0, n) (read where the backend reads synchronously). */
function checkIndices(index: Tensor, n: number, op: string): void {
  if (!index.backend.syncRead) return;
  for (const v of index.dataSync()) {
    if (!Number.isInteger(v) || v < 0 || v >= n) {
      throw new ArgumentError(
        `${op}: index ${v} is out of range for a dim of size ${n}; indices must be integers in 0…${n - 1}.`,
      );
    }
  }
}

/**
 * A matmul operand that is a transposed view of contiguous memory (x.t(), x.transpose(-2, -1)) as its
 * transpose, which is contiguous, with the transpose flag flipped; any other operand as it is.
 */
function storedOperand(x: Tensor, trans: boolean): [Tensor, boolean] {
  if (x.ndim < 2 || x.isContiguous()) return [x, trans];
  const swap = x.shape.map((_, i) => i);
  [swap[x.ndim - 2], swap[x.ndim - 1]] = [x.ndim - 1, x.ndim - 2];
  if (!isRowMajor(permuteLayout(x.layout, swap))) return [x, trans];
  return [x.transpose(-2, -1), !trans];
}

/** Nested JavaScript arrays of numbers, as returned by `toArray()`. */
export type NestedArray = number | NestedArray[];

function nest(data: Float32Array, shape: Shape): NestedArray {
  if (shape.length === 0) return data[0]!;
  const [head, ...rest] = shape;
  const step = sizeOf(rest);
  return Array.from({ length: head! }, (_, i) => nest(data.subarray(i * step, (i + 1) * step), rest));
}

/** A float32 N-d array with reverse-mode autograd; create with `tensor`, `zeros`, `rand`, … */
export class Tensor {
  /** Number of elements. */
  readonly size: number;
  /** Whether gradients flow to this tensor (parameters, or results of ops on such tensors). */
  requiresGrad: boolean;
  /** Accumulated gradient after `backward()` (leaf tensors with requiresGrad only); null until then. */
  grad: Tensor | null = null;
  /** The tape entry that produced this tensor, when recorded. */
  node: Node | null;
  private disposed = false;
  /** float32, or int32 for labels and indices (see ./dtype.ts). */
  private elementType: DType = 'float32';
  /** Element strides and storage offset of a strided view; null when row-major from element 0. */
  private strided: { readonly strides: number[]; readonly offset: number } | null = null;

  /** Wraps existing backend storage; private: tensors come from the creation functions and ops. */
  private constructor(
    readonly backend: Backend,
    readonly id: StorageId,
    readonly shape: Shape,
    node: Node | null = null,
    requiresGrad = node !== null,
  ) {
    this.size = sizeOf(shape);
    this.node = node;
    this.requiresGrad = requiresGrad;
    track(this);
  }

  /** Allocates a zero-filled tensor on a backend (kernel-level; use `zeros` instead). @internal */
  static empty(backend: Backend, shape: Shape): Tensor {
    return new Tensor(backend, allocate(backend, sizeOf(shape), true), [...shape]);
  }

  /** A tensor of another shape sharing this one's storage (same element count, row-major): no copy. @internal */
  view(shape: Shape): Tensor {
    if (!Array.isArray(shape)) {
      throw new ArgumentError(
        `view(shape) takes one array (it shares storage without a tape, for the library's own use); ` +
          `to change a tensor's shape use reshape, e.g. t.reshape(3, 2) or t.reshape([3, 2]).`,
      );
    }
    this.assertAlive();
    retainStorage(this.backend, this.id);
    const t = new Tensor(this.backend, this.id, [...shape]);
    t.elementType = this.elementType;
    return t;
  }

  /** The element type: 'float32' (the default) or 'int32' (labels and indices), as torch.Tensor.dtype. */
  get dtype(): DType {
    return this.elementType;
  }

  /** Marks the element type of a tensor a creation function or a primitive just made. @internal */
  setDType(dtype: DType): this {
    this.elementType = dtype;
    return this;
  }

  /**
   * This tensor as `dtype` (torch.Tensor.to): itself when it already is; int32 → float32 is a copy;
   * float32 → int32 truncates toward zero as torch does, on backends that read synchronously.
   */
  to(dtype: DType): Tensor {
    if (dtype === this.elementType) return this;
    if (dtype === 'float32') {
      const out = this.detach();
      return out.setDType('float32');
    }
    if (dtype !== 'int32') {
      throw new ArgumentError(`to(): dtype must be 'float32' or 'int32', got ${String(dtype)}.`);
    }
    if (!this.backend.syncRead) {
      throw new DropoutLabError(
        `to('int32') truncates on the CPU, and the ${this.backend.name} backend reads asynchronously; ` +
          "create the tensor with { dtype: 'int32' } instead.",
      );
    }
    const out = Tensor.uninitialized(this.backend, this.shape);
    this.backend.write(out.id, toInt32Values(this.dataSync(), 'to(int32)'));
    return out.setDType('int32');
  }
  /** this.to('int32') (torch.Tensor.int). */
  int(): Tensor {
    return this.to('int32');
  }
  /** this.to('float32') (torch.Tensor.float). */
  float(): Tensor {
    return this.to('float32');
  }

  /**
   * A view of `base`'s storage with another layout (permute, expand, narrow, select, slice): no copy.
   * Kernels that need contiguous memory get a copy from apply (src/autograd/apply.ts). @internal
   */
  static viewOf(base: Tensor, layout: Layout): Tensor {
    base.assertAlive();
    retainStorage(base.backend, base.id);
    const t = new Tensor(base.backend, base.id, [...layout.shape]);
    t.elementType = base.elementType;
    if (!isRowMajor(layout)) t.strided = { strides: [...layout.strides], offset: layout.offset };
    return t;
  }

  /** Shape, element strides and storage offset: where each element sits in the storage. */
  get layout(): Layout {
    return { shape: this.shape, strides: this.stride(), offset: this.storageOffset() };
  }

  /** Element strides of each axis (torch.Tensor.stride()): row-major unless this is a strided view. */
  stride(): number[] {
    return this.strided === null ? stridesOf(this.shape) : [...this.strided.strides];
  }

  /** Index of the first element in the storage (torch.Tensor.storage_offset()). */
  storageOffset(): number {
    return this.strided?.offset ?? 0;
  }

  /**
   * True when the elements are row-major from the storage's first element, what every kernel but the
   * strided copy reads (stricter than PyTorch's is_contiguous, which ignores the offset).
   */
  isContiguous(): boolean {
    return this.strided === null;
  }

  /** Allocates a tensor whose contents are unspecified, for a kernel that writes every element. @internal */
  static uninitialized(backend: Backend, shape: Shape): Tensor {
    return new Tensor(backend, allocate(backend, sizeOf(shape), false), [...shape]);
  }

  /** Number of axes. */
  get ndim(): number {
    return this.shape.length;
  }

  /** True once `dispose()` has released the storage. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Releases the storage now (deterministic; also done by `tidy` for tensors created in its scope). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    untrack(this);
    releaseStorage(this.backend, this.id);
  }

  /** `using t = …` disposes the tensor at the end of the block. */
  [disposeSymbol](): void {
    this.dispose();
  }

  /** Throws a clear error when a disposed tensor is used. */
  assertAlive(): void {
    if (this.disposed) {
      const why =
        this.node !== null
          ? 'it carried autograd history, and such tensors are released by the second backward() after ' +
            'they were made; read it with .item()/.data() before then, or keep(t) / t.detach() to hold it longer'
          : 'keep() it, or use it inside the same tidy()';
      throw new DropoutLabError(`tensor of shape ${formatShape(this.shape)} was already disposed; ${why}.`, {
        code: 'ERR_TENSOR_DISPOSED',
      });
    }
  }

  // ---- elementwise arithmetic (broadcasting) ----
  /** this + other (broadcasting). */
  add(other: Tensor | number): Tensor {
    return apply('add', [this, this.lift(other)], {});
  }
  /** this − other (broadcasting). */
  sub(other: Tensor | number): Tensor {
    return apply('sub', [this, this.lift(other)], {});
  }
  /** this · other elementwise (broadcasting). */
  mul(other: Tensor | number): Tensor {
    return apply('mul', [this, this.lift(other)], {});
  }
  /** this / other elementwise (broadcasting). */
  div(other: Tensor | number): Tensor {
    return apply('div', [this, this.lift(other)], {});
  }
  /** −this. */
  neg(): Tensor {
    return apply('neg', [this], {});
  }
  /** e^this. */
  exp(): Tensor {
    return apply('exp', [this], {});
  }
  /** Natural logarithm. */
  log(): Tensor {
    return apply('log', [this], {});
  }
  /** max(this, 0), written as where(this > 0, this, 0) so that ReLU'(0) = 0, as in PyTorch. */
  relu(): Tensor {
    return composite(() => Tensor.where(this.gt(0), this, this.lift(0)));
  }
  /** Elementwise select: cond ≠ 0 ? a : b (broadcasting); cond carries no gradient. */
  static where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
    return apply('where', [cond, a, b], {});
  }

  // ---- comparisons (no gradient) ----
  /** 1 where this > other, else 0. */
  gt(other: Tensor | number): Tensor {
    return apply('compare', [this, this.lift(other)], { op: 'gt' });
  }
  /** 1 where this ≥ other, else 0. */
  ge(other: Tensor | number): Tensor {
    return apply('compare', [this, this.lift(other)], { op: 'ge' });
  }
  /** 1 where this < other, else 0. */
  lt(other: Tensor | number): Tensor {
    return apply('compare', [this, this.lift(other)], { op: 'lt' });
  }
  /** 1 where this = other, else 0. */
  eq(other: Tensor | number): Tensor {
    return apply('compare', [this, this.lift(other)], { op: 'eq' });
  }

  // ---- linear algebra ----
  /**
   * Matrix product with torch.matmul's rules: 2-D·2-D is the matrix product; a 1-D left operand is a
   * row and a 1-D right one a column (that dim removed from the result); otherwise the last two dims
   * multiply and the dims before them broadcast, one bmm over the broadcast batch (a 2-D right
   * operand folds the batch into rows instead: one matmul). `transA`/`transB` transpose the last two
   * dims of an operand without copying.
   */
  matmul(other: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor {
    // A transposed view of contiguous memory is read as it is stored, with the flag flipped: no copy.
    const [self, transA] = storedOperand(this, opts.transA ?? false);
    const [rhs, transB] = storedOperand(other, opts.transB ?? false);
    if (self !== this || rhs !== other) return self.matmul(rhs, { transA, transB });
    if (this.ndim === 2 && other.ndim === 2) return apply('matmul', [this, other], { transA, transB });
    if (this.ndim === 0 || other.ndim === 0) {
      throw new ShapeError(
        `matmul: both operands need at least 1 dim, got ${formatShape(this.shape)} and ${formatShape(other.shape)}; use mul for a scalar.`,
      );
    }
    return composite(() => {
      const a = this.ndim === 1 ? this.unsqueeze(transA ? 1 : 0) : this;
      const b = other.ndim === 1 ? other.unsqueeze(transB ? 0 : 1) : other;
      const [ra, ca] = a.shape.slice(-2) as [number, number];
      const [rb, cb] = b.shape.slice(-2) as [number, number];
      const [m, k] = transA ? [ca, ra] : [ra, ca];
      const [k2, n] = transB ? [cb, rb] : [rb, cb];
      if (k !== k2) {
        throw new ShapeError(
          `matmul: shapes ${formatShape(this.shape)} and ${formatShape(other.shape)} do not align (${k} ≠ ${k2}); ` +
            "the first operand's last dim must match the second's second-to-last.",
        );
      }
      let out: Tensor;
      if (a.ndim === 2 && b.ndim === 2) out = apply('matmul', [a, b], { transA, transB });
      else if (b.ndim === 2 && !transA) {
        const lead = a.shape.slice(0, -2);
        out = apply('matmul', [a.reshape([-1, k]), b], { transA: false, transB }).reshape([...lead, m, n]);
      } else {
        const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul (batch dims)');
        const items = sizeOf(batch);
        // Broadcast batch dims are stride-0 views; the reshape to [items, rows, cols] copies only those.
        const a3 = a.expand([...batch, ra, ca]).reshape([items, ra, ca]);
        const b3 = b.expand([...batch, rb, cb]).reshape([items, rb, cb]);
        out = apply('bmm', [a3, b3], { transA, transB }).reshape([...batch, m, n]);
      }
      if (this.ndim === 1) out = out.squeeze(-2);
      if (other.ndim === 1) out = out.squeeze(-1);
      return out;
    });
  }

  /**
   * Batched matrix product of 3-D tensors [batch, m, k]·[batch, k, n] → [batch, m, n] (torch.bmm);
   * `transA`/`transB` transpose each item's last two axes without copying.
   */
  bmm(other: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor {
    return apply('bmm', [this, other], { transA: opts.transA ?? false, transB: opts.transB ?? false });
  }

  // ---- shape ----
  /** Same data viewed with another shape (one -1 allowed). */
  reshape(...shape: number[] | [readonly number[]]): Tensor {
    const target = Array.isArray(shape[0]) ? [...shape[0]] : (shape as number[]);
    return apply('reshape', [this], { shape: resolveReshape(this.shape, target) });
  }
  /** Broadcasts to a larger shape (NumPy rules; -1 keeps a dim) as a view, like torch.Tensor.expand. */
  expand(...sizes: number[] | [readonly number[]]): Tensor {
    const target = Array.isArray(sizes[0]) ? [...sizes[0]] : (sizes as number[]);
    const lead = target.length - this.ndim;
    const shape = target.map((d, i) => (d === -1 && i >= lead ? this.shape[i - lead]! : d));
    return apply('expand', [this], { shape });
  }
  /** Flattens dims `startDim`…`endDim` (inclusive) into one, like torch.flatten; a view when the layout allows. */
  flatten(startDim = 0, endDim = -1): Tensor {
    if (this.ndim === 0) return this.reshape([1]);
    const start = normalizeDim(startDim, this.ndim, 'flatten');
    const end = normalizeDim(endDim, this.ndim, 'flatten');
    if (end < start) throw new ArgumentError(`flatten: startDim ${startDim} comes after endDim ${endDim}.`);
    return this.reshape([...this.shape.slice(0, start), -1, ...this.shape.slice(end + 1)]);
  }

  // ---- views and indexing (PyTorch's names; the layout arithmetic is in ./views.ts) ----
  /** Reorders all dims (torch.permute): dim a of the result is dim dims[a] of this; a view. */
  permute(...dims: number[] | [readonly number[]]): Tensor {
    const p = (Array.isArray(dims[0]) ? [...dims[0]] : (dims as number[])).map((d) =>
      normalizeDim(d, this.ndim, 'permute'),
    );
    if (p.length !== this.ndim || new Set(p).size !== p.length) {
      throw new ArgumentError(`permute: ${formatShape(p)} is not a permutation of ${this.ndim} dims.`);
    }
    return apply('permute', [this], { perm: p });
  }
  /** Swaps two dims (torch.transpose); a view. For an order of all dims use permute. */
  transpose(dim0: number, dim1: number): Tensor {
    if (typeof dim0 !== 'number' || typeof dim1 !== 'number') {
      throw new ArgumentError(
        'transpose(dim0, dim1) swaps two dims, as in PyTorch; use permute(...dims) to reorder all of them.',
      );
    }
    const p = this.shape.map((_, i) => i);
    const [a, b] = [normalizeDim(dim0, this.ndim, 'transpose'), normalizeDim(dim1, this.ndim, 'transpose')];
    [p[a], p[b]] = [p[b]!, p[a]!];
    return apply('permute', [this], { perm: p });
  }
  /** The matrix transpose of a tensor with at most 2 dims (torch.t); a view. */
  t(): Tensor {
    if (this.ndim > 2) {
      throw new ArgumentError(
        `t() expects at most 2 dims, got ${formatShape(this.shape)}; use transpose(d0, d1).`,
      );
    }
    return this.ndim < 2 ? this : this.transpose(0, 1);
  }
  /** `length` elements of `dim` from `start` (torch.narrow; negative start counts from the end); a view. */
  narrow(dim: number, start: number, length: number): Tensor {
    const d = normalizeDim(dim, this.ndim, 'narrow');
    const n = this.shape[d]!;
    const s = start < 0 ? start + n : start;
    if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > n) {
      throw new ArgumentError(
        `narrow: start ${start} and length ${length} do not fit dim ${d} of size ${n}; need 0 ≤ start and start + length ≤ ${n}.`,
      );
    }
    const ranges = this.shape.map((m, a): [number, number] => (a === d ? [s, s + length] : [0, m]));
    return apply('shrink', [this], { ranges });
  }
  /** Python's x[start:end:step] on one dim (negative bounds count from the end, clamped); a view. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    const d = normalizeDim(dim, this.ndim, 'slice');
    const r = sliceRange(this.shape[d]!, start, end, step);
    const ranges = this.shape.map((m, a): [number, number] => (a === d ? [r.start, r.end] : [0, m]));
    const shrunk = apply('shrink', [this], { ranges });
    if (step === 1) return shrunk;
    return apply('stride', [shrunk], { steps: this.shape.map((_, a) => (a === d ? step : 1)) });
  }
  /** The slice at `index` of `dim`, which is removed (torch.select, Python's x[index]); a view. */
  select(dim: number, index: number): Tensor {
    const d = normalizeDim(dim, this.ndim, 'select');
    const n = this.shape[d]!;
    if (!Number.isInteger(index) || index < -n || index >= n) {
      throw new ArgumentError(
        `select: index ${index} is out of range for dim ${d} of size ${n}; use ${-n}…${n - 1}.`,
      );
    }
    const i = index < 0 ? index + n : index;
    return this.narrow(d, i, 1).squeeze(d);
  }
  /** A size-1 dim inserted at `dim` (torch.unsqueeze; -1 appends); a view. */
  unsqueeze(dim: number): Tensor {
    const d = normalizeDim(dim, this.ndim + 1, 'unsqueeze');
    return this.reshape([...this.shape.slice(0, d), 1, ...this.shape.slice(d)]);
  }
  /** Size-1 dims removed: all of them, or `dim` when given and of size 1 (torch.squeeze); a view. */
  squeeze(dim?: number | readonly number[]): Tensor {
    const dims =
      dim === undefined
        ? this.shape.map((_, a) => a)
        : (typeof dim === 'number' ? [dim] : [...dim]).map((d) => normalizeDim(d, this.ndim, 'squeeze'));
    return this.reshape(this.shape.filter((n, a) => !(n === 1 && dims.includes(a))));
  }
  /**
   * Values picked along `dim` by an integer tensor of indices (torch.gather): out[i][j] =
   * this[i][index[i][j]] for dim 1. index has this tensor's number of dims, no dim larger than this
   * one's but `dim`; the gradient scatter-adds back (repeated indices sum).
   */
  gather(dim: number, index: Tensor): Tensor {
    const d = normalizeDim(dim, this.ndim, 'gather');
    if (index.ndim !== this.ndim || index.shape.some((n, a) => a !== d && n > this.shape[a]!)) {
      throw new ArgumentError(
        `gather: index of shape ${formatShape(index.shape)} does not fit input ${formatShape(this.shape)} along dim ${d}; ` +
          'it needs as many dims and no dim larger than the input but dim itself.',
      );
    }
    checkIndices(index, this.shape[d]!, 'gather');
    return apply('gather', [this, index], { dim: d });
  }
  /** The entries of `dim` listed by a 1-D integer tensor (torch.index_select); a copy. */
  indexSelect(dim: number, index: Tensor): Tensor {
    const d = normalizeDim(dim, this.ndim, 'indexSelect');
    if (index.ndim !== 1) {
      throw new ArgumentError(
        `indexSelect: index must be 1-D, got shape ${formatShape(index.shape)}; flatten it first.`,
      );
    }
    const shape = this.shape.map((n, a) => (a === d ? index.size : n));
    const along = this.shape.map((_, a) => (a === d ? index.size : 1));
    return composite(() => this.gather(d, index.reshape(along).expand(shape)));
  }
  /** Pieces of `splitSize` along `dim` (the last may be smaller), or of the listed sizes (torch.split); views. */
  split(splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
    const d = normalizeDim(dim, this.ndim, 'split');
    let start = 0;
    return splitSizes(this.shape[d]!, splitSizeOrSections).map((n) => {
      const piece = this.narrow(d, start, n);
      start += n;
      return piece;
    });
  }
  /** `chunks` pieces of equal size along `dim` (the last may be smaller; torch.chunk); views. */
  chunk(chunks: number, dim = 0): Tensor[] {
    if (!Number.isInteger(chunks) || chunks < 1) {
      throw new ArgumentError(`chunk: chunks must be a positive integer, got ${chunks}.`);
    }
    const n = this.shape[normalizeDim(dim, this.ndim, 'chunk')]!;
    return this.split(Math.max(1, Math.ceil(n / chunks)), dim);
  }
  /** Concatenates along `dim` (torch.cat): every other dim must match. */
  static cat(tensors: readonly Tensor[], dim = 0): Tensor {
    if (!Array.isArray(tensors) || tensors.length === 0) {
      throw new ArgumentError('cat: expected a non-empty array of tensors, e.g. cat([a, b], 0).');
    }
    return apply('cat', tensors, { dim: normalizeDim(dim, tensors[0]!.ndim, 'cat') });
  }
  /** Stacks equal-shaped tensors along a new `dim` (torch.stack). */
  static stack(tensors: readonly Tensor[], dim = 0): Tensor {
    if (!Array.isArray(tensors) || tensors.length === 0) {
      throw new ArgumentError('stack: expected a non-empty array of tensors, e.g. stack([a, b], 0).');
    }
    const d = normalizeDim(dim, tensors[0]!.ndim + 1, 'stack');
    return composite(() =>
      Tensor.cat(
        tensors.map((t) => t.unsqueeze(d)),
        d,
      ),
    );
  }
  /** Keeps [start, end) of each dim, as a view (tinygrad's shrink; narrow and slice use it). @internal */
  static shrink(x: Tensor, ranges: [number, number][]): Tensor {
    return apply('shrink', [x], { ranges });
  }
  /** Pads each dim with [before, after] zeros (tinygrad's pad, the adjoint of shrink). @internal */
  static pad(x: Tensor, pads: [number, number][]): Tensor {
    return apply('pad', [x], { pads });
  }
  /** A tensor with the same values in contiguous memory: this one when it already is (torch.contiguous). */
  contiguous(): Tensor {
    return this.isContiguous() ? this : apply('contiguous', [this], {});
  }
  /** A copy in fresh contiguous memory that stays on the tape (torch.clone). */
  clone(): Tensor {
    return apply('contiguous', [this], {});
  }
  /** This tensor in contiguous memory, copied without a tape when it is a view (for kernels). @internal */
  packed(): Tensor {
    if (this.isContiguous()) return this;
    this.assertAlive();
    const out = Tensor.uninitialized(this.backend, this.shape).setDType(this.elementType);
    const s = this.strided!;
    this.backend.copyStrided(this.id, s.offset, s.strides, out.id, 0, stridesOf(this.shape), this.shape);
    return out;
  }

  // ---- reductions ----
  /** Sum over `axis` (all axes by default). */
  sum(axis?: number | readonly number[], keepDims = false): Tensor {
    return apply('sum', [this], { axes: normalizeAxes(axis, this.ndim), keepDims });
  }
  /** Mean over `axis` (all axes by default). */
  mean(axis?: number | readonly number[], keepDims = false): Tensor {
    const axes = normalizeAxes(axis, this.ndim);
    const count = axes.reduce((n, a) => n * this.shape[a]!, 1);
    return composite(() => this.sum(axes, keepDims).div(count));
  }
  /**
   * Maximum over `axis` (all axes by default), torch.amax: the gradient is split evenly among ties.
   * `max`/`min` with indices, `argmax`, `amin` and the other everyday ops are in tensor/math.ts.
   */
  amax(axis?: number | readonly number[], keepDims = false): Tensor {
    return apply('max', [this], { axes: normalizeAxes(axis, this.ndim), keepDims });
  }

  // ---- autograd ----
  /** A tensor sharing no tape with this one (a copy of the values without gradient history). */
  detach(): Tensor {
    this.assertAlive();
    if (!this.isContiguous()) return this.packed();
    const out = Tensor.uninitialized(this.backend, this.shape);
    this.backend.unary('copy', this.id, this.strides(), out.id, this.shape);
    return out.setDType(this.elementType);
  }
  /**
   * Backpropagates from this tensor (a scalar, unless `gradient` is given), accumulating into leaves'
   * `.grad`; then frees the graph's saved intermediates unless `{ retainGraph: true }` (PyTorch's
   * semantics: a second backward through a released graph is an error).
   */
  backward(gradient?: Tensor, opts?: BackwardOptions): void;
  /** backward() with options only, e.g. `loss.backward({ retainGraph: true })`. */
  backward(opts: BackwardOptions): void;
  backward(gradientOrOpts?: Tensor | BackwardOptions, maybeOpts: BackwardOptions = {}): void {
    const gradient = gradientOrOpts instanceof Tensor ? gradientOrOpts : undefined;
    const opts =
      gradientOrOpts instanceof Tensor || gradientOrOpts === undefined ? maybeOpts : gradientOrOpts;
    if (gradient === undefined && this.size !== 1) {
      throw new ArgumentError(
        `backward() needs a scalar, but this tensor has shape ${formatShape(this.shape)}; reduce it (e.g. .sum()) or pass a gradient.`,
      );
    }
    runBackward(this, gradient, opts);
  }

  // ---- reading values ----
  /** Copies the values out; works on every backend (the only read on asynchronous ones, e.g. WebGPU). */
  async data(): Promise<Float32Array> {
    this.assertAlive();
    if (!this.isContiguous()) {
      const packed = this.packed();
      try {
        return await packed.backend.read(packed.id, packed.size);
      } finally {
        packed.dispose();
      }
    }
    return this.backend.read(this.id, this.size);
  }
  /** Copies the values out synchronously (CPU backends only). */
  dataSync(): Float32Array {
    this.assertAlive();
    if (!this.backend.syncRead) {
      throw new DropoutLabError(
        `the ${this.backend.name} backend reads asynchronously; use await t.data() or t.array().`,
      );
    }
    if (!this.isContiguous()) return readPacked(this, (t) => t.backend.readSync(t.id, t.size));
    return this.backend.readSync(this.id, this.size);
  }
  /** Nested arrays of the values (CPU backends; use `array()` on any backend). */
  toArray(): NestedArray {
    return nest(this.dataSync(), this.shape);
  }
  /** Nested arrays of the values, on any backend. */
  async array(): Promise<NestedArray> {
    return nest(await this.data(), this.shape);
  }
  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) {
      throw new ArgumentError(
        `item() needs a one-element tensor, got shape ${formatShape(this.shape)}; index or reduce it first.`,
      );
    }
    return this.dataSync()[0]!;
  }
  /** Throws a NumericError when any value is NaN or ±Infinity (naming `what`). */
  assertFinite(what: string): this {
    const values = this.dataSync();
    for (const v of values) {
      if (!Number.isFinite(v))
        throw new NumericError(`${what} contains ${v}; check the inputs or lower the learning rate.`);
    }
    return this;
  }
  /** Row-major contiguous strides of this tensor's shape (a view's own strides are `stride()`). */
  strides(): number[] {
    const s = new Array<number>(this.ndim);
    let acc = 1;
    for (let d = this.ndim - 1; d >= 0; d--) {
      s[d] = acc;
      acc *= this.shape[d]!;
    }
    return s;
  }
  /**
   * The values as PyTorch prints them (`tensor([[1., 2.], [3., 4.]], requiresGrad=true)`),
   * summarised past 1,000 elements; an asynchronous backend's tensor prints its shape instead.
   */
  toString(): string {
    const extras: string[] = [];
    if (this.node !== null) extras.push(`gradFn=<${this.node.prim}>`);
    else if (this.requiresGrad) extras.push('requiresGrad=true');
    if (this.disposed) return formatTensor(null, this.shape, extras, '<disposed>');
    if (!this.backend.syncRead) {
      extras.push(`backend=${this.backend.name}`);
      return formatTensor(null, this.shape, extras, '<await t.array() to read>');
    }
    return formatTensor(this.dataSync(), this.shape, extras, undefined, this.elementType);
  }
  /** What Node's console.log and util.inspect show: the values, not the backend's heap. */
  [inspectSymbol](): string {
    return this.toString();
  }
  /** JSON.stringify(t): the nested values (CPU backends), or the shape where they cannot be read now. */
  toJSON(): NestedArray | { shape: number[]; backend: string } {
    if (this.disposed || !this.backend.syncRead)
      return { shape: [...this.shape], backend: this.backend.name };
    return this.toArray();
  }
  /** Nested arrays of the values (torch.Tensor.tolist; CPU backends, `array()` on any). */
  tolist(): NestedArray {
    return this.toArray();
  }

  private lift(value: Tensor | number): Tensor {
    if (typeof value !== 'number') return value;
    const t = Tensor.empty(this.backend, []);
    this.backend.fill(t.id, 1, value);
    // An integer constant keeps integer arithmetic integer (x.add(1) of an int32 x is int32, as in torch).
    if (this.elementType === 'int32' && Number.isInteger(value)) t.elementType = 'int32';
    // Made for one op: freed with its graph, or at once when no tape records it.
    markLifted(t);
    return t;
  }
}
