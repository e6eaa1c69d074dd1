/**
 * Tensor: a float32 N-d array whose storage is owned by a backend. The frontend holds only the
 * storage id and the shape; every computation goes through the primitive table (src/autograd), which
 * records the tape for reverse-mode autograd.
 */
import type { Backend, StorageId } from '../backend/backend.js';
import type { Primitive, PrimitiveAttrs } from '../autograd/primitiveAttrs.js';
import { ArgumentError, DropoutLabError, NumericError, formatShape } from '../errors.js';
import {
  composite,
  disposeSymbol,
  markLifted,
  releaseStorage,
  retainStorage,
  track,
  untrack,
} from './engine.js';
import { formatTensor } from './print.js';
import { normalizeAxes, resolveReshape, sizeOf, type Shape } from './shape.js';

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
    return new Tensor(this.backend, this.id, [...shape]);
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
  /** Matrix product of 2-D tensors; `transA`/`transB` multiply by a transposed operand without copying. */
  matmul(other: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor {
    return apply('matmul', [this, other], { transA: opts.transA ?? false, transB: opts.transB ?? false });
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
  /** Permutes axes; with no argument reverses them (the matrix transpose for 2-D). */
  transpose(perm?: readonly number[]): Tensor {
    const p = perm ?? this.shape.map((_, i) => this.ndim - 1 - i);
    if (p.length !== this.ndim || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
      throw new ArgumentError(`transpose: ${formatShape(p)} is not a permutation of ${this.ndim} axes.`);
    }
    return apply('permute', [this], { perm: [...p] });
  }
  /** Broadcasts to a larger shape (NumPy rules), like torch.Tensor.expand. */
  expand(shape: Shape): Tensor {
    return apply('expand', [this], { shape: [...shape] });
  }
  /** Flattens all axes from `startDim` on into one (like torch.flatten). */
  flatten(startDim = 0): Tensor {
    const keep = this.shape.slice(0, startDim);
    return this.reshape([...keep, -1]);
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
    const out = Tensor.uninitialized(this.backend, this.shape);
    this.backend.unary('copy', this.id, this.strides(), out.id, this.shape);
    return out;
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
  /** Row-major contiguous strides of this tensor. */
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
    return formatTensor(this.dataSync(), this.shape, extras);
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
    // Made for one op: freed with its graph, or at once when no tape records it.
    markLifted(t);
    return t;
  }
}
