// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * Sparse × dense GEMM for the operands dropout and ReLU leave mostly zero. In the book's dropout MLP
 * (p = 0.5 after ReLU) 75–85% of the hidden activations and of their gradients are exact zeros, so
 * the second layer's forward product, both layers' weight gradients and the first hidden gradient do
 * a fifth to a quarter of the multiply-adds when the zeros are skipped (and Fashion-MNIST images,
 * half zeros, make the first layer's forward product a half). op(A) is compressed to rows of
 * (B-row offset, value) pairs (CSR); each row of C is then a sum of scaled rows of op(B), packed in
 * 24-column blocks and accumulated in six f32x4 registers per block.
 *
 * Every element of C is one chain of multiply-adds over its row's nonzeros in increasing k, starting
 * from 0 — the same chain the dense micro-kernel runs, minus steps that add 0 · b — so for finite
 * inputs the result is bit-identical to gemm() and does not depend on how threads split C. Skipping
 * zeros means 0 · ∞ contributes 0 instead of NaN, as in sparse BLAS; NaN in A is kept.
 */
import { epilogue, madd, min, transpose4To } from './gemm';

/** Fraction of nonzero (or NaN) entries in every `step`-th row of a row-major [rows × cols] matrix. */
export function sampleDensity(a: usize, rows: i32, cols: i32, step: i32): f64 {
  const zero = f32x4.splat(0);
  let nz: i64 = 0;
  let total: i64 = 0;
  for (let r = 0; r < rows; r += step) {
    const row = a + (<usize>r * <usize>cols << 2);
    let acc = i32x4.splat(0);
    let c = 0;
    for (; c + 4 <= cols; c += 4) acc = i32x4.sub(acc, f32x4.ne(v128.load(row + (<usize>c << 2)), zero));
    nz += i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
    for (; c < cols; c++) if (load<f32>(row + (<usize>c << 2)) != 0) nz++;
    total += cols;
  }
  return total == 0 ? 1.0 : <f64>nz / <f64>total;
}

/**
 * Shuffles for i8x16.swizzle that move the lanes set in a 4-bit mask to the front, in order (mask m
 * at byte 16 · m; 255 zeroes the lanes left over).
 */
const COMPRESS = memory.data<u8>([
  255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  0, 1, 2, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  4, 5, 6, 7, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  0, 1, 2, 3, 4, 5, 6, 7, 255, 255, 255, 255, 255, 255, 255, 255,
  8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  0, 1, 2, 3, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255,
  4, 5, 6, 7, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255, 255, 255, 255,
  12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  0, 1, 2, 3, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255,
  4, 5, 6, 7, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255,
  0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 255, 255, 255, 255,
  8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255,
  0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255,
  4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
]);

/**
 * CSR of rows [i0, i1) of a row-major A [· × lda], columns [0, k): ptr[r] .. ptr[r + 1] index row
 * i0 + r's nonzeros; idx holds the byte offset p · ldb of the B row each one multiplies, val its
 * value. Branch-free: each group of 4 is compressed with one swizzle and stored whole, and the
 * cursor moves by its popcount (a loop over the mask's bits mispredicts on every group of a fresh
 * dropout pattern: measured 3× slower in training than on a repeated one). val and idx need 3
 * floats of slack past the last nonzero.
 */
function csrFromRows(a: usize, lda: i32, k: i32, i0: i32, i1: i32, ldb: i32, ptr: usize, idx: usize, val: usize): void {
  const zero = f32x4.splat(0);
  const lanes = i32x4(0, ldb, 2 * ldb, 3 * ldb);
  const m = i1 - i0;
  let e = 0;
  for (let i = 0; i < m; i++) {
    store<i32>(ptr + (<usize>i << 2), e);
    const row = a + (<usize>(i0 + i) * <usize>lda << 2);
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const v = v128.load(row + (<usize>p << 2));
      const bits = i32x4.bitmask(f32x4.ne(v, zero));
      const sh = v128.load(COMPRESS + (<usize>bits << 4));
      v128.store(val + (<usize>e << 2), i8x16.swizzle(v, sh));
      v128.store(idx + (<usize>e << 2), i8x16.swizzle(i32x4.add(lanes, i32x4.splat(p * ldb)), sh));
      e += popcnt<i32>(bits);
    }
    for (; p < k; p++) {
      const x = load<f32>(row + (<usize>p << 2));
      if (x != 0) {
        store<u32>(idx + (<usize>e << 2), <u32>p * <u32>ldb);
        store<f32>(val + (<usize>e << 2), x);
        e++;
      }
    }
  }
  store<i32>(ptr + (<usize>m << 2), e);
}

