/**
 * The WebAssembly SIMD backend: tensor storage lives in one wasm linear memory and every kernel is
 * AssemblyScript compiled to 128-bit SIMD (src/backend/wasm/assembly/), with a relaxed-SIMD build
 * whose GEMM uses fused multiply-add where the engine supports it. Large GEMMs and dropout masks
 * are split between the main thread and helper threads sharing the memory. Matches the reference
 * backend (src/backend/reference.ts): bit for bit for copies, arithmetic, reductions, random uniform,
 * dropout and SGD; to float32 rounding for matmul, exp/log/tanh and softmax cross-entropy.
 */
import { collapseDims as collapseStrided } from '../strides.js';
import type {
  Backend,
  BinaryOp,
  MatmulEpilogue,
  MemoryInfo,
  RandomDist,
  RandomStream,
  ReduceOp,
  SgdParams,
  StorageId,
  UnaryOp,
} from '../backend.js';
import { SizeClassAllocator } from './allocator.js';
import { kernelBytes, relaxedSimdSupported, unsharedMemoryVariant, type KernelVariant } from './binary.js';
import { MAX_MEMORY_PAGES } from './kernels.generated.js';
import { CMD, CONTROL_BYTES, CTL, FLOAT_OFFSET, type Helper } from './threads.js';

/** Options of createWasmBackend. */
export interface WasmBackendOptions {
  /** Threads that share large kernels, the main thread included (1 or 2; default 1). */
  readonly threads?: number | undefined;
  /** Kernel build: 'auto' (default) picks relaxed SIMD when the engine supports it. */
  readonly variant?: KernelVariant | 'auto' | undefined;
  /**
   * Skip the zeros of a mostly-zero left operand (dropout and ReLU outputs and their gradients) with
   * a sparse × dense product (default true); false always runs the dense GEMM.
   */
  readonly sparse?: boolean | undefined;
}

/** The kernels' exports (pointers are byte offsets into the shared memory). */
interface Kernels {
  heapBase(): number;
  fill(out: number, n: number, value: number): void;
  unary(op: number, x: number, out: number, rank: number, args: number): void;
  binary(op: number, a: number, b: number, out: number, rank: number, args: number): void;
  where(c: number, a: number, b: number, out: number, rank: number, args: number): void;
  reduce(op: number, x: number, out: number, outer: number, reduce: number, inner: number): void;
  argmax(x: number, out: number, rows: number, cols: number): void;
  softmaxCrossEntropy(
    logits: number,
    labels: number,
    losses: number,
    grad: number,
    rows: number,
    cols: number,
  ): void;
  sgdStep(w: number, g: number, v: number, n: number, lr: number, momentum: number, wd: number): void;
  randomUniform(out: number, start: number, end: number, k0: number, k1: number, offset: number): void;
  randomNormal(out: number, n: number, k0: number, k1: number, offset: number): void;
  dropout(
    x: number,
    out: number,
    start: number,
    end: number,
    k0: number,
    k1: number,
    offset: number,
    thr: number,
    scale: number,
    bits: number,
  ): void;
  dropoutMasked(g: number, out: number, start: number, end: number, bits: number, scale: number): void;
  gemm(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    transA: number,
    transB: number,
    i0: number,
    i1: number,
    j0: number,
    j1: number,
    work: number,
    bias: number,
    relu: number,
  ): void;
  gemmWorkspace(rows: number, cols: number, k: number): number;
  sampleDensity(a: number, rows: number, cols: number, step: number): number;
  spmm(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    transA: number,
    transB: number,
    i0: number,
    i1: number,
    work: number,
    bias: number,
    relu: number,
  ): void;
  spmmWorkspace(rows: number, n: number, k: number): number;
}

// Op codes shared with assembly/elementwise.ts.
const UNARY_CODES: Record<UnaryOp, number> = { copy: 0, neg: 1, exp: 2, log: 3, sqrt: 4, abs: 5, tanh: 6 };
const BINARY_CODES: Record<BinaryOp, number> = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  maximum: 4,
  minimum: 5,
  gt: 6,
  ge: 7,
  lt: 8,
  eq: 9,
};

