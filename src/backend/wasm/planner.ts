/**
 * The wasm backend's matmul planner: for each product it decides between the dense GEMM and the
 * sparse × dense path (by op(A)'s sampled density, then by measurement, path-chooser.ts), and cuts the
 * work into chunks for the threads. Both paths and every cut compute each element with the same chain
 * of multiply-adds, so the plan changes only the time, never a result.
 */
import { GEMM_CHUNKS_PER_THREAD } from './cost-model.js';
import type { Kernels } from './exports.js';
import { REDUCE_CODES } from './opcodes.js';
import type { Parallel } from './parallel.js';
import { PathChooser } from './path-chooser.js';
import { MAX_CHUNKS } from './threads.js';

/** Rows of the GEMM's micro-kernel tile (MR in assembly/gemm.ts): row cuts fall on its multiples. */
const TILE_ROWS = 6;

/** GEMMs below this many flops always run on one thread (above it the cost model decides, cost-model.ts). */
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

/**
 * Split-K for a weight gradient's product Aᵀ·B with a small C and a long k (a convolution's dW =
 * dYᵀ·cols sums over every output position of the batch: 6×25 outputs over k = 200704 in the LeNet
 * CNN's first layer). Cutting C between threads there leaves one thread most of it and packs A once
 * per cut; cutting k instead gives every thread whole slabs. The slabs' partial products are summed
 * in slab order (the `reduce` kernel, in float64, rounded once), and the slab count is a function of
 * the shape alone, so 1 thread computes exactly the same slabs and sums as N.
 */
const SPLIT_K_DEPTH = 4096;
const SPLIT_K_MIN_K = 4 * SPLIT_K_DEPTH;
const SPLIT_K_MAX_OUTPUTS = 4096;
/** parallel.work slot of the slabs' partial products (the per-thread slots are 0 .. 2·threads − 1). */
const SPLIT_K_SLOT = 1024;

/**
 * Slabs of k a product is cut into (1 = no split-K): only Aᵀ·B with m·n ≤ SPLIT_K_MAX_OUTPUTS and k ≥
 * SPLIT_K_MIN_K, into the fewest equal slabs of at most SPLIT_K_DEPTH (down to a quarter of it) that
 * divide k; a k with no such divisor is not split.
 */
export function splitKSlabs(m: number, n: number, k: number, ta: number, tb: number): number {
  if (ta !== 1 || tb !== 0 || m * n > SPLIT_K_MAX_OUTPUTS || k < SPLIT_K_MIN_K) return 1;
  for (let s = Math.ceil(k / SPLIT_K_DEPTH); s <= Math.ceil((4 * k) / SPLIT_K_DEPTH); s++) {
    if (k % s === 0) return s;
  }
  return 1;
}

/** One product C = op(A)·op(B) (+ bias, ReLU): pointers, sizes and the kernels' 0/1 flags. */
interface Product {
  readonly pa: number;
  readonly pb: number;
  readonly pc: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly ta: number;
  readonly tb: number;
  /** Bias pointer, or 0 for none. */
  readonly bias: number;
  readonly relu: number;
}

/** Plans and runs the wasm backend's products; see the file comment. */
export class MatmulPlanner {
  /** Measured choice between the sparse and the dense path (sparse: 'auto'). */
  readonly chooser = new PathChooser();

  /** `sparse` is WasmBackendOptions.sparse: 'auto' measures, true always, false never. */
  constructor(
    private readonly k: Kernels,
    private readonly parallel: Parallel,
    readonly sparse: boolean | 'auto',
  ) {}

