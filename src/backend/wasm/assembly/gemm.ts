// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * Single-precision GEMM, C[m×n] = op(A)·op(B), Goto/BLIS style: the k dimension is cut into blocks
 * of at most KC_MAX; per block, op(B) is packed into 8-column panels ([kc][8], zero padded) and op(A)
 * into 6-row panels ([kc][6]) so the 6×8 micro-kernel reads both sequentially, keeps 12 f32x4
 * accumulators in registers and does 12 multiply-adds per 8 loads (a 4×8 kernel, 8 per 6, ran ~10%
 * slower: 8 chains barely cover the multiply-add latency). With transA, op(A) already has the panel
 * layout (6 consecutive rows per k step), so full tiles read A in place.
 *
 * gemm() computes one rectangular region [i0, i1) × [j0, j1) of C; threads split C between them.
 * Every element is produced by the same micro-kernel with the same k blocking (a function of k alone),
 * so results do not depend on how C is split: 1 and 2 threads are bit-identical.
 */

const MR = 6;
const NR = 8;
const KC_MAX = 256;
/**
 * Rows of A packed at once, a multiple of MR (so only a region's last tile can be partial);
 * MC·KC_MAX floats (~250 KiB) stay in a Zen 3 core's 512 KiB L2.
 */
const MC = 252;
/** A row-major B is read in place by regions of at most this many 6-row tiles. */
const INPLACE_TILES = 4;