/** GEMMs below this many flops run on one thread: a hand-off costs a few microseconds. */
const PARALLEL_GEMM_FLOPS = 1 << 20;
/**
 * op(A) density (share of nonzeros, estimated from every SPARSE_SAMPLE_STEP-th row) below which a
 * matmul skips A's zeros. Measured on the 2-core Zen 3 dev machine (the dropout MLP's products, 2
 * threads): 1.5–2.3× faster than the dense GEMM at density 0.3, 1.1–1.5× at 0.5, about even at 0.6.
 * The book's dropout MLP starts near 0.25 in its hidden layers (half of the ReLUs fire, dropout keeps
 * half of those) and gets sparser as it trains; Fashion-MNIST images are ~0.5 nonzero.
 */
const SPARSE_DENSITY = 0.55;
const SPARSE_SAMPLE_STEP = 8;
/** Sparse products need this many columns (more than one 24-column register block) and depth. */
const SPARSE_MIN_N = 32;
const SPARSE_MIN_K = 32;
/** Dropout / uniform draws below this many elements run on one thread. */
const PARALLEL_RANDOM_ELEMENTS = 1 << 15;
/** Dropout masks kept for re-use (a forward mask waits for its backward pass; two per layer). */
const MASK_CACHE_ENTRIES = 8;
/** Largest rank a strided kernel accepts after contiguous dimensions are merged. */
const MAX_RANK = 32;

interface Block {
  readonly ptr: number;
  readonly size: number;
}

/** collapseDims, padded to rank 1: the wasm kernels index at least one dimension. */
export function collapseDims(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const c = collapseStrided(shape, strides);
  if (c.shape.length === 0) {
    c.shape.push(1);
    c.strides.forEach((s) => s.push(0));
  }
  return c;
}

