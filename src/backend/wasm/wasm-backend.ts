/**
 * The WebAssembly SIMD backend's ops: each Backend method resolves storage ids to pointers and calls
 * one AssemblyScript kernel (src/backend/wasm/assembly/, 128-bit SIMD, with a relaxed-SIMD build whose
 * GEMM uses fused multiply-add where the engine supports it). The machinery sits beside it, one
 * concern per file: storage in linear memory (heap.ts), the kernels' signatures (exports.ts) and op
 * codes (opcodes.ts), the matmul planner (planner.ts), the helper-thread commands (parallel.ts,
 * threads.ts), the dropout mask cache (mask-cache.ts), the direct convolution's workspace layout
 * (direct-conv.ts) and creation on each host (create.ts).
 * Matches the reference backend (src/backend/reference.ts): bit for bit for copies, arithmetic,
 * reductions, random uniform, dropout, SGD, pooling, the direct convolution, LayerNorm, softmax and
 * attention (forward and backward); to float32
 * rounding for matmul, exp/log/tanh and softmax cross-entropy.
 */
import {
  attentionLayout,
  type AttentionShape,
  type Backend,
  type BinaryOp,
  type Im2colGeometry,
  type MatmulEpilogue,
  type MemoryInfo,
  type ReduceOp,
  type SgdParams,
  type StorageId,
  type UnaryOp,
} from '../backend.js';
import { dropoutKeep } from '../../random/dropoutKeep.js';
import type { RandomDist, RandomStream } from '../../random/stream.js';
import { copyStridedArrays, gatherArrays, scatterAddArrays } from '../indexing.js';
import { collapseDimsMinRank1 } from '../strides.js';
import type { KernelVariant } from './binary.js';
import type { Kernels } from './exports.js';
import { WasmHeap } from './heap.js';
import { directConvLayout, type DirectConvLayout } from './direct-conv.js';
import { MaskCache } from './mask-cache.js';
import { BINARY_CODES, REDUCE_CODES, UNARY_CODES } from './opcodes.js';
import { COMMANDS, runChunk, type CommandArgs, type CommandName } from './commands.js';
import type { WorkKind } from './cost-model.js';
import { Parallel, type ThreadTrace } from './parallel.js';
import type { PathChooser } from './path-chooser.js';
import { MatmulPlanner } from './planner.js';
import type { ThreadPool } from './threads.js';

/** Dropout / uniform draws / SGD steps below this many elements run on one thread. */
const PARALLEL_ELEMENTS = 1 << 15;
/**
 * parallel.work slots of the direct convolution's per-image weight and bias gradient partials (the
 * per-thread slots are 0 .. 2·threads − 1, the matmul planner's split-K partials 1024).
 */
const DIRECT_DW_SLOT = 1025;
const DIRECT_DB_SLOT = 1026;
/** parallel.work slot of the unfolded convolution's per-group weight gradient partials. */
const UNFOLDED_DW_SLOT = 1027;
/**
 * Patch rows the unfolded convolution unfolds and multiplies at once (whole images, at least one):
 * LeNet's conv2 takes 2 images, 200 rows of 150 taps, so its rows, products and packing stay in a
 * core's L2 instead of going out to memory over the batch.
 */
const UNFOLDED_BLOCK_ROWS = 256;
/**
 * Image groups of the unfolded convolution's weight gradient (fewer for a smaller batch): each is
 * summed by one thread, then the partials in order, so the grouping, a function of the batch alone,
 * fixes the bits.
 */
const UNFOLDED_DW_GROUPS = 8;

/** Flops of a convolution's forward pass (or of one of its gradients): 2 per tap per output. */
function convFlops(g: Im2colGeometry, outChannels: number): number {
  return 2 * g.batch * outChannels * g.outH * g.outW * g.channels * g.kernelH * g.kernelW;
}

/** Flops of a fused attention's forward: the scores and the product with v, 2 per multiply-add. */
function attentionFlops(s: AttentionShape): number {
  return 2 * s.batch * s.heads * s.queries * s.keys * (s.dim + s.valueDim);
}

/** Largest rank a strided kernel accepts after contiguous dimensions are merged. */
const MAX_RANK = 32;

/**
 * The first axis from which `strides` are the row-major strides of the trailing axes of `shape`
 * (0: the whole layout is contiguous; shape.length: not even the last axis is).
 */
function rowMajorFrom(shape: readonly number[], strides: readonly number[]): number {
  let expected = 1;
  let from = shape.length;
  while (from > 0 && (shape[from - 1] === 1 || strides[from - 1] === expected)) {
    from--;
    expected *= shape[from]!;
  }
  return from;
}