  /** Runs the product on the path and cuts this plan picks. */
  run(p: Product): void {
    const { m, n, k, ta } = p;
    // A split-K product sums its slabs in another order than the sparse path's one chain over k, so
    // it never takes that path: the measured choice would otherwise change its bits from run to run.
    const splitK = p.bias === 0 && p.relu === 0 && splitKSlabs(m, n, k, ta, p.tb) > 1;
    if (
      this.sparse !== false &&
      !splitK &&
      n >= SPARSE_MIN_N &&
      k >= SPARSE_MIN_K &&
      m >= SPARSE_SAMPLE_STEP
    ) {
      const density =
        ta === 1
          ? this.k.sampleDensity(p.pa, k, m, SPARSE_SAMPLE_STEP)
          : this.k.sampleDensity(p.pa, m, k, SPARSE_SAMPLE_STEP);
      if (density < SPARSE_MAX_DENSITY) {
        const run = (sparse: boolean): void => (sparse ? this.sparseMatmul(p) : this.denseMatmul(p));
        if (this.sparse === true) run(true);
        else this.chooser.run(`${m}x${n}x${k}${ta}${p.tb}`, density, run);
        return;
      }
    }
    this.denseMatmul(p);
  }

  /**
   * `batch` products stored one after another (attention's per-head products): each item is one
   * whole dense GEMM, exactly as `run` computes a lone product of that size on one thread, and the
   * threads share out ranges of items. Items are small (a head's 17×17×16), so cutting inside one
   * would cost more hand-offs than it saves; the sparse path is not tried for the same reason.
   */
  runBatch(p: Omit<Product, 'bias' | 'relu'>, batch: number): void {
    const { pa, pb, pc, m, n, k, ta, tb } = p;
    const par = this.parallel;
    const flops = 2 * batch * m * n * k;
    const chunks = par.active
      ? Math.min(batch, par.handoff.chunks('gemm', flops, par.threads, 2 * par.threads))
      : 1;
    if (flops < PARALLEL_GEMM_FLOPS || chunks < 2) {
      this.k.gemmBatch(pa, pb, pc, m, n, k, ta, tb, 0, batch, par.work(0, this.k.gemmWorkspace(m, n, k)));
      return;
    }
    const bounds: number[] = [];
    for (let c = 0; c < chunks; c++) {
      bounds.push(Math.round((batch * c) / chunks), Math.round((batch * (c + 1)) / chunks), 0, 0);
    }
    par.workspaces(0, this.k.gemmWorkspace(m, n, k));
    par.chunks(
      'bgemm',
      { a: pa, b: pb, c: pc, m, n, k, transA: ta, transB: tb },
      bounds,
      2 * batch * m * n * k,
    );
  }

  /** C = op(A)·op(B) (+ bias, ReLU) with the dense GEMM, cut in chunks for all threads. */
  private denseMatmul(p: Product): void {
    const { pa, pb, pc, m, n, k, ta, tb, bias, relu } = p;
    const par = this.parallel;
    const slabs = bias === 0 && relu === 0 ? splitKSlabs(m, n, k, ta, tb) : 1;
    if (slabs > 1) {
      // Slab t of Aᵀ·B is rows [t·d, (t+1)·d) of A [k×m] and of B [k×n]: a batch of products stored
      // one after another, as runBatch takes them; then C = Σ_t slab t, in order.
      const partial = par.work(SPLIT_K_SLOT, slabs * m * n * 4);
      this.runBatch({ pa, pb, pc: partial, m, n, k: k / slabs, ta, tb }, slabs);
      this.k.reduce(REDUCE_CODES.sum, partial, pc, 1, slabs, m * n);
      return;
    }
    const flops = 2 * m * n * k;
    const target = par.active
      ? par.handoff.chunks('gemm', flops, par.threads, GEMM_CHUNKS_PER_THREAD * par.threads)
      : 1;
    if (flops < PARALLEL_GEMM_FLOPS || target < 2 || (n < 16 && m < 8)) {
      const w = par.work(0, this.k.gemmWorkspace(m, n, k));
      this.k.gemm(pa, pb, pc, m, n, k, ta, tb, 0, m, 0, n, w, bias, relu);
      return;
    }
    const { bounds, maxRows, maxCols } = gemmChunks(m, n, target);
    par.workspaces(0, this.k.gemmWorkspace(maxRows, maxCols, k));
    par.chunks(
      'gemm',
      { a: pa, b: pb, c: pc, m, n, k, transA: ta, transB: tb, bias, relu },
      bounds,
      2 * m * n * k,
    );
  }