/** The WebAssembly SIMD backend; create it with createWasmBackend. */
export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly syncRead = true;
  private f32: Float32Array;
  private i32: Int32Array;
  private readonly allocator: SizeClassAllocator;
  private readonly blocks = new Map<StorageId, Block>();
  private nextId = 1;
  private liveBytes = 0;
  private readonly args: number;
  private readonly ctl: number;
  private readonly ctlF64: Float64Array;
  private readonly workspace: { ptr: number; bytes: number }[] = [];
  private disposed = false;

  /** Use createWasmBackend; this constructor expects an instantiated module on `memory`. */
  constructor(
    private readonly k: Kernels,
    private readonly wasmMemory: WebAssembly.Memory,
    /** Which kernel build runs. */
    readonly variant: KernelVariant,
    /** Whether matmul may take the sparse × dense path (WasmBackendOptions.sparse). */
    readonly sparse = true,
  ) {
    this.f32 = new Float32Array(wasmMemory.buffer);
    this.i32 = new Int32Array(wasmMemory.buffer);
    this.allocator = new SizeClassAllocator(wasmMemory, k.heapBase(), () => this.refreshViews());
    this.args = this.allocator.alloc(5 * MAX_RANK * 4);
    this.ctl = this.allocator.alloc(CONTROL_BYTES);
    // The control block sits below any later growth, so a view made now stays valid.
    this.ctlF64 = new Float64Array(wasmMemory.buffer, this.ctl + FLOAT_OFFSET, 4);
  }

  private helpers: Helper[] = [];

  /** Threads in use, the main thread included. */
  get threads(): number {
    return 1 + this.helpers.length;
  }

  /** @internal Attaches helper threads (createWasmBackend does this). */
  attachHelpers(helpers: Helper[]): void {
    this.helpers = helpers;
  }

  /** @internal Byte offset of the control block helpers serve. */
  get controlBlock(): number {
    return this.ctl;
  }

  /** Bytes of linear memory the allocator has handed out (live plus free-listed); flat in steady state. */
  heapBytes(): number {
    return this.allocator.heapBytes;
  }

  /** Stops helper threads. The backend keeps working single-threaded afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const h of this.helpers) h.dispose();
    this.helpers = [];
  }

  private refreshViews(): void {
    this.f32 = new Float32Array(this.wasmMemory.buffer);
    this.i32 = new Int32Array(this.wasmMemory.buffer);
  }

  private ptr(id: StorageId): number {
    const b = this.blocks.get(id);
    if (b === undefined) throw new Error(`wasm backend: storage ${id} was freed or never allocated`);
    return b.ptr;
  }

  private work(thread: number, bytes: number): number {
    const w = this.workspace[thread];
    if (w !== undefined && w.bytes >= bytes) return w.ptr;
    if (w !== undefined) this.allocator.free(w.ptr, w.bytes);
    const ptr = this.allocator.alloc(bytes);
    this.workspace[thread] = { ptr, bytes };
    return ptr;
  }

  alloc(size: number, zeroed = true): StorageId {
    const bytes = Math.max(1, size) * 4;
    const ptr = this.allocator.alloc(bytes);
    // Reused blocks hold old data: zero them unless the caller overwrites every element anyway.
    if (zeroed) this.f32.fill(0, ptr >>> 2, (ptr >>> 2) + Math.max(1, size));
    const id = this.nextId++;
    this.blocks.set(id, { ptr, size });
    this.liveBytes += size * 4;
    return id;
  }

  free(id: StorageId): void {
    const b = this.blocks.get(id);
    if (b === undefined) return;
    this.blocks.delete(id);
    this.allocator.free(b.ptr, Math.max(1, b.size) * 4);
    this.liveBytes -= b.size * 4;
  }

  write(id: StorageId, data: ArrayLike<number>, offset = 0): void {
    const b = this.blocks.get(id);
    if (b === undefined) throw new Error(`wasm backend: storage ${id} was freed or never allocated`);
    if (offset + data.length > b.size) {
      throw new RangeError(
        `wasm backend: write of ${data.length} at ${offset} overflows storage of ${b.size}`,
      );
    }
    this.f32.set(data, (b.ptr >>> 2) + offset);
  }

  readSync(id: StorageId, size: number): Float32Array {
    const b = this.blocks.get(id);
    if (b === undefined) throw new Error(`wasm backend: storage ${id} was freed or never allocated`);
    // Clipped to the storage, like the reference's subarray; slice also unshares the result.
    const p = b.ptr >>> 2;
    return this.f32.slice(p, p + Math.min(size, b.size));
  }

  read(id: StorageId, size: number): Promise<Float32Array> {
    return Promise.resolve(this.readSync(id, size));
  }

  memory(): MemoryInfo {
    return { buffers: this.blocks.size, bytes: this.liveBytes };
  }

  fill(out: StorageId, size: number, value: number): void {
    this.k.fill(this.ptr(out), size, value);
  }

  /** Writes shape and strides into the argument block; returns the collapsed rank (0 = empty). */
  private writeArgs(outShape: readonly number[], strides: readonly (readonly number[])[]): number {
    if (outShape.some((n) => n === 0)) return 0;
    const c = collapseDims(outShape, strides);
    const rank = c.shape.length;
    if (rank > MAX_RANK) throw new RangeError(`wasm backend: rank ${rank} exceeds ${MAX_RANK}`);
    const base = this.args >>> 2;
    this.i32.set(c.shape, base);
    c.strides.forEach((s, j) => this.i32.set(s, base + (j + 1) * rank));
    return rank;
  }

  unary(
    op: UnaryOp,
    x: StorageId,
    xStrides: readonly number[],
    out: StorageId,
    outShape: readonly number[],
  ): void {
    const rank = this.writeArgs(outShape, [xStrides]);
    if (rank > 0) this.k.unary(UNARY_CODES[op], this.ptr(x), this.ptr(out), rank, this.args);
  }

  binary(
    op: BinaryOp,
    a: StorageId,
    aStrides: readonly number[],
    b: StorageId,
    bStrides: readonly number[],
    out: StorageId,
    outShape: readonly number[],
  ): void {
    const rank = this.writeArgs(outShape, [aStrides, bStrides]);
    if (rank > 0) this.k.binary(BINARY_CODES[op], this.ptr(a), this.ptr(b), this.ptr(out), rank, this.args);
  }

  where(
    cond: StorageId,
    condStrides: readonly number[],
    a: StorageId,
    aStrides: readonly number[],
    b: StorageId,
    bStrides: readonly number[],
    out: StorageId,
    outShape: readonly number[],
  ): void {
    const rank = this.writeArgs(outShape, [condStrides, aStrides, bStrides]);
    if (rank > 0) this.k.where(this.ptr(cond), this.ptr(a), this.ptr(b), this.ptr(out), rank, this.args);
  }

  reduce(op: ReduceOp, x: StorageId, outer: number, reduce: number, inner: number, out: StorageId): void {
    this.k.reduce(op === 'sum' ? 0 : 1, this.ptr(x), this.ptr(out), outer, reduce, inner);
  }

  matmul(
    a: StorageId,
    b: StorageId,
    out: StorageId,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    epilogue?: MatmulEpilogue,
  ): void {
    const pa = this.ptr(a);
    const pb = this.ptr(b);
    const pc = this.ptr(out);
    const bias = epilogue !== undefined && epilogue.bias >= 0 ? this.ptr(epilogue.bias) : 0;
    const relu = epilogue?.relu === true ? 1 : 0;
    const ta = transA ? 1 : 0;
    const tb = transB ? 1 : 0;
    if (this.sparse && n >= SPARSE_MIN_N && k >= SPARSE_MIN_K && m >= SPARSE_SAMPLE_STEP) {
      const density = transA
        ? this.k.sampleDensity(pa, k, m, SPARSE_SAMPLE_STEP)
        : this.k.sampleDensity(pa, m, k, SPARSE_SAMPLE_STEP);
      if (density < SPARSE_DENSITY) {
        this.sparseMatmul(pa, pb, pc, m, n, k, ta, tb, bias, relu);
        return;
      }
    }
    const helper = this.helpers[0];
    if (helper === undefined || 2 * m * n * k < PARALLEL_GEMM_FLOPS || (n < 16 && m < 8)) {
      const w = this.work(0, this.k.gemmWorkspace(m, n, k));
      this.k.gemm(pa, pb, pc, m, n, k, ta, tb, 0, m, 0, n, w, bias, relu);
      return;
    }
    // Cut C into up to four chunks (4-row tiles and 8-column panels stay whole, so every element is
    // computed by the same micro-kernel wherever the cuts fall); both threads take chunks until none
    // is left. Results are identical on 1 and 2 threads.
    const rowCuts = m >= 8 ? (n >= 16 ? 2 : Math.min(4, Math.floor(m / 4))) : 1;
    const colCuts = n >= 16 ? (m >= 8 ? 2 : Math.min(4, Math.floor(n / 8))) : 1;
    const cut = (size: number, parts: number, unit: number, p: number): number =>
      p === parts ? size : Math.ceil((size * p) / parts / unit) * unit;
    const bounds: number[] = [];
    let maxRows = 0;
    let maxCols = 0;
    for (let r = 0; r < rowCuts; r++) {
      const i0 = cut(m, rowCuts, 4, r);
      const i1 = cut(m, rowCuts, 4, r + 1);
      for (let c = 0; c < colCuts; c++) {
        const j0 = cut(n, colCuts, 8, c);
        const j1 = cut(n, colCuts, 8, c + 1);
        if (i1 <= i0 || j1 <= j0) continue;
        bounds.push(i0, i1, j0, j1);
        maxRows = Math.max(maxRows, i1 - i0);
        maxCols = Math.max(maxCols, j1 - j0);
      }
    }
    const bytes = this.k.gemmWorkspace(maxRows, maxCols, k);
    const wMain = this.work(0, bytes);
    const wHelp = this.work(1, bytes);
    this.runChunks(helper, CMD.GEMM, [pa, pb, pc, m, n, k, ta, tb, wHelp, bias, relu], bounds, (b) =>
      this.k.gemm(
        pa,
        pb,
        pc,
        m,
        n,
        k,
        ta,
        tb,
        bounds[b]!,
        bounds[b + 1]!,
        bounds[b + 2]!,
        bounds[b + 3]!,
        wMain,
        bias,
        relu,
      ),
    );
  }

  /**
   * Runs a command in the GEMM argument layout (threads.ts GEMM_ARGS): `args` up to RELU, then the
   * chunk count and `bounds` (i0, i1, j0, j1 per chunk). Both threads take chunks until none is
   * left; `chunk` runs one here, given its offset in `bounds`.
   */
  private runChunks(
    helper: Helper,
    cmd: number,
    args: readonly number[],
    bounds: readonly number[],
    chunk: (b: number) => void,
  ): void {
    const base = this.ctl >>> 2;
    const chunks = bounds.length / 4;
    this.i32[base + CTL.CMD] = cmd;
    this.i32.set([...args, chunks, ...bounds], base + CTL.ARGS);
    Atomics.store(this.i32, base + CTL.NEXT, 0);
    helper.start();
    for (;;) {
      const c = Atomics.add(this.i32, base + CTL.NEXT, 1);
      if (c >= chunks) break;
      chunk(4 * c);
    }
    // Every chunk is taken; wait for the helper's chunk in flight (if it claimed the command at all).
    helper.finish(() => {});
  }

  /**
   * Runs a command split in two: `mine` here while the helper runs its half from `ints` (after
   * CTL.ARGS) and `floats` (the Float64 area); `theirs` runs here instead if the helper has not
   * claimed the command by the time `mine` is done.
   */
  private runHalves(
    helper: Helper,
    cmd: number,
    ints: readonly number[],
    floats: readonly number[],
    mine: () => void,
    theirs: () => void,
  ): void {
    this.i32[(this.ctl >>> 2) + CTL.CMD] = cmd;
    this.i32.set(ints, (this.ctl >>> 2) + CTL.ARGS);
    this.ctlF64.set(floats);
    helper.start();
    mine();
    helper.finish(theirs);
  }

  /**
   * C = op(A)·op(B) skipping op(A)'s zeros (assembly/sparse.ts). Rows of C are cut in two halves
   * both threads take; each compresses the rows of op(A) it takes and packs its own copy of B in its
   * own workspace, so no cache line it writes is then read from the other core.
   */
  private sparseMatmul(
    pa: number,
    pb: number,
    pc: number,
    m: number,
    n: number,
    k: number,
    ta: number,
    tb: number,
    bias: number,
    relu: number,
  ): void {
    const helper = this.helpers[0];
    if (helper === undefined || 2 * m * n * k < PARALLEL_GEMM_FLOPS) {
      const w = this.work(2, this.k.spmmWorkspace(m, n, k));
      this.k.spmm(pa, pb, pc, m, n, k, ta, tb, 0, m, w, bias, relu);
      return;
    }
    // Two halves: each more chunk packs B once more, and four measured slower than two; a helper
    // that is late loses its half to the main thread (finish), as with dropout.
    const chunks = Math.min(2, Math.floor(m / 4));
    const bounds: number[] = [];
    for (let c = 0; c < chunks; c++) {
      bounds.push(Math.round((m * c) / chunks), Math.round((m * (c + 1)) / chunks), 0, n);
    }
    const bytes = this.k.spmmWorkspace(Math.ceil(m / chunks) + 1, n, k);
    const wMain = this.work(2, bytes);
    const wHelp = this.work(3, bytes);
    this.runChunks(helper, CMD.SPMM, [pa, pb, pc, m, n, k, ta, tb, wHelp, bias, relu], bounds, (b) =>
      this.k.spmm(pa, pb, pc, m, n, k, ta, tb, bounds[b]!, bounds[b + 1]!, wMain, bias, relu),
    );
  }

  argmax(x: StorageId, rows: number, cols: number, out: StorageId): void {
    if (cols > 0) this.k.argmax(this.ptr(x), this.ptr(out), rows, cols);
  }

  random(dist: RandomDist, stream: RandomStream, out: StorageId, size: number): void {
    const [k0, k1] = stream.key;
    const po = this.ptr(out);
    if (dist === 'normal') {
      this.k.randomNormal(po, size, k0 >>> 0, k1 >>> 0, stream.offset);
      return;
    }
    const helper = this.helpers[0];
    if (helper === undefined || size < PARALLEL_RANDOM_ELEMENTS) {
      this.k.randomUniform(po, 0, size, k0, k1, stream.offset);
      return;
    }
    // Split on a 16-element boundary (four Philox blocks) so both halves take the SIMD path.
    const mid = Math.ceil(size / 32) * 16;
    this.runHalves(
      helper,
      CMD.UNIFORM,
      [po, mid, size, k0, k1],
      [stream.offset],
      () => this.k.randomUniform(po, 0, mid, k0, k1, stream.offset),
      () => this.k.randomUniform(po, mid, size, k0, k1, stream.offset),
    );
  }

  /**
   * Keep masks of recent dropout calls, one bit per element, by stream and size. A stream names its
   * mask exactly (Philox is a function of key and counter), so when the same stream comes again —
   * the dropout primitive's backward pass re-applies its forward mask to the gradient — the mask is
   * read back instead of re-drawn: a memory-bound pass instead of ten Philox rounds per 4 elements.
   */
  private readonly maskCache = new Map<string, { ptr: number; bytes: number }>();

  dropout(x: StorageId, stream: RandomStream, p: number, out: StorageId, size: number): void {
    const [k0, k1] = stream.key;
    const px = this.ptr(x);
    const po = this.ptr(out);
    // u = k·2^-24 >= p exactly when k >= ceil(p·2^24) (p·2^24 is exact in float64).
    const thr = Math.min(Math.max(Math.ceil(p * 16777216), 0), 16777216);
    const scale = Math.fround(1 / (1 - p));
    const key = `${k0}:${k1}:${stream.offset}:${thr}:${size}`;
    const cached = this.maskCache.get(key);
    const helper = this.helpers[0];
    // Split on a 16-element boundary (four Philox blocks, two mask bytes) so both halves take the
    // SIMD path.
    const mid = Math.ceil(size / 32) * 16;
    const floats = [stream.offset, scale];
    if (cached !== undefined) {
      const masked = (from: number, to: number): void =>
        this.k.dropoutMasked(px, po, from, to, cached.ptr, scale);
      if (helper === undefined || size < PARALLEL_RANDOM_ELEMENTS) masked(0, size);
      else {
        const ints = [px, po, mid, size, cached.ptr];
        this.runHalves(
          helper,
          CMD.DROPMASK,
          ints,
          floats,
          () => masked(0, mid),
          () => masked(mid, size),
        );
      }
      return;
    }
    const bits = this.maskSlot(key, size);
    const draw = (from: number, to: number): void =>
      this.k.dropout(px, po, from, to, k0, k1, stream.offset, thr, scale, bits);
    if (helper === undefined || size < PARALLEL_RANDOM_ELEMENTS) draw(0, size);
    else {
      const ints = [px, po, mid, size, k0, k1, thr, bits];
      this.runHalves(
        helper,
        CMD.DROPOUT,
        ints,
        floats,
        () => draw(0, mid),
        () => draw(mid, size),
      );
    }
  }

  /** A mask buffer for `key` (evicting the oldest of MASK_CACHE_ENTRIES, whose buffer is reused). */
  private maskSlot(key: string, size: number): number {
    const bytes = Math.ceil(size / 16) * 2;
    let slot: { ptr: number; bytes: number } | undefined;
    if (this.maskCache.size >= MASK_CACHE_ENTRIES) {
      const oldest = this.maskCache.keys().next().value as string;
      slot = this.maskCache.get(oldest);
      this.maskCache.delete(oldest);
      if (slot !== undefined && slot.bytes < bytes) {
        this.allocator.free(slot.ptr, slot.bytes);
        slot = undefined;
      }
    }
    slot ??= { ptr: this.allocator.alloc(bytes), bytes };
    this.maskCache.set(key, slot);
    return slot.ptr;
  }

  softmaxCrossEntropy(
    logits: StorageId,
    labels: StorageId,
    rows: number,
    cols: number,
    losses: StorageId,
    grad: StorageId,
  ): void {
    this.k.softmaxCrossEntropy(
      this.ptr(logits),
      this.ptr(labels),
      this.ptr(losses),
      this.ptr(grad),
      rows,
      cols,
    );
  }

  sgdStep(param: StorageId, grad: StorageId, velocity: StorageId, size: number, params: SgdParams): void {
    const pw = this.ptr(param);
    const pg = this.ptr(grad);
    const pv = velocity >= 0 ? this.ptr(velocity) : 0;
    const { lr, momentum, weightDecay } = params;
    const helper = this.helpers[0];
    if (helper === undefined || size < PARALLEL_RANDOM_ELEMENTS) {
      this.k.sgdStep(pw, pg, pv, size, lr, momentum, weightDecay);
      return;
    }
    // Elementwise and independent, so the halves may run on either thread; split at a multiple of 4.
    const mid = Math.ceil(size / 8) * 4;
    const off = mid * 4;
    const rest = [pw + off, pg + off, pv === 0 ? 0 : pv + off, size - mid] as const;
    this.runHalves(
      helper,
      CMD.SGD,
      rest,
      [lr, momentum, weightDecay],
      () => this.k.sgdStep(pw, pg, pv, mid, lr, momentum, weightDecay),
      () => this.k.sgdStep(...rest, lr, momentum, weightDecay),
    );
  }
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Node 20 ships relaxed SIMD behind a V8 flag; node-host.ts turns it on (before compiling). */
async function enableRelaxedSimdInNode(): Promise<void> {
  if (!isNode || relaxedSimdSupported()) return;
  const { enableRelaxedSimd } = await import('./node-host.js');
  enableRelaxedSimd();
}

