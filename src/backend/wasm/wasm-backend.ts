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
import {
  kernelBytes,
  kernelBytesSync,
  relaxedSimdSupported,
  unsharedMemoryVariant,
  type KernelVariant,
} from './binary.js';
import { MAX_MEMORY_PAGES } from './kernels.generated.js';
import { PathChooser } from './path-chooser.js';
import {
  boundsWord,
  CMD,
  controlBytes,
  CTL,
  FLOAT_OFFSET,
  MAX_CHUNKS,
  WORK_TABLE,
  type ThreadPool,
} from './threads.js';

/** Options of createWasmBackend. */
export interface WasmBackendOptions {
  /** Threads that share large kernels, the main thread included (1 or more; default 1). */
  readonly threads?: number | undefined;
  /** Kernel build: 'auto' (default) picks relaxed SIMD when the engine supports it. */
  readonly variant?: KernelVariant | 'auto' | undefined;
  /**
   * Skip the zeros of a mostly-zero left operand (dropout and ReLU outputs and their gradients) with
   * a sparse × dense product: 'auto' (default) times it against the dense GEMM per shape and
   * density band on this machine and keeps the faster; true always takes it below density 0.65;
   * false always runs the dense GEMM. Results are bit-identical either way.
   */
  readonly sparse?: boolean | 'auto' | undefined;
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
 * op(A) density (share of nonzeros, estimated from every SPARSE_SAMPLE_STEP-th row) from which a
 * matmul never tries to skip A's zeros. Below it the backend times both paths per shape and density
 * band and keeps the faster (path-chooser.ts). On the 2-core Zen 3 dev machine the sparse path was
 * 1.5–2.3× faster than the dense GEMM at density 0.3, 1.1–1.5× at 0.5 and about even at 0.6; on an
 * Intel Xeon the dense GEMM won at 0.5. The book's dropout MLP starts near 0.25 in its hidden layers
 * and gets sparser as it trains; Fashion-MNIST images are ~0.5 nonzero.
 */
const SPARSE_MAX_DENSITY = 0.65;
const SPARSE_SAMPLE_STEP = 8;
/** Sparse products need this many columns (more than one 24-column register block) and depth. */
const SPARSE_MIN_N = 32;
const SPARSE_MIN_K = 32;
/** Dropout / uniform draws below this many elements run on one thread. */
const PARALLEL_RANDOM_ELEMENTS = 1 << 15;
/** Dropout masks kept for re-use (a forward mask waits for its backward pass; two per layer). */
const MASK_CACHE_ENTRIES = 8;
/** Most threads one backend runs (the control block's chunk tag has room for far more). */
export const MAX_THREADS = 256;
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
  private readonly chunkCapacity: number;
  private readonly workspace: { ptr: number; bytes: number }[] = [];
  private disposed = false;

  /** Use createWasmBackend; this constructor expects an instantiated module on `memory`. */
  constructor(
    private readonly k: Kernels,
    private readonly wasmMemory: WebAssembly.Memory,
    /** Which kernel build runs. */
    readonly variant: KernelVariant,
    /** Whether matmul may take the sparse × dense path (WasmBackendOptions.sparse). */
    readonly sparse: boolean | 'auto' = 'auto',
    /** Threads the control block is laid out for (helpers attached later must fit). */
    private readonly maxThreads = 1,
  ) {
    this.f32 = new Float32Array(wasmMemory.buffer);
    this.i32 = new Int32Array(wasmMemory.buffer);
    this.allocator = new SizeClassAllocator(wasmMemory, k.heapBase(), () => this.refreshViews());
    this.args = this.allocator.alloc(5 * MAX_RANK * 4);
    // A GEMM cuts about 2 chunks per thread (at most 2T + √(2T) + 1), the other commands at most T.
    this.chunkCapacity = Math.min(MAX_CHUNKS, 3 * maxThreads + 8);
    this.ctl = this.allocator.alloc(controlBytes(maxThreads, this.chunkCapacity));
    // The control block sits below any later growth, so a view made now stays valid.
    this.ctlF64 = new Float64Array(wasmMemory.buffer, this.ctl + FLOAT_OFFSET, 4);
  }

  private pool: ThreadPool | undefined;
  /** Measured choice between the sparse and the dense path (sparse: 'auto'). */
  readonly chooser = new PathChooser();

  /** Threads in use, the main thread included. */
  get threads(): number {
    return 1 + (this.pool?.helpers ?? 0);
  }