/**
 * dst [(i1 − i0) × k] = columns [i0, i1) of a row-major A [k × lda], transposed, so that the rows of
 * op(A) = Aᵀ can be compressed like any row-major rows (4 × 4 register transposes, scalar edges).
 */
function transposeCols(a: usize, k: i32, lda: i32, i0: i32, i1: i32, dst: usize): void {
  const sRow = <usize>lda << 2;
  const dRow = <usize>k << 2;
  const rows = i1 - i0;
  const r4 = rows & ~3;
  const k4 = k & ~3;
  for (let p = 0; p < k4; p += 4) {
    for (let r = 0; r < r4; r += 4) {
      transpose4To(a + <usize>p * sRow + (<usize>(i0 + r) << 2), sRow, dst + <usize>r * dRow + (<usize>p << 2), dRow);
    }
  }
  // Edges: rows r4.. of every column, and every row of the columns k4.. (which the blocks skip).
  for (let p = 0; p < k; p++) {
    const from = p < k4 ? r4 : 0;
    for (let r = from; r < rows; r++) store<f32>(dst + <usize>r * dRow + (<usize>p << 2), load<f32>(a + <usize>p * sRow + (<usize>(i0 + r) << 2)));
  }
}

/**
 * Columns per register block: six f32x4 accumulators. V8 issues a block's loads before its
 * multiply-adds, so eight accumulators (32 columns) needed 17 vector registers and spilled two per
 * nonzero; six plus six loads plus the splat fit in the 15 it allocates.
 */
const BW = 24;
/** Bytes per packed row of a block (idx holds p · ROW_BYTES). */
const ROW_BYTES = BW * 4;

/** Columns covered by full blocks. */
@inline function fullWidth(n: i32): i32 {
  return n - (n % BW);
}

/** Width in floats of the packed tail block: n's last n % BW columns, rounded up to a multiple of 4. */
@inline function tailWidth(n: i32): i32 {
  return ((n % BW) + 3) & ~3;
}

/**
 * Packs op(B) [k × n] into column blocks: BW-wide blocks [k][BW] one after another, then the tail
 * block [k][tailWidth(n)] zero padded. Each block is contiguous, so a block's rows stay in L1 while
 * every row of C is accumulated, and the copy is private to the thread that made it (B's lines may
 * sit modified in the other core's cache; reading them once, sequentially, is far cheaper than in
 * the kernel's random row order).
 */
function packB(b: usize, n: i32, k: i32, transB: bool, dst: usize): void {
  const nFull = fullWidth(n);
  const wt = tailWidth(n);
  const tail = dst + (<usize>nFull * <usize>k << 2);
  if (!transB) {
    for (let p = 0; p < k; p++) {
      const src = b + (<usize>p * <usize>n << 2);
      for (let j = 0; j < nFull; j += BW) {
        const d = dst + (<usize>(j * k + p * BW) << 2);
        const s = src + (<usize>j << 2);
        for (let q: usize = 0; q < <usize>ROW_BYTES; q += 16) v128.store(d + q, v128.load(s + q));
      }
      const d = tail + (<usize>(p * wt) << 2);
      for (let j = 0; j < wt; j++) store<f32>(d + (<usize>j << 2), nFull + j < n ? load<f32>(src + (<usize>(nFull + j) << 2)) : 0);
    }
    return;
  }
  // op(B)[p][j] = B[j][p] for B [n × k]: 4 × 4 register transposes, scalar edges.
  const sRow = <usize>k << 2;
  const k4 = k & ~3;
  for (let jb = 0; jb < nFull; jb += BW) {
    const blk = dst + (<usize>(jb * k) << 2);
    for (let j = jb; j < jb + BW; j += 4) {
      const s = b + <usize>j * sRow;
      const o = blk + (<usize>(j - jb) << 2);
      for (let p = 0; p < k4; p += 4) transpose4To(s + (<usize>p << 2), sRow, o + (<usize>(p * BW) << 2), ROW_BYTES);
      for (let p = k4; p < k; p++) {
        for (let r = 0; r < 4; r++) store<f32>(o + (<usize>(p * BW + r) << 2), load<f32>(s + <usize>r * sRow + (<usize>p << 2)));
      }
    }
  }
  for (let p = 0; p < k; p++) {
    const d = tail + (<usize>(p * wt) << 2);
    for (let j = 0; j < wt; j++) store<f32>(d + (<usize>j << 2), nFull + j < n ? load<f32>(b + <usize>(nFull + j) * sRow + (<usize>p << 2)) : 0);
  }
}