@inline export function min(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

/** Depth of one k block: k split into ceil(k / KC_MAX) near-equal blocks. */
export function gemmKc(k: i32): i32 {
  if (k <= 0) return 1;
  const nb = (k + KC_MAX - 1) / KC_MAX;
  return (k + nb - 1) / nb;
}

/** Bytes of workspace gemm() needs for a region of rows × cols. */
export function gemmWorkspace(rows: i32, cols: i32, k: i32): i32 {
  const kc = gemmKc(k);
  const mr = ((min(rows, MC) + MR - 1) / MR) * MR;
  const nr = (cols + NR - 1) & ~(NR - 1);
  return (mr * kc + nr * kc + MR * NR) * 4;
}

/**
 * Packs op(B)[pc .. pc+kb) × [j0, j1) into [panel][kb][8] with zero padding; with `partialOnly`
 * only a partial last panel (full ones are then read in place).
 */
function packB(b: usize, n: i32, k: i32, transB: bool, pc: i32, kb: i32, j0: i32, j1: i32, dst: usize, partialOnly: bool): void {
  const cols = j1 - j0;
  const panels = (cols + NR - 1) / NR;
  for (let jp = 0; jp < panels; jp++) {
    const j = j0 + jp * NR;
    const nc = min(NR, j1 - j);
    if (partialOnly && nc == NR) continue;
    const d = dst + (<usize>(jp * kb * NR) << 2);
    if (!transB) {
      // Row p of op(B) is row pc + p of B: 8 contiguous floats per k step.
      let src = b + (<usize>(pc * n + j) << 2);
      const rowBytes = <usize>n << 2;
      if (nc == NR) {
        for (let p = 0; p < kb; p++) {
          const o = d + (<usize>(p * NR) << 2);
          v128.store(o, v128.load(src));
          v128.store(o, v128.load(src, 16), 16);
          src += rowBytes;
        }
      } else {
        for (let p = 0; p < kb; p++) {
          const o = d + (<usize>(p * NR) << 2);
          for (let jj = 0; jj < NR; jj++) store<f32>(o + (<usize>jj << 2), jj < nc ? load<f32>(src + (<usize>jj << 2)) : 0);
          src += rowBytes;
        }
      }
    } else {
      // op(B)[p][j] = B[j][p]: gather 8 rows of B; full panels transpose 4×4 blocks in registers.
      let p = 0;
      if (nc == NR) {
        const rowBytes = <usize>k << 2;
        const s0 = b + (<usize>(j * k + pc) << 2);
        for (; p + 4 <= kb; p += 4) {
          const s = s0 + (<usize>p << 2);
          const o = d + (<usize>(p * NR) << 2);
          transpose4(s, rowBytes, o);
          transpose4(s + 4 * rowBytes, rowBytes, o + 16);
        }
      }
      for (; p < kb; p++) {
        const o = d + (<usize>(p * NR) << 2);
        for (let jj = 0; jj < NR; jj++) {
          store<f32>(o + (<usize>jj << 2), jj < nc ? load<f32>(b + (<usize>((j + jj) * k + pc + p) << 2)) : 0);
        }
      }
    }
  }
}

/**
 * Reads a 4×4 block (4 rows `stride` bytes apart, 4 floats each) and writes its transpose as four
 * 16-byte groups 32 bytes apart (one per k step of a B panel) — or 16 apart for A, see packA.
 */
@inline export function transpose4To(s: usize, stride: usize, o: usize, ostride: usize): void {
  const a = v128.load(s);
  const b = v128.load(s + stride);
  const c = v128.load(s + 2 * stride);
  const d = v128.load(s + 3 * stride);
  const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  v128.store(o, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(o + ostride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(o + 2 * ostride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(o + 3 * ostride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

@inline function transpose4(s: usize, stride: usize, o: usize): void {
  transpose4To(s, stride, o, NR * 4);
}

/**
 * Packs op(A) rows [i, i + mb) × k range [pc, pc + kb) into [tile][kb][MR], zero padded; with
 * `partialOnly` only a partial last tile (full ones are then read in place).
 */
function packA(a: usize, m: i32, k: i32, transA: bool, i: i32, mb: i32, pc: i32, kb: i32, dst: usize, partialOnly: bool): void {
  const tiles = (mb + MR - 1) / MR;
  for (let t = 0; t < tiles; t++) {
    const r0 = i + t * MR;
    const mr = min(MR, mb - t * MR);
    const d = dst + (<usize>(t * kb * MR) << 2);
    if (partialOnly && mr == MR) continue;
    if (transA) {
      for (let p = 0; p < kb; p++) {
        const src = a + (<usize>((pc + p) * m + r0) << 2);
        const o = d + (<usize>(p * MR) << 2);
        for (let r = 0; r < MR; r++) store<f32>(o + (<usize>r << 2), r < mr ? load<f32>(src + (<usize>r << 2)) : 0);
      }
    } else {
      let p = 0;
      const rowBytes = <usize>k << 2;
      const s0 = a + (<usize>(r0 * k + pc) << 2);
      if (mr == MR) {
        // Rows 0–3 as 4×4 transposes (each k step's group of MR floats starts with them), rows 4–5 by pairs.
        for (; p + 4 <= kb; p += 4) {
          const src = s0 + (<usize>p << 2);
          const o = d + (<usize>(p * MR) << 2);
          transpose4To(src, rowBytes, o, MR * 4);
          const e = v128.load(src + 4 * rowBytes);
          const f = v128.load(src + 5 * rowBytes);
          store<u64>(o + 16, i64x2.extract_lane(v128.shuffle<f32>(e, f, 0, 4, 1, 5), 0));
          store<u64>(o + 16 + MR * 4, i64x2.extract_lane(v128.shuffle<f32>(e, f, 0, 4, 1, 5), 1));
          store<u64>(o + 16 + 2 * MR * 4, i64x2.extract_lane(v128.shuffle<f32>(e, f, 2, 6, 3, 7), 0));
          store<u64>(o + 16 + 3 * MR * 4, i64x2.extract_lane(v128.shuffle<f32>(e, f, 2, 6, 3, 7), 1));
        }
      }
      for (; p < kb; p++) {
        const o = d + (<usize>(p * MR) << 2);
        for (let r = 0; r < MR; r++) store<f32>(o + (<usize>r << 2), r < mr ? load<f32>(s0 + <usize>r * rowBytes + (<usize>p << 2)) : 0);
      }
    }
  }
}

@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/**
 * The 6×8 micro-kernel: C[6×8] (+)= Apanel[kb][6] · Bpanel[kb][8], twelve accumulators (a
 * multiply-add's latency needs that many chains in flight to keep both FMA pipes busy). A rows of
 * one k step are the 6 floats at `ap` (next step `as` bytes on), B's the 8 at `bp` (next step `bs`
 * bytes on); C rows are `ldc` bytes apart.
 */
function kernel6x8(ap: usize, as: usize, bp: usize, bs: usize, kb: i32, c: usize, ldc: usize, first: bool): void {
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128;
  let c30: v128, c31: v128, c40: v128, c41: v128, c50: v128, c51: v128;
  if (first) {
    c00 = f32x4.splat(0);
    c01 = c00;
    c10 = c00;
    c11 = c00;
    c20 = c00;
    c21 = c00;
    c30 = c00;
    c31 = c00;
    c40 = c00;
    c41 = c00;
    c50 = c00;
    c51 = c00;
  } else {
    c00 = v128.load(c);
    c01 = v128.load(c, 16);
    c10 = v128.load(c + ldc);
    c11 = v128.load(c + ldc, 16);
    c20 = v128.load(c + 2 * ldc);
    c21 = v128.load(c + 2 * ldc, 16);
    c30 = v128.load(c + 3 * ldc);
    c31 = v128.load(c + 3 * ldc, 16);
    c40 = v128.load(c + 4 * ldc);
    c41 = v128.load(c + 4 * ldc, 16);
    c50 = v128.load(c + 5 * ldc);
    c51 = v128.load(c + 5 * ldc, 16);
  }
  for (let p = 0; p < kb; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    a = v128.load32_splat(ap, 16);
    c40 = madd(a, b0, c40);
    c41 = madd(a, b1, c41);
    a = v128.load32_splat(ap, 20);
    c50 = madd(a, b0, c50);
    c51 = madd(a, b1, c51);
    bp += bs;
    ap += as;
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + ldc, c10);
  v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20);
  v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30);
  v128.store(c + 3 * ldc, c31, 16);
  v128.store(c + 4 * ldc, c40);
  v128.store(c + 4 * ldc, c41, 16);
  v128.store(c + 5 * ldc, c50);
  v128.store(c + 5 * ldc, c51, 16);
}

/**
 * C region [i0, i1) × [j0, j1) of op(A)·op(B) for A [m×k] (or [k×m] with transA) and B [k×n]
 * (or [n×k] with transB), then the optional epilogue C = relu?(C + bias[j]) (bias 0 = none).
 * `work` must hold gemmWorkspace(i1 - i0, j1 - j0, k) bytes, private to the calling thread.
 */
export function gemm(
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
  j0: i32,
  j1: i32,
  work: usize,
  bias: usize,
  relu: bool,
): void {
  gemmInto(a, b, c, m, n, k, transA, transB, i0, i1, j0, j1, work, bias, relu, false);
}

/**
 * gemm(), or with `accumulate` C (+)= op(A)·op(B): each element's chain goes on from C's value, so
 * products over consecutive slices of k, accumulated in order, give the bits of one product over all
 * of them (the convolution's weight gradient, image block by image block: convUnfolded.ts).
 */
export function gemmInto(
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
  j0: i32,
  j1: i32,
  work: usize,
  bias: usize,
  relu: bool,
  accumulate: bool,
): void {
  if (i0 >= i1 || j0 >= j1) return;
  const ldc = <usize>n << 2;
  if (k > 0) {
    const kc = gemmKc(k);
    const panels = (j1 - j0 + NR - 1) / NR;
    const bpack = work;
    const apack = bpack + (<usize>(panels * NR * kc) << 2);
    const mcr = ((min(i1 - i0, MC) + MR - 1) / MR) * MR;
    const tile = apack + (<usize>(mcr * kc) << 2);
    // Packing makes panels contiguous for reuse by many tiles; full tiles of op(A) with transA have
    // the panel layout already and are read in place, and so are full panels of a row-major B when
    // the region has at most INPLACE_TILES row tiles (a weight gradient's few rows: LeNet conv2's dW,
    // 16×150 over k = 25600, spent more time packing B than multiplying). Partial ones are packed.
    const rowTiles = (min(i1 - i0, MC) + MR - 1) / MR;
    const bInPlace = !transB && rowTiles <= INPLACE_TILES;
    for (let pc = 0; pc < k; pc += kc) {
      const kb = min(kc, k - pc);
      const first = pc == 0 && !accumulate;
      packB(b, n, k, transB, pc, kb, j0, j1, bpack, bInPlace);
      for (let ic = i0; ic < i1; ic += MC) {
        const mb = min(MC, i1 - ic);
        packA(a, m, k, transA, ic, mb, pc, kb, apack, transA);
        for (let jp = 0; jp < panels; jp++) {
          const j = j0 + jp * NR;
          const nc = min(NR, j1 - j);
          let bp = bpack + (<usize>(jp * kb * NR) << 2);
          let bs: usize = NR * 4;
          if (bInPlace && nc == NR) {
            bp = b + (<usize>(pc * n + j) << 2);
            bs = <usize>n << 2;
          }
          for (let ir = 0; ir < mb; ir += MR) {
            const i = ic + ir;
            const mr = min(MR, i1 - i);
            let ap = apack + (<usize>(ir * kb) << 2);
            let as: usize = MR * 4;
            if (transA && mr == MR) {
              ap = a + (<usize>(pc * m + i) << 2);
              as = <usize>m << 2;
            }
            const cp = c + (<usize>(i * n + j) << 2);
            if (mr == MR && nc == NR) {
              kernel6x8(ap, as, bp, bs, kb, cp, ldc, first);
            } else {
              // Edge tile: run the same kernel on a zero-padded 6×8 copy, then copy back.
              if (!first) {
                for (let r = 0; r < MR; r++) {
                  for (let jj = 0; jj < NR; jj++) {
                    const v: f32 = r < mr && jj < nc ? load<f32>(cp + <usize>r * ldc + (<usize>jj << 2)) : 0;
                    store<f32>(tile + (<usize>(r * NR + jj) << 2), v);
                  }
                }
              }
              kernel6x8(ap, as, bp, bs, kb, tile, NR * 4, first);
              for (let r = 0; r < mr; r++) {
                for (let jj = 0; jj < nc; jj++) {
                  store<f32>(cp + <usize>r * ldc + (<usize>jj << 2), load<f32>(tile + (<usize>(r * NR + jj) << 2)));
                }
              }
            }
          }
        }
      }
    }
  } else if (!accumulate) {
    for (let i = i0; i < i1; i++) {
      for (let j = j0; j < j1; j++) store<f32>(c + <usize>i * ldc + (<usize>j << 2), 0);
    }
  }
  if (bias != 0 || relu) epilogue(c, n, i0, i1, j0, j1, bias, relu);
}

/**
 * Items [itemFrom, itemTo) of a batch of products stored one after another (A items m·k floats
 * apart, B k·n, C m·n): each item is one whole gemm, exactly as a lone product of that size.
 */
export function gemmBatch(
  a: usize,
  b: usize,
  c: usize,
  m: i32,
  n: i32,
  k: i32,
  transA: bool,
  transB: bool,
  itemFrom: i32,
  itemTo: i32,
  work: usize,
): void {
  const sa = <usize>(m * k) << 2;
  const sb = <usize>(k * n) << 2;
  const sc = <usize>(m * n) << 2;
  const small = m * n <= SMALL_OUTPUTS && k <= KC_MAX;
  for (let t = itemFrom; t < itemTo; t++) {
    const u = <usize>t;
    if (small) smallGemm(a + u * sa, b + u * sb, c + u * sc, m, n, k, transA, transB, work);
    else gemm(a + u * sa, b + u * sb, c + u * sc, m, n, k, transA, transB, 0, m, 0, n, work, 0, false);
  }
}

/** Items with at most this many outputs (and k ≤ KC_MAX) take smallGemm. */
const SMALL_OUTPUTS = 1024;

/**
 * C = op(A)·op(B) for a small item (attention's per-head 17×17×16): tiling it into 6×8 tiles pays
 * a packed A, a packed B and an edge copy per tile for a few hundred multiply-adds each. Here op(B)
 * is packed once into rows of 4-float vectors, zero padded to a multiple of 4 columns (`work`,
 * k·⌈n/4⌉·4 floats, within gemmWorkspace's), and each row of C is accumulated in registers. Every
 * element is the same chain as in kernel6x8 (0, then one madd per k step in order, one lane of one
 * vector), so results are bit-identical to gemm()'s.
 */
function smallGemm(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, transA: bool, transB: bool, work: usize): void {
  const np = (n + 3) & ~3;
  const rowBytes = <usize>np << 2;
  for (let p = 0; p < k; p++) {
    const d = work + <usize>p * rowBytes;
    for (let j = 0; j < n; j++) {
      store<f32>(d + (<usize>j << 2), transB ? load<f32>(b + (<usize>(j * k + p) << 2)) : load<f32>(b + (<usize>(p * n + j) << 2)));
    }
    for (let j = n; j < np; j++) store<f32>(d + (<usize>j << 2), 0);
  }
  // op(A)[i][p] is `stepA` bytes from op(A)[i][p − 1] (the next float, or the next row of A), and
  // op(A)[i + 1][p] is `nextA` bytes from op(A)[i][p]. A multiply-add's latency is several cycles, so
  // each loop keeps 8 (or 4) independent accumulator chains: two rows × 16 columns, then the last
  // columns one vector at a time for four rows.
  const stepA: usize = transA ? <usize>m << 2 : 4;
  const nextA: usize = transA ? 4 : <usize>k << 2;
  const ldc = <usize>n << 2;
  const wide = np & ~15;
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const ai = a + <usize>i * nextA;
    const ci = c + <usize>i * ldc;
    for (let j = 0; j < wide; j += 16) {
      let c0 = f32x4.splat(0);
      let c1 = c0, c2 = c0, c3 = c0, d0 = c0, d1 = c0, d2 = c0, d3 = c0;
      let ap = ai;
      let bp = work + (<usize>j << 2);
      for (let p = 0; p < k; p++) {
        const b0 = v128.load(bp);
        const b1 = v128.load(bp, 16);
        const b2 = v128.load(bp, 32);
        const b3 = v128.load(bp, 48);
        let av = v128.load32_splat(ap);
        c0 = madd(av, b0, c0);
        c1 = madd(av, b1, c1);
        c2 = madd(av, b2, c2);
        c3 = madd(av, b3, c3);
        av = v128.load32_splat(ap + nextA);
        d0 = madd(av, b0, d0);
        d1 = madd(av, b1, d1);
        d2 = madd(av, b2, d2);
        d3 = madd(av, b3, d3);
        ap += stepA;
        bp += rowBytes;
      }
      storeColumns(ci, j, n, c0);
      storeColumns(ci, j + 4, n, c1);
      storeColumns(ci, j + 8, n, c2);
      storeColumns(ci, j + 12, n, c3);
      storeColumns(ci + ldc, j, n, d0);
      storeColumns(ci + ldc, j + 4, n, d1);
      storeColumns(ci + ldc, j + 8, n, d2);
      storeColumns(ci + ldc, j + 12, n, d3);
    }
  }
  for (; i < m; i++) {
    const ai = a + <usize>i * nextA;
    const ci = c + <usize>i * ldc;
    for (let j = 0; j < wide; j += 16) {
      let c0 = f32x4.splat(0);
      let c1 = c0, c2 = c0, c3 = c0;
      let ap = ai;
      let bp = work + (<usize>j << 2);
      for (let p = 0; p < k; p++) {
        const av = v128.load32_splat(ap);
        c0 = madd(av, v128.load(bp), c0);
        c1 = madd(av, v128.load(bp, 16), c1);
        c2 = madd(av, v128.load(bp, 32), c2);
        c3 = madd(av, v128.load(bp, 48), c3);
        ap += stepA;
        bp += rowBytes;
      }
      storeColumns(ci, j, n, c0);
      storeColumns(ci, j + 4, n, c1);
      storeColumns(ci, j + 8, n, c2);
      storeColumns(ci, j + 12, n, c3);
    }
  }
  for (let j = wide; j < np; j += 4) {
    const bj = work + (<usize>j << 2);
    let r = 0;
    for (; r + 4 <= m; r += 4) {
      let c0 = f32x4.splat(0);
      let c1 = c0, c2 = c0, c3 = c0;
      let ap = a + <usize>r * nextA;
      let bp = bj;
      for (let p = 0; p < k; p++) {
        const b0 = v128.load(bp);
        c0 = madd(v128.load32_splat(ap), b0, c0);
        c1 = madd(v128.load32_splat(ap + nextA), b0, c1);
        c2 = madd(v128.load32_splat(ap + 2 * nextA), b0, c2);
        c3 = madd(v128.load32_splat(ap + 3 * nextA), b0, c3);
        ap += stepA;
        bp += rowBytes;
      }
      const cr = c + <usize>r * ldc;
      storeColumns(cr, j, n, c0);
      storeColumns(cr + ldc, j, n, c1);
      storeColumns(cr + 2 * ldc, j, n, c2);
      storeColumns(cr + 3 * ldc, j, n, c3);
    }
    for (; r < m; r++) {
      let c0 = f32x4.splat(0);
      let ap = a + <usize>r * nextA;
      let bp = bj;
      for (let p = 0; p < k; p++) {
        c0 = madd(v128.load32_splat(ap), v128.load(bp), c0);
        ap += stepA;
        bp += rowBytes;
      }
      storeColumns(c + <usize>r * ldc, j, n, c0);
    }
  }
}

/** Stores the lanes of v that fall in columns [j, min(j + 4, n)) of the row at `row`. */
@inline function storeColumns(row: usize, j: i32, n: i32, v: v128): void {
  const o = row + (<usize>j << 2);
  if (j + 4 <= n) {
    v128.store(o, v);
    return;
  }
  const left = n - j;
  if (left > 0) store<f32>(o, f32x4.extract_lane(v, 0));
  if (left > 1) store<f32>(o, f32x4.extract_lane(v, 1), 4);
  if (left > 2) store<f32>(o, f32x4.extract_lane(v, 2), 8);
}

/** C = relu?(C + bias[j]) over the region; rounds the sum to f32 before the ReLU like the oracle. */
export function epilogue(c: usize, n: i32, i0: i32, i1: i32, j0: i32, j1: i32, bias: usize, relu: bool): void {
  const zero = f32x4.splat(0);
  for (let i = i0; i < i1; i++) {
    const row = c + (<usize>(i * n) << 2);
    let j = j0;
    for (; j + 4 <= j1; j += 4) {
      const o = <usize>j << 2;
      let v = v128.load(row + o);
      if (bias != 0) v = f32x4.add(v, v128.load(bias + o));
      // !(v > 0) -> 0: NaN and -0 become +0, exactly as in the oracle.
      if (relu) v = v128.and(v, f32x4.gt(v, zero));
      v128.store(row + o, v);
    }
    for (; j < j1; j++) {
      const o = <usize>j << 2;
      let v = load<f32>(row + o);
      if (bias != 0) v += load<f32>(bias + o);
      if (relu && !(v > 0)) v = 0;
      store<f32>(row + o, v);
    }
  }
}