  /** @internal Attaches helper threads serving the control block (createWasmBackend does this). */
  attachHelpers(pool: ThreadPool): void {
    if (pool.helpers + 1 > this.maxThreads) throw new RangeError('wasm backend: more helpers than laid out');
    this.pool = pool.helpers > 0 ? pool : undefined;
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
    this.pool?.dispose();
    this.pool = undefined;
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
    if (this.sparse !== false && n >= SPARSE_MIN_N && k >= SPARSE_MIN_K && m >= SPARSE_SAMPLE_STEP) {
      const density = transA
        ? this.k.sampleDensity(pa, k, m, SPARSE_SAMPLE_STEP)
        : this.k.sampleDensity(pa, m, k, SPARSE_SAMPLE_STEP);
      if (density < SPARSE_MAX_DENSITY) {
        const run = (sparse: boolean): void =>
          sparse
            ? this.sparseMatmul(pa, pb, pc, m, n, k, ta, tb, bias, relu)
            : this.denseMatmul(pa, pb, pc, m, n, k, ta, tb, bias, relu);
        if (this.sparse === true) run(true);
        else this.chooser.run(`${m}x${n}x${k}${ta}${tb}`, density, run);
        return;
      }
    }
    this.denseMatmul(pa, pb, pc, m, n, k, ta, tb, bias, relu);
  }