/** Bytes of workspace spmm() needs for `rows` rows of C. */
export function spmmWorkspace(rows: i32, n: i32, k: i32): i32 {
  // packed B, ptr, idx and val (with 4 floats of slack each), then op(A)'s rows when A is transposed.
  return (fullWidth(n) + tailWidth(n)) * k * 4 + (((rows + 4) >> 2) << 4) + 8 * (rows * k + 4) + 4 * rows * k;
}

/**
 * Rows [i0, i1) of C = op(A)·op(B) skipping op(A)'s zeros, for A [m × k] (or [k × m] with transA)
 * and B [k × n] (or [n × k] with transB), then the optional epilogue C = relu?(C + bias[j]).
 * `work` (spmmWorkspace bytes) is private to the calling thread: each thread compresses its own rows
 * and packs its own copy of B, so nothing it writes is read by the other core.
 */
export function spmm(
  a: usize,
  b: usize,
  c: usize,
  m: i32,
  n: i32,
  k: i32,
  transA: bool,
  transB: bool,
  i0: i32,
  i1: i32,
  work: usize,
  bias: usize,
  relu: bool,
): void {
  if (i0 >= i1) return;
  const nFull = fullWidth(n);
  const wt = tailWidth(n);
  const bp = work;
  packB(b, n, k, transB, bp);
  const rows = i1 - i0;
  const ptr = bp + (<usize>((nFull + wt) * k) << 2);
  const idx = ptr + (<usize>((rows + 4) >> 2) << 4);
  const val = idx + (<usize>(rows * k + 4) << 2);
  // idx holds p · ROW_BYTES: the byte offset of row p in a block (the tail rescales it).
  if (transA) {
    const at = val + (<usize>(rows * k + 4) << 2);
    transposeCols(a, k, m, i0, i1, at);
    csrFromRows(at, k, k, 0, rows, ROW_BYTES, ptr, idx, val);
  } else {
    csrFromRows(a, k, k, i0, i1, ROW_BYTES, ptr, idx, val);
  }
  const ldc = <usize>n << 2;
  const cr = c + <usize>i0 * ldc;
  // Claim C's lines with one sequential pass first: the kernel writes them 128 bytes per row per
  // block, and when the other core last wrote this storage each such write waited on a snoop
  // (measured: a 256 × 256 half went from ~450 to ~300 µs in training).
  memory.fill(cr, 0, <usize>rows * ldc);
  for (let j = 0; j < nFull; j += BW) {
    block(ptr, idx, val, bp + (<usize>(j * k) << 2), cr + (<usize>j << 2), rows, ldc);
  }
  const tail = bp + (<usize>(nFull * k) << 2);
  let j = 0;
  // A 16-column tail (784 = 24 · 32 + 16) in one pass with four chains; one chain per pass would
  // wait on the multiply-add latency.
  if (wt >= 16 && n - nFull >= 16) {
    tail16(ptr, idx, val, tail, <u32>wt << 2, cr + (<usize>nFull << 2), rows, ldc);
    j = 16;
  }
  for (; j < wt; j += 4) {
    tail4(ptr, idx, val, tail + (<usize>j << 2), <u32>wt << 2, cr + (<usize>(nFull + j) << 2), rows, ldc, min(4, n - nFull - j));
  }
  if (bias != 0 || relu) epilogue(c, n, i0, i1, 0, n, bias, relu);
}