/** Elements of axes [from, to) of `shape`. */
function sizeOfAxes(shape: readonly number[], from: number, to: number): number {
  let n = 1;
  for (let a = from; a < to; a++) n *= shape[a]!;
  return n;
}

/** Shortest destination run copyStrided hands the kernel one call at a time (shorter ones: the JS loop). */
const MIN_KERNEL_RUN = 32;

/** The WebAssembly SIMD backend; create it with createWasmBackend. */
export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly syncRead = true;
  private readonly heap: WasmHeap;
  private readonly parallel: Parallel;
  private readonly planner: MatmulPlanner;
  private readonly masks: MaskCache;
  /** The strided kernels' argument block: shape and strides of up to 4 operands plus scratch. */
  private readonly args: number;
  private disposed = false;

  /** Use createWasmBackend; this constructor expects an instantiated module on `memory`. */
  constructor(
    private readonly k: Kernels,
    memory: WebAssembly.Memory,
    /** Which kernel build runs. */
    readonly variant: KernelVariant,
    /** Whether matmul may take the sparse × dense path (WasmBackendOptions.sparse). */
    readonly sparse: boolean | 'auto' = 'auto',
    /** Threads the control block is laid out for (helpers attached later must fit). */
    maxThreads = 1,
  ) {
    this.heap = new WasmHeap(memory, k.heapBase());
    this.args = this.heap.allocBytes(5 * MAX_RANK * 4);
    this.parallel = new Parallel(k, this.heap, memory, maxThreads);
    this.planner = new MatmulPlanner(k, this.parallel, sparse);
    this.masks = new MaskCache(this.heap);
  }

  /** Measured choice between the sparse and the dense path (sparse: 'auto'). */
  get chooser(): PathChooser {
    return this.planner.chooser;
  }

  /** Threads in use, the main thread included. */
  get threads(): number {
    return this.parallel.threads;
  }

  /** @internal Attaches helper threads serving the control block (createWasmBackend does this). */
  attachHelpers(pool: ThreadPool): void {
    this.parallel.attach(pool);
  }

  /** @internal Records every helper-thread dispatch into `trace` (the benchmark's profile); undefined stops. */
  traceThreads(trace: ThreadTrace | undefined): void {
    this.parallel.trace = trace;
  }

  /** @internal Byte offset of the control block helpers serve. */
  get controlBlock(): number {
    return this.parallel.ctl;
  }

  /** Bytes of linear memory the allocator has handed out (live plus free-listed); flat in steady state. */
  heapBytes(): number {
    return this.heap.heapBytes;
  }

  /** Stops helper threads. The backend keeps working single-threaded afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.parallel.dispose();
  }

  /**
   * Whether an elementwise op over `size` elements is cut into one range per thread: never below
   * PARALLEL_ELEMENTS, and above it only when the measured hand-off cost (cost-model.ts) says the
   * split pays; each element is computed the same on any thread, so this changes only the time.
   */
  private splits(size: number, kind: WorkKind = 'elements'): boolean {
    const par = this.parallel;
    return (
      par.active && size >= PARALLEL_ELEMENTS && par.handoff.chunks(kind, size, par.threads, par.threads) > 1
    );
  }

  /**
   * Runs command `name` over [0, size) (rows, images or planes) as one range per thread when splits()
   * says `work` units of `kind` pay for the hand-off, else here in one call, through the same kernel;
   * each thread gets `workBytes` of workspace. For the kernels whose every item is computed whole by
   * one thread, so that any split gives the same bytes.
   */
  private overRanges<N extends CommandName>(
    name: N,
    args: CommandArgs<N>,
    size: number,
    work: number,
    kind: WorkKind = 'elements',
    workBytes = 0,
  ): void {
    if (this.splits(work, kind)) {
      if (workBytes > 0) this.parallel.workspaces(0, workBytes);
      this.parallel.ranges(name, args, size, 1);
      return;
    }
    const ws = workBytes > 0 ? this.parallel.work(0, workBytes) : 0;
    const named = args as Readonly<Record<string, number>>;
    runChunk(this.k, COMMANDS[name], named, { i0: 0, i1: size, j0: 0, j1: 0, work: ws });
  }

  /**
   * Runs strided command `name` (its shape and strides already in the argument block, `rank` dims)
   * as one element range per thread when splits() says so for `kind` of work (cost-model.ts); returns false (nothing run) otherwise.
   * A cut inside a row falls at a multiple of 4 from the row's start, so every element takes the
   * same SIMD or scalar path as in a one-thread run (assembly/elementwise.ts): bit-identical results.
   */
  private stridedSplit<N extends 'unary' | 'binary' | 'where'>(
    name: N,
    args: CommandArgs<N>,
    rank: number,
    kind: WorkKind = 'streaming',
  ): boolean {
    const shape = this.heap.i32.subarray(this.args >>> 2, (this.args >>> 2) + rank);
    const n = shape[rank - 1]!;
    const size = shape.reduce((p, d) => p * d, 1);
    if (!this.splits(size, kind)) return false;
    const par = this.parallel;
    const parts = par.threads;
    const bounds: number[] = [];
    let from = 0;
    for (let p = 1; p <= parts; p++) {
      let to = size;
      if (p < parts) {
        const target = Math.floor((size * p) / parts);
        const row = Math.floor(target / n);
        to = row * n + 4 * Math.floor((target - row * n) / 4);
      }
      if (to > from) bounds.push(from, to, 0, 0);
      from = Math.max(from, to);
    }
    par.workspaces(0, 4 * MAX_RANK);
    par.chunks(name, args, bounds, size);
    return true;
  }

  private ptr(id: StorageId): number {
    return this.heap.ptr(id);
  }

  alloc(size: number, zeroed = true): StorageId {
    return this.heap.alloc(size, zeroed);
  }

  free(id: StorageId): void {
    this.heap.free(id);
  }

  write(id: StorageId, data: ArrayLike<number>, offset = 0): void {
    const b = this.heap.block(id);
    if (offset + data.length > b.size) {
      throw new RangeError(
        `wasm backend: write of ${data.length} at ${offset} overflows storage of ${b.size}`,
      );
    }
    this.heap.f32.set(data, (b.ptr >>> 2) + offset);
  }

  readSync(id: StorageId, size: number): Float32Array {
    const b = this.heap.block(id);
    // Clipped to the storage, like the reference's subarray; slice also unshares the result.
    const p = b.ptr >>> 2;
    return this.heap.f32.slice(p, p + Math.min(size, b.size));
  }

  read(id: StorageId, size: number): Promise<Float32Array> {
    return Promise.resolve(this.readSync(id, size));
  }

  memory(): MemoryInfo {
    return this.heap.memoryInfo();
  }

  fill(out: StorageId, size: number, value: number): void {
    this.k.fill(this.ptr(out), size, value);
  }

  /** Writes shape and strides into the argument block; returns the collapsed rank (0 = empty). */
  private writeArgs(outShape: readonly number[], strides: readonly (readonly number[])[]): number {
    if (outShape.some((n) => n === 0)) return 0;
    const c = collapseDimsMinRank1(outShape, strides);
    const rank = c.shape.length;
    if (rank > MAX_RANK) throw new RangeError(`wasm backend: rank ${rank} exceeds ${MAX_RANK}`);
    const base = this.args >>> 2;
    this.heap.i32.set(c.shape, base);
    c.strides.forEach((s, j) => this.heap.i32.set(s, base + (j + 1) * rank));
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
    if (rank === 0) return;
    const args = { op: UNARY_CODES[op], x: this.ptr(x), out: this.ptr(out), rank, args: this.args };
    const kind =
      op === 'gelu' ? 'gelu' : op === 'exp' || op === 'log' || op === 'tanh' ? 'transcendental' : 'streaming';
    if (!this.stridedSplit('unary', args, rank, kind))
      this.k.unary(args.op, args.x, args.out, rank, this.args);
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
    if (rank === 0) return;
    const args = {
      op: BINARY_CODES[op],
      a: this.ptr(a),
      b: this.ptr(b),
      out: this.ptr(out),
      rank,
      args: this.args,
    };
    // GELU's backward: ~65 SIMD steps per four elements, its exp included (cost-model.ts).
    const kind = op === 'geluBackward' ? 'gelu' : 'streaming';
    if (!this.stridedSplit('binary', args, rank, kind)) {
      this.k.binary(args.op, args.a, args.b, args.out, rank, this.args);
    }
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
    if (rank === 0) return;
    const args = {
      c: this.ptr(cond),
      a: this.ptr(a),
      b: this.ptr(b),
      out: this.ptr(out),
      rank,
      args: this.args,
    };
    if (!this.stridedSplit('where', args, rank))
      this.k.where(args.c, args.a, args.b, args.out, rank, this.args);
  }

  reduce(op: ReduceOp, x: StorageId, outer: number, reduce: number, inner: number, out: StorageId): void {
    this.k.reduce(REDUCE_CODES[op], this.ptr(x), this.ptr(out), outer, reduce, inner);
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
    this.planner.run({
      pa: this.ptr(a),
      pb: this.ptr(b),
      pc: this.ptr(out),
      m,
      n,
      k,
      ta: transA ? 1 : 0,
      tb: transB ? 1 : 0,
      bias: epilogue !== undefined && epilogue.bias >= 0 ? this.ptr(epilogue.bias) : 0,
      relu: epilogue?.relu === true ? 1 : 0,
    });
  }

  batchMatmul(
    a: StorageId,
    b: StorageId,
    out: StorageId,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
  ): void {
    if (batch * m * n === 0) return;
    const product = { pa: this.ptr(a), pb: this.ptr(b), pc: this.ptr(out), m, n, k };
    this.planner.runBatch({ ...product, ta: transA ? 1 : 0, tb: transB ? 1 : 0 }, batch);
  }

  argmax(x: StorageId, rows: number, cols: number, out: StorageId): void {
    if (cols > 0) this.k.argmax(this.ptr(x), this.ptr(out), rows, cols);
  }

  im2col(x: StorageId, out: StorageId, geom: Im2colGeometry, padValue: number): void {
    this.writeGeometry(geom);
    const px = this.ptr(x);
    const po = this.ptr(out);
    const rows = geom.batch * geom.outH * geom.outW;
    const patch = geom.channels * geom.kernelH * geom.kernelW;
    // Rows are independent copies: any split gives the same bytes.
    this.overRanges('im2col', { x: px, out: po, geometry: this.args, padValue }, rows, rows * patch);
  }

  col2im(cols: StorageId, out: StorageId, geom: Im2colGeometry): void {
    this.writeGeometry(geom);
    const pc = this.ptr(cols);
    const po = this.ptr(out);
    const imageSize = geom.channels * geom.height * geom.width;
    // Each image is summed whole by one thread, in the same tap order: any split gives the same sums.
    // The float64 accumulator of one image lives in the thread's GEMM workspace (never in use at once).
    const args = { cols: pc, out: po, geometry: this.args };
    this.overRanges('col2im', args, geom.batch, geom.batch * imageSize, 'elements', 8 * imageSize);
  }

  maxPool2d(x: StorageId, geom: Im2colGeometry, out: StorageId, indices: StorageId): void {
    const planes = geom.batch * geom.channels;
    if (planes * geom.outH * geom.outW === 0) return;
    this.writeGeometry(geom);
    const args = { x: this.ptr(x), out: this.ptr(out), indices: this.ptr(indices), geometry: this.args };
    // Planes are independent: any split gives the same bytes. The work is the input read.
    this.overRanges('maxPool', args, planes, planes * geom.height * geom.width);
  }

  maxPool2dBackward(dy: StorageId, indices: StorageId, geom: Im2colGeometry, dx: StorageId): void {
    const planes = geom.batch * geom.channels;
    if (planes * geom.height * geom.width === 0) return;
    this.writeGeometry(geom);
    const args = { dy: this.ptr(dy), indices: this.ptr(indices), dx: this.ptr(dx), geometry: this.args };
    // Each plane is summed whole by one thread in the same order: any split gives the same sums.
    this.overRanges('maxPoolBackward', args, planes, planes * geom.height * geom.width);
  }

  conv2d(
    x: StorageId,
    weight: StorageId,
    bias: StorageId,
    geom: Im2colGeometry,
    outChannels: number,
    relu: boolean,
    out: StorageId,
  ): void {
    if (geom.batch * outChannels * geom.outH * geom.outW === 0) return;
    const layout = this.writeDirectConvArgs(geom, outChannels);
    const args = {
      x: this.ptr(x),
      w: this.ptr(weight),
      bias: bias >= 0 ? this.ptr(bias) : 0,
      out: this.ptr(out),
      geometry: this.args,
      relu: relu ? 1 : 0,
    };
    // Images are independent and each is computed the same on any thread: any split gives the same bytes.
    const flops = convFlops(geom, outChannels);
    this.overRanges('directConv', args, geom.batch, flops, 'directConv', layout.workBytes);
  }

  conv2dWeightGrad(
    x: StorageId,
    dy: StorageId,
    geom: Im2colGeometry,
    outChannels: number,
    dweight: StorageId,
    dbias: StorageId,
    reluOut: StorageId,
  ): void {
    const patch = geom.channels * geom.kernelH * geom.kernelW;
    const n = geom.batch;
    if (n * geom.outH * geom.outW === 0) {
      this.k.fill(this.ptr(dweight), outChannels * patch, 0);
      if (dbias >= 0) this.k.fill(this.ptr(dbias), outChannels, 0);
      return;
    }
    // Each image's partial gradient is computed whole by one thread into its own rows, then the main
    // thread sums the rows in image order (float64, rounded once): the same bits for any thread count.
    const dwPart = this.parallel.work(DIRECT_DW_SLOT, 4 * n * outChannels * patch);
    const dbPart = dbias >= 0 ? this.parallel.work(DIRECT_DB_SLOT, 4 * n * outChannels) : 0;
    const layout = this.writeDirectConvArgs(geom, outChannels);
    const relu = reluOut >= 0 ? this.ptr(reluOut) : 0;
    const args = { x: this.ptr(x), dy: this.ptr(dy), reluOut: relu, dwPart, dbPart, geometry: this.args };
    const flops = convFlops(geom, outChannels);
    this.overRanges('directConvWeightGrad', args, n, flops, 'directConv', layout.workBytes);
    this.k.reduce(REDUCE_CODES.sum, dwPart, this.ptr(dweight), 1, n, outChannels * patch);
    if (dbias >= 0) this.k.reduce(REDUCE_CODES.sum, dbPart, this.ptr(dbias), 1, n, outChannels);
  }

  conv2dUnfolded(
    x: StorageId,
    weight: StorageId,
    bias: StorageId,
    geom: Im2colGeometry,
    outChannels: number,
    relu: boolean,
    out: StorageId,
  ): void {
    if (geom.batch * outChannels * geom.outH * geom.outW === 0) return;
    const { block, workBytes } = this.unfoldedLayout(geom, outChannels);
    const args = {
      x: this.ptr(x),
      w: this.ptr(weight),
      bias: bias >= 0 ? this.ptr(bias) : 0,
      out: this.ptr(out),
      geometry: this.args,
      oc: outChannels,
      block,
      relu: relu ? 1 : 0,
    };
    // Images are independent and each element is the same GEMM chain on any thread: any split gives the same bytes.
    this.overRanges('convUnfolded', args, geom.batch, convFlops(geom, outChannels), 'gemm', workBytes);
  }

  conv2dUnfoldedBackward(
    x: StorageId,
    dy: StorageId,
    weight: StorageId,
    geom: Im2colGeometry,
    outChannels: number,
    dx: StorageId,
    dweight: StorageId,
  ): void {
    const patch = geom.channels * geom.kernelH * geom.kernelW;
    const n = geom.batch;
    if (n * geom.outH * geom.outW === 0) {
      if (dx >= 0) this.k.fill(this.ptr(dx), n * geom.channels * geom.height * geom.width, 0);
      if (dweight >= 0) this.k.fill(this.ptr(dweight), outChannels * patch, 0);
      return;
    }
    const { block, workBytes } = this.unfoldedLayout(geom, outChannels);
    const flops = convFlops(geom, outChannels);
    if (dx >= 0) {
      const args = {
        dy: this.ptr(dy),
        w: this.ptr(weight),
        dx: this.ptr(dx),
        geometry: this.args,
        oc: outChannels,
        block,
      };
      this.overRanges('convUnfoldedDx', args, n, flops, 'gemm', workBytes);
    }
    if (dweight >= 0) {
      const groupImages = Math.ceil(n / UNFOLDED_DW_GROUPS);
      const groups = Math.ceil(n / groupImages);
      // The groups' partials [patch][OC] (transposed, see convUnfoldedDw), then their sum.
      const dwPart = this.parallel.work(UNFOLDED_DW_SLOT, 4 * (groups + 1) * outChannels * patch);
      const args = {
        x: this.ptr(x),
        dy: this.ptr(dy),
        dwPart,
        geometry: this.args,
        oc: outChannels,
        block,
        groupImages,
      };
      this.overRanges('convUnfoldedDw', args, groups, flops, 'gemm', workBytes);
      const sum = dwPart + 4 * groups * outChannels * patch;
      this.k.reduce(REDUCE_CODES.sum, dwPart, sum, 1, groups, outChannels * patch);
      const f32 = this.heap.f32;
      const [from, to] = [sum >>> 2, this.ptr(dweight) >>> 2];
      for (let t = 0; t < patch; t++) {
        for (let o = 0; o < outChannels; o++) f32[to + o * patch + t] = f32[from + t * outChannels + o]!;
      }
    }
  }

  /** Writes the geometry; the unfolded convolution's images per block and per-thread workspace bytes. */
  private unfoldedLayout(g: Im2colGeometry, outChannels: number): { block: number; workBytes: number } {
    this.writeGeometry(g);
    const block = Math.max(1, Math.floor(UNFOLDED_BLOCK_ROWS / (g.outH * g.outW)));
    return { block, workBytes: this.k.convUnfoldedWorkspace(this.args, outChannels, block) };
  }

  /** The direct convolution's argument words (directConv.ts): the geometry, out channels, padded height and row stride. */
  private writeDirectConvArgs(g: Im2colGeometry, outChannels: number): DirectConvLayout {
    const layout = directConvLayout(g);
    this.writeGeometry(g);
    this.heap.i32.set([outChannels, layout.paddedH, layout.paddedW], (this.args >>> 2) + 12);
    return layout;
  }

  /** Writes an im2col geometry into the argument block, in the kernels' word order (assembly/conv.ts). */
  private writeGeometry(g: Im2colGeometry): void {
    this.heap.i32.set(
      [
        g.batch,
        g.channels,
        g.height,
        g.width,
        g.kernelH,
        g.kernelW,
        g.strideH,
        g.strideW,
        g.padH,
        g.padW,
        g.outH,
        g.outW,
      ],
      this.args >>> 2,
    );
  }

  random(dist: RandomDist, stream: RandomStream, out: StorageId, size: number): void {
    const [k0, k1] = stream.key;
    const po = this.ptr(out);
    if (dist === 'normal') {
      this.k.randomNormal(po, size, k0 >>> 0, k1 >>> 0, stream.offset);
      return;
    }
    if (!this.splits(size)) {
      this.k.randomUniform(po, 0, size, k0, k1, stream.offset);
      return;
    }
    // Ranges start on 16-element boundaries (four Philox blocks) so every range takes the SIMD path.
    this.parallel.ranges('uniform', { out: po, k0, k1, offset: stream.offset }, size, 16);
  }

  dropout(x: StorageId, stream: RandomStream, p: number, out: StorageId, size: number): void {
    const [k0, k1] = stream.key;
    const px = this.ptr(x);
    const po = this.ptr(out);
    const keep = dropoutKeep(p);
    const scale = Math.fround(keep.scale);
    const key = MaskCache.key(stream, keep.bits, size);
    const cached = this.masks.get(key);
    const parallel = this.splits(size);
    // Ranges start on 16-element boundaries (four Philox blocks, two mask bytes) so every range
    // takes the SIMD path.
    if (cached !== undefined) {
      if (parallel) this.parallel.ranges('dropoutMasked', { g: px, out: po, bits: cached, scale }, size, 16);
      else this.k.dropoutMasked(px, po, 0, size, cached, scale);
      return;
    }
    const bits = this.masks.slot(key, size);
    const { offset } = stream;
    const threshold = keep.bits;
    if (parallel) {
      this.parallel.ranges('dropout', { x: px, out: po, k0, k1, offset, threshold, scale, bits }, size, 16);
    } else this.k.dropout(px, po, 0, size, k0, k1, offset, threshold, scale, bits);
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

  layerNorm(
    x: StorageId,
    gamma: StorageId,
    beta: StorageId,
    rows: number,
    cols: number,
    eps: number,
    out: StorageId,
    mean: StorageId,
    rstd: StorageId,
  ): void {
    const args = {
      x: this.ptr(x),
      gamma: gamma >= 0 ? this.ptr(gamma) : 0,
      beta: beta >= 0 ? this.ptr(beta) : 0,
      out: this.ptr(out),
      mean: this.ptr(mean),
      rstd: this.ptr(rstd),
      cols,
      eps,
    };
    // Each row is normalised whole by one thread: any split of the rows gives the same bytes.
    this.overRanges('layerNorm', args, rows, rows * cols, 'normalization');
  }

  layerNormBackward(
    g: StorageId,
    x: StorageId,
    gamma: StorageId,
    mean: StorageId,
    rstd: StorageId,
    rows: number,
    cols: number,
    dx: StorageId,
    gxhat: StorageId,
  ): void {
    const args = {
      g: this.ptr(g),
      x: this.ptr(x),
      gamma: gamma >= 0 ? this.ptr(gamma) : 0,
      mean: this.ptr(mean),
      rstd: this.ptr(rstd),
      dx: this.ptr(dx),
      gxhat: gxhat >= 0 ? this.ptr(gxhat) : 0,
      cols,
    };
    this.overRanges('layerNormBackward', args, rows, rows * cols, 'normalization');
  }

  softmax(x: StorageId, rows: number, cols: number, out: StorageId): void {
    if (rows * cols === 0) return;
    const args = { x: this.ptr(x), out: this.ptr(out), cols };
    // Each row is computed whole by one thread (its exponentials staged in `out`): any split gives
    // the same bytes. The float32 SIMD exp dominates: ~200 elements/µs on attention's 17-column rows
    // (cost-model.ts), about the `transcendental` rate.
    this.overRanges('softmax', args, rows, rows * cols, 'transcendental');
  }

  softmaxBackward(y: StorageId, dy: StorageId, rows: number, cols: number, out: StorageId): void {
    if (rows * cols === 0) return;
    const args = { y: this.ptr(y), dy: this.ptr(dy), out: this.ptr(out), cols };
    // Whole rows per thread, as the forward. Scalar float64 work at ~800 elements/µs (measured on a
    // loaded machine): nearer the `elements` rate than the SIMD `streaming` one.
    this.overRanges('softmaxBackward', args, rows, rows * cols);
  }

  attention(
    q: StorageId,
    k: StorageId,
    v: StorageId,
    shape: AttentionShape,
    scale: number,
    out: StorageId,
    probs: StorageId,
  ): void {
    const blocks = shape.batch * shape.heads;
    if (blocks * shape.queries === 0) return;
    const { queries: T, keys: S, dim: D } = shape;
    const L = attentionLayout(shape);
    const args = {
      q: this.ptr(q) + 4 * L.q.offset,
      k: this.ptr(k) + 4 * L.k.offset,
      v: this.ptr(v) + 4 * L.v.offset,
      out: this.ptr(out),
      probs: this.ptr(probs),
      shape: this.writeAttentionShape(shape),
      scale,
    };
    // Each (n, h) block is computed whole by one thread (its kᵀ and score row in the thread's
    // workspace, keys padded to a multiple of 4): any split of the blocks gives the same bytes.
    const S4 = (S + 3) & ~3;
    this.overRanges('attention', args, blocks, attentionFlops(shape), 'attention', 4 * (D + T) * S4);
  }

  attentionBackward(
    dOut: StorageId,
    q: StorageId,
    k: StorageId,
    v: StorageId,
    probs: StorageId,
    shape: AttentionShape,
    scale: number,
    dq: StorageId,
    dk: StorageId,
    dv: StorageId,
  ): void {
    const blocks = shape.batch * shape.heads;
    const { queries: T, keys: S, valueDim: DV } = shape;
    if (blocks === 0) return;
    // Packed, q, k and v are one storage (dq, dk, dv another): the kernel gets pointers to each part.
    const L = attentionLayout(shape);
    const args = {
      dOut: this.ptr(dOut),
      q: this.ptr(q) + 4 * L.q.offset,
      k: this.ptr(k) + 4 * L.k.offset,
      v: this.ptr(v) + 4 * L.v.offset,
      probs: this.ptr(probs),
      dq: this.ptr(dq) + 4 * L.q.offset,
      dk: this.ptr(dk) + 4 * L.k.offset,
      dv: this.ptr(dv) + 4 * L.v.offset,
      shape: this.writeAttentionShape(shape),
      scale,
    };
    // Whole blocks per thread, as the forward. Twice its products but no exp: it ran in about 0.7 of
    // the forward's time (cost-model.ts), so it is counted as the forward's flops.
    const work = attentionFlops(shape);
    const S4 = (S + 3) & ~3;
    this.overRanges('attentionBackward', args, blocks, work, 'attention', 4 * ((DV + T) * S4 + T * S));
  }

  /**
   * Writes an attention's sizes and the token strides of q, k and v into the argument block in the
   * kernels' word order (assembly/attention.ts); returns its address.
   */
  private writeAttentionShape(s: AttentionShape): number {
    const L = attentionLayout(s);
    const words = [s.queries, s.keys, s.heads, s.dim, s.valueDim, L.q.stride, L.k.stride, L.v.stride];
    this.heap.i32.set(words, this.args >>> 2);
    return this.args;
  }

  sgdStep(param: StorageId, grad: StorageId, velocity: StorageId, size: number, params: SgdParams): void {
    const pw = this.ptr(param);
    const pg = this.ptr(grad);
    const pv = velocity >= 0 ? this.ptr(velocity) : 0;
    const { lr, momentum, weightDecay } = params;
    if (!this.splits(size)) {
      this.k.sgdStep(pw, pg, pv, size, lr, momentum, weightDecay);
      return;
    }
    // Elementwise and independent, so the ranges may run on any thread; cut at multiples of 4.
    this.parallel.ranges('sgd', { w: pw, g: pg, v: pv, lr, momentum, weightDecay }, size, 4);
  }

  // ---- views and indexing ----
  copyStrided(
    x: StorageId,
    xOffset: number,
    xStrides: readonly number[],
    out: StorageId,
    outOffset: number,
    outStrides: readonly number[],
    shape: readonly number[],
  ): void {
    if (shape.some((n) => n === 0)) return;
    const c = collapseDimsMinRank1(shape, [xStrides, outStrides]);
    const [cx, co] = [c.strides[0]!, c.strides[1]!];
    // Axes from `split` on are row-major runs of the destination: the SIMD strided copy kernel writes
    // each run, on pointers moved to its offsets. A contiguous destination (materialising a view: a
    // permute's or a slice's copy, cat along the first axis) is one run, split across threads like
    // any strided kernel; attention's head permutes went through the JS loop below while only rank 1
    // came here (the profile's largest ViT kernel). A strided destination (cat along a later axis,
    // pad) is one kernel call per run, over the outer axes here: the ViT's class-token cat took
    // ~2% of its step in the JS loop. Only short runs, where a call costs more than the loop, stay in it.
    const split = rowMajorFrom(c.shape, co);
    const run = sizeOfAxes(c.shape, split, c.shape.length);
    if (c.shape.length - split <= MAX_RANK && (split === 0 || run >= MIN_KERNEL_RUN)) {
      const rank = this.writeArgs(c.shape.slice(split), [cx.slice(split)]);
      const xp = this.ptr(x) + 4 * xOffset;
      const op = this.ptr(out) + 4 * outOffset;
      if (split === 0) {
        const args = { op: UNARY_CODES.copy, x: xp, out: op, rank, args: this.args };
        if (!this.stridedSplit('unary', args, rank)) this.k.unary(args.op, args.x, args.out, rank, this.args);
        return;
      }
      // The outer axes' odometer: one kernel call per destination run.
      const idx = new Array<number>(split).fill(0);
      const runs = sizeOfAxes(c.shape, 0, split);
      let xo = 0;
      let oo = 0;
      for (let r = 0; r < runs; r++) {
        this.k.unary(UNARY_CODES.copy, xp + 4 * xo, op + 4 * oo, rank, this.args);
        for (let d = split - 1; d >= 0; d--) {
          idx[d]!++;
          xo += cx[d]!;
          oo += co[d]!;
          if (idx[d]! < c.shape[d]!) break;
          xo -= cx[d]! * c.shape[d]!;
          oo -= co[d]! * c.shape[d]!;
          idx[d] = 0;
        }
      }
      return;
    }
    const f32 = this.heap.f32;
    const [xs, os] = [this.ptr(x) >>> 2, this.ptr(out) >>> 2];
    copyStridedArrays(f32, xs + xOffset, cx, f32, os + outOffset, co, c.shape);
  }

  gather(
    x: StorageId,
    xStrides: readonly number[],
    dim: number,
    index: StorageId,
    out: StorageId,
    outShape: readonly number[],
  ): void {
    const f32 = this.heap.f32;
    const view = (id: StorageId, size: number): Float32Array =>
      f32.subarray(this.ptr(id) >>> 2, (this.ptr(id) >>> 2) + size);
    const size = outShape.reduce((a, b) => a * b, 1);
    const xBlock = this.heap.block(x);
    gatherArrays(view(x, xBlock.size), xStrides, dim, view(index, size), view(out, size), outShape);
  }

  scatterAdd(
    g: StorageId,
    index: StorageId,
    indexShape: readonly number[],
    dim: number,
    out: StorageId,
    outShape: readonly number[],
  ): void {
    const f32 = this.heap.f32;
    const view = (id: StorageId, size: number): Float32Array =>
      f32.subarray(this.ptr(id) >>> 2, (this.ptr(id) >>> 2) + size);
    const gSize = indexShape.reduce((a, b) => a * b, 1);
    const outSize = outShape.reduce((a, b) => a * b, 1);
    scatterAddArrays(view(g, gSize), view(index, gSize), indexShape, dim, view(out, outSize), outShape);
  }
}