  /** C = op(A)·op(B) (+ bias, ReLU) with the dense GEMM, cut in chunks for all threads. */
  private denseMatmul(
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
    if (this.pool === undefined || 2 * m * n * k < PARALLEL_GEMM_FLOPS || (n < 16 && m < 8)) {
      const w = this.work(0, this.k.gemmWorkspace(m, n, k));
      this.k.gemm(pa, pb, pc, m, n, k, ta, tb, 0, m, 0, n, w, bias, relu);
      return;
    }
    // Cut C into about two chunks per thread (4-row tiles and 8-column panels stay whole, so every
    // element is computed by the same micro-kernel wherever the cuts fall); all threads take chunks
    // until none is left. Results are identical for every thread count.
    const target = Math.min(2 * this.threads, MAX_CHUNKS);
    const fit = (size: number, unit: number, want: number): number =>
      Math.max(1, Math.min(Math.floor(size / unit), want));
    let rowCuts = 1;
    let colCuts = 1;
    if (m >= 8 && n >= 16) {
      rowCuts = fit(m, 4, Math.round(Math.sqrt(target)));
      colCuts = fit(n, 8, Math.ceil(target / rowCuts));
    } else if (m >= 8) rowCuts = fit(m, 4, target);
    else colCuts = fit(n, 8, target);
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
    const w = this.workspaces(0, this.k.gemmWorkspace(maxRows, maxCols, k));
    this.runChunks(CMD.GEMM, [pa, pb, pc, m, n, k, ta, tb, bias, relu], [], bounds, (b) =>
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
        w,
        bias,
        relu,
      ),
    );
  }

  /**
   * Workspaces of `bytes` for every thread in slot family `family` (0: GEMM, 1: sparse product),
   * written into the control block's table; returns the main thread's.
   */
  private workspaces(family: number, bytes: number): number {
    const table = (this.ctl >>> 2) + WORK_TABLE;
    const ptrs: number[] = [];
    // work() may grow the memory (and refresh this.i32), so allocate first, then write the table.
    for (let t = 0; t < this.threads; t++) ptrs.push(this.work(2 * t + family, bytes));
    this.i32.set(ptrs, table);
    return ptrs[0]!;
  }

  /**
   * Runs a parallel command (threads.ts): `ints` after CTL.ARGS, `floats` in the Float64 area and
   * `bounds` (i0, i1, j0, j1 per chunk); all threads take chunks until none is left and `chunk`
   * runs one here, given its offset in `bounds`.
   */
  private runChunks(
    cmd: number,
    ints: readonly number[],
    floats: readonly number[],
    bounds: readonly number[],
    chunk: (b: number) => void,
  ): void {
    const pool = this.pool!;
    if (bounds.length / 4 > this.chunkCapacity) {
      throw new RangeError(`wasm backend: ${bounds.length / 4} chunks exceed ${this.chunkCapacity}`);
    }
    const base = this.ctl >>> 2;
    this.i32[base + CTL.CMD] = cmd;
    this.i32.set(ints, base + CTL.ARGS);
    this.ctlF64.set(floats);
    this.i32.set(bounds, base + boundsWord(this.threads));
    pool.run(bounds.length / 4, (c) => chunk(4 * c));
  }

  /**
   * Runs elementwise command `cmd` over [0, size) cut into one range per thread at multiples of
   * `unit` (so every range takes the SIMD path); `range(from, to)` runs one range here.
   */
  private runRanges(
    cmd: number,
    ints: readonly number[],
    floats: readonly number[],
    size: number,
    unit: number,
    range: (from: number, to: number) => void,
  ): void {
    const parts = this.threads;
    const bounds: number[] = [];
    for (let p = 0; p < parts; p++) {
      const from = p === 0 ? 0 : Math.ceil((size * p) / parts / unit) * unit;
      const to = p === parts - 1 ? size : Math.ceil((size * (p + 1)) / parts / unit) * unit;
      if (to > from) bounds.push(from, to, 0, 0);
    }
    this.runChunks(cmd, ints, floats, bounds, (b) => range(bounds[b]!, bounds[b + 1]!));
  }

  /**
   * C = op(A)·op(B) skipping op(A)'s zeros (assembly/sparse.ts). Rows of C are cut in one chunk per
   * thread; each thread compresses the rows of op(A) it takes and packs its own copy of B in its own
   * workspace, so no cache line it writes is then read from another core.
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
    if (this.pool === undefined || 2 * m * n * k < PARALLEL_GEMM_FLOPS) {
      const w = this.work(1, this.k.spmmWorkspace(m, n, k));
      this.k.spmm(pa, pb, pc, m, n, k, ta, tb, 0, m, w, bias, relu);
      return;
    }
    // One chunk per thread: each more chunk packs B once more (on two threads four measured slower
    // than two); a helper that is late leaves its chunk to the others.
    const chunks = Math.max(1, Math.min(this.threads, Math.floor(m / 4)));
    const bounds: number[] = [];
    for (let c = 0; c < chunks; c++) {
      bounds.push(Math.round((m * c) / chunks), Math.round((m * (c + 1)) / chunks), 0, n);
    }
    const w = this.workspaces(1, this.k.spmmWorkspace(Math.ceil(m / chunks) + 1, n, k));
    this.runChunks(CMD.SPMM, [pa, pb, pc, m, n, k, ta, tb, bias, relu], [], bounds, (b) =>
      this.k.spmm(pa, pb, pc, m, n, k, ta, tb, bounds[b]!, bounds[b + 1]!, w, bias, relu),
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
    const draw = (from: number, to: number): void =>
      this.k.randomUniform(po, from, to, k0, k1, stream.offset);
    if (this.pool === undefined || size < PARALLEL_RANDOM_ELEMENTS) draw(0, size);
    // Ranges start on 16-element boundaries (four Philox blocks) so every range takes the SIMD path.
    else this.runRanges(CMD.UNIFORM, [po, k0, k1], [stream.offset], size, 16, draw);
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
    const floats = [stream.offset, scale];
    const parallel = this.pool !== undefined && size >= PARALLEL_RANDOM_ELEMENTS;
    // Ranges start on 16-element boundaries (four Philox blocks, two mask bytes) so every range
    // takes the SIMD path.
    if (cached !== undefined) {
      const masked = (from: number, to: number): void =>
        this.k.dropoutMasked(px, po, from, to, cached.ptr, scale);
      if (parallel) this.runRanges(CMD.DROPMASK, [px, po, cached.ptr], floats, size, 16, masked);
      else masked(0, size);
      return;
    }
    const bits = this.maskSlot(key, size);
    const draw = (from: number, to: number): void =>
      this.k.dropout(px, po, from, to, k0, k1, stream.offset, thr, scale, bits);
    if (parallel) this.runRanges(CMD.DROPOUT, [px, po, k0, k1, thr, bits], floats, size, 16, draw);
    else draw(0, size);
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
    if (this.pool === undefined || size < PARALLEL_RANDOM_ELEMENTS) {
      this.k.sgdStep(pw, pg, pv, size, lr, momentum, weightDecay);
      return;
    }
    // Elementwise and independent, so the ranges may run on any thread; cut at multiples of 4.
    const at = (p: number, i: number): number => (p === 0 ? 0 : p + 4 * i);
    this.runRanges(CMD.SGD, [pw, pg, pv], [lr, momentum, weightDecay], size, 4, (from, to) =>
      this.k.sgdStep(at(pw, from), at(pg, from), at(pv, from), to - from, lr, momentum, weightDecay),
    );
  }
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * The Node-only thread host, loaded with `require` (Node >= 20.19 requires ES modules) rather than
 * `import()`, so bundlers never see it and no browser bundle contains it.
 */