/** Browsers share wasm memory with workers only when cross-origin isolated (COOP + COEP). */
function browserThreadsAvailable(): boolean {
  return (
    (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true &&
    typeof Worker !== 'undefined' &&
    typeof SharedArrayBuffer !== 'undefined'
  );
}

/**
 * Creates the WebAssembly SIMD backend (name 'wasm'). `threads: 2` starts one helper thread that
 * takes half of every large GEMM and dropout: Node worker_threads, or in browsers a Web Worker when
 * the context is cross-origin isolated (else the backend falls back to one thread; `threads` tells).
 * Call `dispose()` to stop it (it never keeps a Node process alive either way).
 */
export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  let threads = Math.max(1, Math.floor(opts.threads ?? 1));
  if (threads > 2) throw new RangeError(`wasm backend: threads must be 1 or 2, got ${threads}`);
  // A browser context that is not cross-origin isolated has no shared memory: one thread.
  if (threads > 1 && !isNode && !browserThreadsAvailable()) threads = 1;
  let variant = opts.variant ?? 'auto';
  if (variant !== 'simd') await enableRelaxedSimdInNode();
  if (variant === 'auto') variant = relaxedSimdSupported() ? 'relaxed' : 'simd';
  else if (variant === 'relaxed' && !relaxedSimdSupported()) {
    throw new Error('wasm backend: relaxed SIMD is not supported by this engine');
  }
  const shared = threads > 1;
  const bytes = kernelBytes(variant);
  // Single-threaded use takes an unshared memory, which every host can create.
  const module = await WebAssembly.compile(shared ? bytes : unsharedMemoryVariant(bytes));
  const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_MEMORY_PAGES, shared });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const backend = new WasmBackend(
    instance.exports as unknown as Kernels,
    memory,
    variant,
    opts.sparse ?? true,
  );
  if (shared) {
    const { startNodeHelper } = isNode ? await import('./node-host.js') : { startNodeHelper: undefined };
    const start = startNodeHelper ?? (await import('./web-host.js')).startWebHelper;
    backend.attachHelpers([await start(bytes, memory, backend.controlBlock)]);
  }
  return backend;
}