/** BW (24) columns of C: six f32x4 accumulators per row, one splat of A's value per nonzero. */
function block(ptr: usize, idx: usize, val: usize, b: usize, c: usize, m: i32, ldc: usize): void {
  let e = load<i32>(ptr);
  for (let i = 0; i < m; i++) {
    const end = load<i32>(ptr + (<usize>(i + 1) << 2));
    let c0 = f32x4.splat(0);
    let c1 = c0;
    let c2 = c0;
    let c3 = c0;
    let c4 = c0;
    let c5 = c0;
    for (; e < end; e++) {
      const a = v128.load32_splat(val + (<usize>e << 2));
      const bp = b + <usize>load<u32>(idx + (<usize>e << 2));
      c0 = madd(a, v128.load(bp), c0);
      c1 = madd(a, v128.load(bp, 16), c1);
      c2 = madd(a, v128.load(bp, 32), c2);
      c3 = madd(a, v128.load(bp, 48), c3);
      c4 = madd(a, v128.load(bp, 64), c4);
      c5 = madd(a, v128.load(bp, 80), c5);
    }
    const cp = c + <usize>i * ldc;
    v128.store(cp, c0);
    v128.store(cp, c1, 16);
    v128.store(cp, c2, 32);
    v128.store(cp, c3, 48);
    v128.store(cp, c4, 64);
    v128.store(cp, c5, 80);
  }
}

/** 16 full columns of the tail block (rows `rowBytes` apart): four accumulators, as in block(). */
function tail16(ptr: usize, idx: usize, val: usize, b: usize, rowBytes: u32, c: usize, m: i32, ldc: usize): void {
  let e = load<i32>(ptr);
  for (let i = 0; i < m; i++) {
    const end = load<i32>(ptr + (<usize>(i + 1) << 2));
    let c0 = f32x4.splat(0);
    let c1 = c0;
    let c2 = c0;
    let c3 = c0;
    for (; e < end; e++) {
      const a = v128.load32_splat(val + (<usize>e << 2));
      const bp = b + <usize>((load<u32>(idx + (<usize>e << 2)) / ROW_BYTES) * rowBytes);
      c0 = madd(a, v128.load(bp), c0);
      c1 = madd(a, v128.load(bp, 16), c1);
      c2 = madd(a, v128.load(bp, 32), c2);
      c3 = madd(a, v128.load(bp, 48), c3);
    }
    const cp = c + <usize>i * ldc;
    v128.store(cp, c0);
    v128.store(cp, c1, 16);
    v128.store(cp, c2, 32);
    v128.store(cp, c3, 48);
  }
}

/**
 * 4 columns of the tail block (rows `rowBytes` apart) with one accumulator: the same chain per
 * element as block(). Stores the first `cols` lanes (the last group may be partial).
 */
function tail4(ptr: usize, idx: usize, val: usize, b: usize, rowBytes: u32, c: usize, m: i32, ldc: usize, cols: i32): void {
  let e = load<i32>(ptr);
  for (let i = 0; i < m; i++) {
    const end = load<i32>(ptr + (<usize>(i + 1) << 2));
    let c0 = f32x4.splat(0);
    for (; e < end; e++) {
      const bp = b + <usize>((load<u32>(idx + (<usize>e << 2)) / ROW_BYTES) * rowBytes);
      c0 = madd(v128.load32_splat(val + (<usize>e << 2)), v128.load(bp), c0);
    }
    const cp = c + <usize>i * ldc;
    if (cols == 4) {
      v128.store(cp, c0);
    } else {
      store<f32>(cp, f32x4.extract_lane(c0, 0));
      if (cols > 1) store<f32>(cp, f32x4.extract_lane(c0, 1), 4);
      if (cols > 2) store<f32>(cp, f32x4.extract_lane(c0, 2), 8);
    }
  }
}