function nodeHost(): typeof import('./node-host.js') {
  const load = process.getBuiltinModule('node:module').createRequire(import.meta.url);
  return load('./node-host.js') as typeof import('./node-host.js');
}

/** Node 20 ships relaxed SIMD behind a V8 flag; node-host.ts turns it on (before compiling). */
function enableRelaxedSimdInNode(): void {
  if (isNode && !relaxedSimdSupported()) nodeHost().enableRelaxedSimd();
}

/** Browsers share wasm memory with workers only when cross-origin isolated (COOP + COEP). */
function browserThreadsAvailable(): boolean {
  return (
    (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true &&
    typeof Worker !== 'undefined' &&
    typeof SharedArrayBuffer !== 'undefined'
  );
}

let saidOneThread = false;

/** The threads and kernel variant a backend gets from its options on this host. */
function plan(opts: WasmBackendOptions): { threads: number; variant: KernelVariant } {
  let threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new RangeError(`wasm backend: threads must be an integer from 1 to ${MAX_THREADS}, got ${threads}`);
  }
  // A browser context that is not cross-origin isolated has no shared memory: one thread.
  if (threads > 1 && !isNode && !browserThreadsAvailable()) {
    threads = 1;
    if (!saidOneThread) {
      saidOneThread = true;
      console.info(
        'dropout-lab: the wasm backend runs on one thread: this page is not cross-origin isolated ' +
          '(serve it with COOP same-origin and COEP require-corp for more).',
      );
    }
  }
  let variant = opts.variant ?? 'auto';
  if (variant === 'auto') variant = relaxedSimdSupported() ? 'relaxed' : 'simd';
  else if (variant === 'relaxed' && !relaxedSimdSupported()) {
    throw new Error('wasm backend: relaxed SIMD is not supported by this engine');
  }
  return { threads, variant };
}

/**
 * Creates the WebAssembly SIMD backend (name 'wasm'). `threads: N` starts N − 1 helper threads that
 * take chunks of every large GEMM, dropout mask and SGD step: Node worker_threads, or in browsers
 * Web Workers when the context is cross-origin isolated (else the backend falls back to one thread;
 * `threads` tells). Results are bit-identical for every N. Call `dispose()` to stop the helpers
 * (they never keep a Node process alive either way).
 */
export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  if (opts.variant !== 'simd') enableRelaxedSimdInNode();
  const { threads, variant } = plan(opts);
  const shared = threads > 1;
  const bytes = await kernelBytes(variant);
  // Single-threaded use takes an unshared memory, which every host can create.
  const module = await WebAssembly.compile(shared ? bytes : unsharedMemoryVariant(bytes));
  const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_MEMORY_PAGES, shared });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const backend = new WasmBackend(
    instance.exports as unknown as Kernels,
    memory,
    variant,
    opts.sparse ?? 'auto',
    threads,
  );
  if (shared) {
    const start = isNode ? nodeHost().startNodeHelpers : (await import('./web-host.js')).startWebHelpers;
    backend.attachHelpers(await start(bytes, memory, backend.controlBlock, threads));
  }
  return backend;
}

/**
 * Creates the wasm backend synchronously; Node only (>= 20.19: it loads the kernels and the thread
 * host with `require`). Used for the backend chosen on first use, when nothing can be awaited. The
 * helper thread starts without being waited for (see startNodeHelperSync).
 */
export function createWasmBackendSync(opts: WasmBackendOptions = {}): WasmBackend {
  if (!isNode) throw new Error('wasm backend: synchronous creation needs Node; await createBackend(...)');
  const host = nodeHost();
  if (opts.variant !== 'simd') host.enableRelaxedSimd();
  const { threads, variant } = plan(opts);
  const shared = threads > 1;
  const bytes = kernelBytesSync(variant);
  const module = new WebAssembly.Module(shared ? bytes : unsharedMemoryVariant(bytes));
  const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_MEMORY_PAGES, shared });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const backend = new WasmBackend(
    instance.exports as unknown as Kernels,
    memory,
    variant,
    opts.sparse ?? 'auto',
    threads,
  );
  if (shared) backend.attachHelpers(host.startNodeHelpersSync(bytes, memory, backend.controlBlock, threads));
  return backend;
}