  /**
   * C = op(A)·op(B) skipping op(A)'s zeros (assembly/sparse.ts). Rows of C are cut in one chunk per
   * thread; each thread compresses the rows of op(A) it takes and packs its own copy of B in its own
   * workspace, so no cache line it writes is then read from another core.
   */
  private sparseMatmul(p: Product): void {
    const { pa, pb, pc, m, n, k, ta, tb, bias, relu } = p;
    const par = this.parallel;
    const flops = 2 * m * n * k;
    // At most one chunk per thread: each more chunk packs B once more (on two threads four measured
    // slower than two); a helper that is late leaves its chunk to the others.
    const chunks = par.active
      ? Math.min(par.handoff.chunks('spmm', flops, par.threads, par.threads), Math.floor(m / 4))
      : 1;
    if (flops < PARALLEL_GEMM_FLOPS || chunks < 2) {
      const w = par.work(1, this.k.spmmWorkspace(m, n, k));
      this.k.spmm(pa, pb, pc, m, n, k, ta, tb, 0, m, w, bias, relu);
      return;
    }
    const bounds: number[] = [];
    for (let c = 0; c < chunks; c++) {
      bounds.push(Math.round((m * c) / chunks), Math.round((m * (c + 1)) / chunks), 0, n);
    }
    par.workspaces(1, this.k.spmmWorkspace(Math.ceil(m / chunks) + 1, n, k));
    par.chunks(
      'spmm',
      { a: pa, b: pb, c: pc, m, n, k, transA: ta, transB: tb, bias, relu },
      bounds,
      2 * m * n * k,
    );
  }
}

/**
 * Cuts an m×n product into about `target` chunks (i0, i1, j0, j1 each; the cost model's count). TILE_ROWS-row tiles and 8-column
 * panels stay whole, so every element is computed by the same micro-kernel wherever the cuts fall;
 * all threads take chunks until none is left. Results are identical for every thread count.
 * Each chunk packs its own rows of op(A) and columns of op(B), so of the cuts that give `target`
 * chunks the one packing least (m per column cut plus n per row cut) is taken: a tall, narrow product
 * (the ViT's 4352×64 activations, LeNet's 25600×16) is cut by rows only instead of packing its A twice.
 */
function gemmChunks(
  m: number,
  n: number,
  chunks: number,
): { bounds: number[]; maxRows: number; maxCols: number } {
  const target = Math.min(chunks, MAX_CHUNKS);
  const fit = (size: number, unit: number, want: number): number =>
    Math.max(1, Math.min(Math.floor(size / unit), want));
  let rowCuts = 1;
  let colCuts = 1;
  if (m >= 8 && n >= 16) {
    let best = Infinity;
    for (let r = 1; r <= target; r++) {
      const rows = fit(m, TILE_ROWS, r);
      const cols = fit(n, 8, Math.ceil(target / r));
      const packed = m * cols + n * rows;
      // At most 1.5 × target chunks (parallel.ts lays out room for that many).
      if (rows * cols >= Math.min(target, 2) && rows * cols <= 1.5 * target && packed < best) {
        best = packed;
        rowCuts = rows;
        colCuts = cols;
      }
    }
  } else if (m >= 8) rowCuts = fit(m, TILE_ROWS, target);
  else colCuts = fit(n, 8, target);
  const cut = (size: number, parts: number, unit: number, p: number): number =>
    p === parts ? size : Math.ceil((size * p) / parts / unit) * unit;
  const bounds: number[] = [];
  let maxRows = 0;
  let maxCols = 0;
  for (let r = 0; r < rowCuts; r++) {
    const i0 = cut(m, rowCuts, TILE_ROWS, r);
    const i1 = cut(m, rowCuts, TILE_ROWS, r + 1);
    for (let c = 0; c < colCuts; c++) {
      const j0 = cut(n, colCuts, 8, c);
      const j1 = cut(n, colCuts, 8, c + 1);
      if (i1 <= i0 || j1 <= j0) continue;
      bounds.push(i0, i1, j0, j1);
      maxRows = Math.max(maxRows, i1 - i0);
      maxCols = Math.max(maxCols, j1 - j0);
    }
  }
  return { bounds, maxRows, maxCols };
}
