// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * Fused scaled-dot-product attention, forward and backward, for blocks [blockFrom, blockTo) of
 * (n, h) pairs (a helper thread's range; whole blocks, so any split computes every block the same).
 * q [N, T, H, D], k [N, S, H, D], v [N, S, H, Dv] and the output [N, T, H, Dv] are read and written in
 * place (a linear layer's output reshaped: no head permute); the probabilities are [N, H, T, S]. The
 * sizes sit at `shape` as eight words: T, S, H, D, Dv and the token strides of q, k and v in floats
 * (H·D, H·D, H·Dv for three tensors; 3·H·D each for one packed qkv [N, L, 3, H, D], whose k and v
 * pointers then point H·D and 2·H·D floats in: Backend's attentionLayout). dq, dk and dv take q's,
 * k's and v's strides; dOut and the output are always [N, T, H, Dv].
 *
 * Every sum is one float32 accumulator from 0 over its index in ascending order, each product rounded
 * (plain f32x4 mul then add, never a fused multiply-add, in both builds): four outputs per SIMD step,
 * one per lane, so a lane and the scalar tail add the same terms in the same order as the reference
 * backend's loops (src/backend/reference.ts), bit for bit. Score rows put the keys on the lanes, read
 * from the block's kᵀ (or vᵀ) staged in the thread's workspace; the other products put D or Dv on the
 * lanes, read from the rows as they lie. A lane's sum is the same whichever lane or block computes it,
 * so the keys' padding lanes, the blocks of sixteen or four and the rows computed two at a time change
 * nothing. The softmax of each score row takes softmax.ts's steps (softmaxPadded; four rows at a time
 * in softmaxRows4), and the softmax's backward is float64 as softmaxBackward's, rounded once. Each
 * float64 row sum (the softmax's Σ exp, the backward's Σ dP·probs) is one accumulator from 0 adding its
 * row's terms in ascending order, as the reference does: four rows at a time, a row per f64x2 lane
 * (f64x2 arithmetic is the scalar's, lane by lane), so that the rows' latency-bound chains overlap.
 */
import { expF32V } from './expf32';

/** Word `i` of the shape block. */
@inline function word(shape: usize, i: i32): i32 {
  return load<i32>(shape + (<usize>i << 2));
}

/** Byte offset of element `i` of a float32 array. */
@inline function at(i: i32): usize {
  return <usize>i << 2;
}

/** `n` rounded up to a multiple of 4: the staged matrices' row length, so every key has a lane. */
@inline function pad4(n: i32): i32 {
  return (n + 3) & ~3;
}

/** b where b > a or b is NaN, else a, lane by lane: a running maximum that keeps a NaN it has met. */
@inline function keepMax(a: v128, b: v128): v128 {
  return v128.bitselect(b, a, v128.or(f32x4.gt(b, a), f32x4.ne(b, b)));
}

/** (a₀, b₀, a₁, b₁). */
@inline function zipLo(a: v128, b: v128): v128 {
  return f32x4.shuffle(a, b, 0, 4, 1, 5);
}

/** (a₂, b₂, a₃, b₃). */
@inline function zipHi(a: v128, b: v128): v128 {
  return f32x4.shuffle(a, b, 2, 6, 3, 7);
}

/** (a₀, a₁, b₀, b₁). */
@inline function lowHalves(a: v128, b: v128): v128 {
  return i64x2.shuffle(a, b, 0, 2);
}

/** (a₂, a₃, b₂, b₃). */
@inline function highHalves(a: v128, b: v128): v128 {
  return i64x2.shuffle(a, b, 1, 3);
}

/** Lanes 2 and 3 of `a` as float64 (promote_low takes lanes 0 and 1). */
@inline function promoteHigh(a: v128): v128 {
  return f64x2.promote_low_f32x4(i64x2.shuffle(a, a, 1, 1));
}

/** Two float64 quotients pairs' lanes rounded to float32, (a₀, a₁, b₀, b₁). */
@inline function demotePair(a: v128, b: v128): v128 {
  return i64x2.shuffle(f32x4.demote_f64x2_zero(a), f32x4.demote_f64x2_zero(b), 0, 2);
}

/**
 * Stages the [rows, cols] matrix at `src` (row stride `stride` floats) transposed into `dst` [cols,
 * pad4(rows)], the padding columns zero (never stored anywhere; zero so they cost no subnormal). Four
 * rows at a time: four columns of them by a 4×4 transpose in registers (an element at a time cost as
 * much as the scores' products), a last odd column or three gathered lane by lane; the last rows
 * (rows mod 4) are gathered lane by lane with the padding lanes zero.
 */
@inline function transpose(src: usize, stride: i32, rows: i32, cols: i32, dst: usize): void {
  const n = pad4(rows);
  const c4 = cols & ~3;
  const next = at(stride);
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const p0 = src + at(r * stride);
    const p1 = p0 + next;
    const p2 = p1 + next;
    const p3 = p2 + next;
    const d = dst + at(r);
    let c = 0;
    for (; c < c4; c += 4) {
      const a0 = v128.load(p0 + at(c));
      const a1 = v128.load(p1 + at(c));
      const a2 = v128.load(p2 + at(c));
      const a3 = v128.load(p3 + at(c));
      const u0 = zipLo(a0, a1);
      const u1 = zipHi(a0, a1);
      const u2 = zipLo(a2, a3);
      const u3 = zipHi(a2, a3);
      const o = d + at(c * n);
      v128.store(o, lowHalves(u0, u2));
      v128.store(o + at(n), highHalves(u0, u2));
      v128.store(o + at(2 * n), lowHalves(u1, u3));
      v128.store(o + at(3 * n), highHalves(u1, u3));
    }
    for (; c < cols; c++) {
      let v = v128.load32_zero(p0 + at(c));
      v = v128.load32_lane(p1 + at(c), v, 1);
      v = v128.load32_lane(p2 + at(c), v, 2);
      v = v128.load32_lane(p3 + at(c), v, 3);
      v128.store(d + at(c * n), v);
    }
  }
  if (r < rows) {
    const live = rows - r;
    const p0 = src + at(r * stride);
    for (let c = 0; c < cols; c++) {
      let v = v128.load32_zero(p0 + at(c));
      if (live > 1) v = v128.load32_lane(p0 + next + at(c), v, 1);
      if (live > 2) v = v128.load32_lane(p0 + 2 * next + at(c), v, 2);
      v128.store(dst + at(c * n + r), v);
    }
  }
}

/**
 * out_j = Σ_i a_i · bT[i, j] for j < pad4(cols) (i < n ascending, a float32 sum from 0 per lane): the
 * keys on the lanes, bT [n, pad4(cols)] staged in the workspace, out a workspace row of pad4(cols).
 * Sixteen outputs at a time (four independent sums, so the adds' latency overlaps), then four. Used
 * for the scores (a = q_t, bT = kᵀ) and dP (a = dOut_t, bT = vᵀ). With `scaled`, each finished sum is
 * multiplied by `sc` as it is stored (the reference's round(sum) · round(scale)).
 */
@inline function rowTimesStaged(a: usize, bT: usize, n: i32, cols: i32, out: usize, scaled: bool, sc: v128): void {
  const m = pad4(cols);
  let j = 0;
  for (; j + 16 <= m; j += 16) {
    let c0 = f32x4.splat(0);
    let c1 = f32x4.splat(0);
    let c2 = f32x4.splat(0);
    let c3 = f32x4.splat(0);
    // Pointers stepped rather than indices multiplied: the integer ops share ports with the float ones.
    let ap = a;
    let b = bT + at(j);
    const step = at(m);
    for (let i = 0; i < n; i++) {
      const ai = v128.load32_splat(ap);
      c0 = f32x4.add(c0, f32x4.mul(ai, v128.load(b)));
      c1 = f32x4.add(c1, f32x4.mul(ai, v128.load(b, 16)));
      c2 = f32x4.add(c2, f32x4.mul(ai, v128.load(b, 32)));
      c3 = f32x4.add(c3, f32x4.mul(ai, v128.load(b, 48)));
      ap += 4;
      b += step;
    }
    if (scaled) {
      c0 = f32x4.mul(c0, sc);
      c1 = f32x4.mul(c1, sc);
      c2 = f32x4.mul(c2, sc);
      c3 = f32x4.mul(c3, sc);
    }
    const o = out + at(j);
    v128.store(o, c0);
    v128.store(o, c1, 16);
    v128.store(o, c2, 32);
    v128.store(o, c3, 48);
  }
  for (; j < m; j += 4) {
    let c0 = f32x4.splat(0);
    let ap = a;
    let b = bT + at(j);
    for (let i = 0; i < n; i++) {
      c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(ap), v128.load(b)));
      ap += 4;
      b += at(m);
    }
    if (scaled) c0 = f32x4.mul(c0, sc);
    v128.store(out + at(j), c0);
  }
}

/**
 * rowTimesStaged for `rows` rows of a (row stride `aStride` floats) into the rows of `out` [rows,
 * pad4(cols)], two rows at a time: each loaded vector of bT serves both rows, and the narrow last
 * block (four outputs, one chain of adds per row) runs two chains at once. An odd last row goes alone.
 */
@inline function rowsTimesStaged(
  a: usize,
  aStride: i32,
  rows: i32,
  bT: usize,
  n: i32,
  cols: i32,
  out: usize,
  scaled: bool,
  sc: v128,
): void {
  const m = pad4(cols);
  let r = 0;
  for (; r + 2 <= rows; r += 2) {
    const a0 = a + at(r * aStride);
    const a1 = a0 + at(aStride);
    const o0 = out + at(r * m);
    const o1 = o0 + at(m);
    let j = 0;
    for (; j + 16 <= m; j += 16) {
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let c2 = f32x4.splat(0);
      let c3 = f32x4.splat(0);
      let d0 = f32x4.splat(0);
      let d1 = f32x4.splat(0);
      let d2 = f32x4.splat(0);
      let d3 = f32x4.splat(0);
      let p0 = a0;
      let b = bT + at(j);
      const step = at(m);
      const next = a1 - a0;
      for (let i = 0; i < n; i++) {
        const x0 = v128.load32_splat(p0);
        const x1 = v128.load32_splat(p0 + next);
        p0 += 4;
        const b0 = v128.load(b);
        const b1 = v128.load(b, 16);
        const b2 = v128.load(b, 32);
        const b3 = v128.load(b, 48);
        c0 = f32x4.add(c0, f32x4.mul(x0, b0));
        c1 = f32x4.add(c1, f32x4.mul(x0, b1));
        c2 = f32x4.add(c2, f32x4.mul(x0, b2));
        c3 = f32x4.add(c3, f32x4.mul(x0, b3));
        d0 = f32x4.add(d0, f32x4.mul(x1, b0));
        d1 = f32x4.add(d1, f32x4.mul(x1, b1));
        d2 = f32x4.add(d2, f32x4.mul(x1, b2));
        d3 = f32x4.add(d3, f32x4.mul(x1, b3));
        b += step;
      }
      if (scaled) {
        c0 = f32x4.mul(c0, sc);
        c1 = f32x4.mul(c1, sc);
        c2 = f32x4.mul(c2, sc);
        c3 = f32x4.mul(c3, sc);
        d0 = f32x4.mul(d0, sc);
        d1 = f32x4.mul(d1, sc);
        d2 = f32x4.mul(d2, sc);
        d3 = f32x4.mul(d3, sc);
      }
      v128.store(o0 + at(j), c0);
      v128.store(o0 + at(j), c1, 16);
      v128.store(o0 + at(j), c2, 32);
      v128.store(o0 + at(j), c3, 48);
      v128.store(o1 + at(j), d0);
      v128.store(o1 + at(j), d1, 16);
      v128.store(o1 + at(j), d2, 32);
      v128.store(o1 + at(j), d3, 48);
    }
    for (; j < m; j += 4) {
      let c0 = f32x4.splat(0);
      let d0 = f32x4.splat(0);
      let p0 = a0;
      let b = bT + at(j);
      const next = a1 - a0;
      for (let i = 0; i < n; i++) {
        const b0 = v128.load(b);
        c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(p0), b0));
        d0 = f32x4.add(d0, f32x4.mul(v128.load32_splat(p0 + next), b0));
        p0 += 4;
        b += at(m);
      }
      if (scaled) {
        c0 = f32x4.mul(c0, sc);
        d0 = f32x4.mul(d0, sc);
      }
      v128.store(o0 + at(j), c0);
      v128.store(o1 + at(j), d0);
    }
  }
  if (r < rows) rowTimesStaged(a + at(r * aStride), bT, n, cols, out + at(r * m), scaled, sc);
}

/**
 * out_e = Σ_i w[i·wStep] · b[i·bStride + e] for e < width (i < n ascending, a float32 sum from 0): the
 * row's lanes, rows of b read in place, sixteen outputs at a time, then four, then one by one (the
 * output is a row of a tensor: nothing past `width` may be written). Used for O = P·v, dq = dS·k,
 * dk = dSᵀ·q and dv = Pᵀ·dOut.
 */
@inline function weightedRows(w: usize, wStep: i32, b: usize, bStride: i32, n: i32, width: i32, out: usize): void {
  let e = 0;
  for (; e + 16 <= width; e += 16) {
    let c0 = f32x4.splat(0);
    let c1 = f32x4.splat(0);
    let c2 = f32x4.splat(0);
    let c3 = f32x4.splat(0);
    let wp = w;
    let r = b + at(e);
    const wNext = at(wStep);
    const rNext = at(bStride);
    for (let i = 0; i < n; i++) {
      const wi = v128.load32_splat(wp);
      c0 = f32x4.add(c0, f32x4.mul(wi, v128.load(r)));
      c1 = f32x4.add(c1, f32x4.mul(wi, v128.load(r, 16)));
      c2 = f32x4.add(c2, f32x4.mul(wi, v128.load(r, 32)));
      c3 = f32x4.add(c3, f32x4.mul(wi, v128.load(r, 48)));
      wp += wNext;
      r += rNext;
    }
    const o = out + at(e);
    v128.store(o, c0);
    v128.store(o, c1, 16);
    v128.store(o, c2, 32);
    v128.store(o, c3, 48);
  }
  for (; e + 4 <= width; e += 4) {
    let c0 = f32x4.splat(0);
    let wp = w;
    let r = b + at(e);
    for (let i = 0; i < n; i++) {
      c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(wp), v128.load(r)));
      wp += at(wStep);
      r += at(bStride);
    }
    v128.store(out + at(e), c0);
  }
  for (; e < width; e++) {
    let acc: f32 = 0;
    for (let i = 0; i < n; i++) acc += load<f32>(w + at(i * wStep)) * load<f32>(b + at(i * bStride + e));
    store<f32>(out + at(e), acc);
  }
}

/**
 * weightedRows for two output rows over the same rows of b, weights `w0` and `w1` (each `wStep` apart):
 * each loaded vector of b serves both, and the two rows' chains of adds (latency-bound in one row: a
 * block of sixteen is four chains over n terms) run side by side. Each output's sum is the one
 * weightedRows adds, term by term.
 */
@inline function weightedRows2(
  w0: usize,
  w1: usize,
  wStep: i32,
  b: usize,
  bStride: i32,
  n: i32,
  width: i32,
  out0: usize,
  out1: usize,
): void {
  const wNext = at(wStep);
  const rNext = at(bStride);
  const other = w1 - w0;
  let e = 0;
  for (; e + 16 <= width; e += 16) {
    let c0 = f32x4.splat(0);
    let c1 = f32x4.splat(0);
    let c2 = f32x4.splat(0);
    let c3 = f32x4.splat(0);
    let d0 = f32x4.splat(0);
    let d1 = f32x4.splat(0);
    let d2 = f32x4.splat(0);
    let d3 = f32x4.splat(0);
    let wp = w0;
    let r = b + at(e);
    for (let i = 0; i < n; i++) {
      const x0 = v128.load32_splat(wp);
      const x1 = v128.load32_splat(wp + other);
      const b0 = v128.load(r);
      const b1 = v128.load(r, 16);
      const b2 = v128.load(r, 32);
      const b3 = v128.load(r, 48);
      c0 = f32x4.add(c0, f32x4.mul(x0, b0));
      c1 = f32x4.add(c1, f32x4.mul(x0, b1));
      c2 = f32x4.add(c2, f32x4.mul(x0, b2));
      c3 = f32x4.add(c3, f32x4.mul(x0, b3));
      d0 = f32x4.add(d0, f32x4.mul(x1, b0));
      d1 = f32x4.add(d1, f32x4.mul(x1, b1));
      d2 = f32x4.add(d2, f32x4.mul(x1, b2));
      d3 = f32x4.add(d3, f32x4.mul(x1, b3));
      wp += wNext;
      r += rNext;
    }
    const o0 = out0 + at(e);
    const o1 = out1 + at(e);
    v128.store(o0, c0);
    v128.store(o0, c1, 16);
    v128.store(o0, c2, 32);
    v128.store(o0, c3, 48);
    v128.store(o1, d0);
    v128.store(o1, d1, 16);
    v128.store(o1, d2, 32);
    v128.store(o1, d3, 48);
  }
  for (; e + 4 <= width; e += 4) {
    let c0 = f32x4.splat(0);
    let d0 = f32x4.splat(0);
    let wp = w0;
    let r = b + at(e);
    for (let i = 0; i < n; i++) {
      const b0 = v128.load(r);
      c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(wp), b0));
      d0 = f32x4.add(d0, f32x4.mul(v128.load32_splat(wp + other), b0));
      wp += wNext;
      r += rNext;
    }
    v128.store(out0 + at(e), c0);
    v128.store(out1 + at(e), d0);
  }
  for (; e < width; e++) {
    let acc0: f32 = 0;
    let acc1: f32 = 0;
    for (let i = 0; i < n; i++) {
      const x = load<f32>(b + at(i * bStride + e));
      acc0 += load<f32>(w0 + at(i * wStep)) * x;
      acc1 += load<f32>(w1 + at(i * wStep)) * x;
    }
    store<f32>(out0 + at(e), acc0);
    store<f32>(out1 + at(e), acc1);
  }
}

/**
 * softmax.ts's softmax of the score row at `row` (S entries in a workspace row of pad4(S)) into `out`
 * (S entries), bit for bit, with every step on four lanes: the padding lanes are set to −∞ first, so
 * the four-lane maximum is the S entries' (a NaN among them wins as there; which of ±0 wins a tie cannot
 * matter); the exps are expF32V's on every lane (equal to expF32S lane by lane) written back into the
 * row; the float64 sum adds the S entries in ascending order (a padding lane's exp is never summed);
 * the quotients, two lanes of float64 at a time, are stored for the S entries only.
 */
@inline function softmaxPadded(row: usize, S: i32, out: usize): void {
  const n = pad4(S);
  for (let c = S; c < n; c++) store<f32>(row + at(c), -Infinity);
  let acc = v128.load(row);
  for (let c = 4; c < n; c += 4) {
    const v = v128.load(row + at(c));
    acc = v128.bitselect(v, acc, v128.or(f32x4.gt(v, acc), f32x4.ne(v, v)));
  }
  let m = f32x4.extract_lane(acc, 0);
  const l1 = f32x4.extract_lane(acc, 1);
  const l2 = f32x4.extract_lane(acc, 2);
  const l3 = f32x4.extract_lane(acc, 3);
  m = select<f32>(l1, m, l1 > m || l1 != l1);
  m = select<f32>(l2, m, l2 > m || l2 != l2);
  m = select<f32>(l3, m, l3 > m || l3 != l3);
  const mv = f32x4.splat(m);
  for (let c = 0; c < n; c += 4) v128.store(row + at(c), expF32V(f32x4.sub(v128.load(row + at(c)), mv)));
  let sum: f64 = 0;
  for (let c = 0; c < S; c++) sum += <f64>load<f32>(row + at(c));
  const sv = f64x2.splat(sum);
  let c = 0;
  for (; c + 2 <= S; c += 2) {
    const q = f64x2.div(f64x2.promote_low_f32x4(v128.load64_zero(row + at(c))), sv);
    v128.store64_lane(out + at(c), f32x4.demote_f64x2_zero(q), 0);
  }
  for (; c < S; c++) store<f32>(out + at(c), <f32>(<f64>load<f32>(row + at(c)) / sum));
}

/**
 * softmaxPadded for the four score rows at `row` (row stride S4) into the four rows at `out` (row
 * stride S), each row's arithmetic unchanged, the rows interleaved so that their latency-bound chains
 * overlap: the four rows' maxima come out of one lane reduction; each row's float64 sum is a lane of
 * f64x2 (rows 0, 1 in one, 2, 3 in the other), adding its terms in ascending order; and the last S mod 4
 * columns, transposed so that the four rows sit on the lanes, take one exp and two divisions per column
 * instead of a mostly-padding vector per row (no padding lane is ever read as a score).
 */
@inline function softmaxRows4(row: usize, S4: i32, S: i32, out: usize): void {
  const full = S & ~3;
  const rem = S & 3;
  const row1 = row + at(S4);
  const row2 = row1 + at(S4);
  const row3 = row2 + at(S4);
  const out1 = out + at(S);
  const out2 = out1 + at(S);
  const out3 = out2 + at(S);
  // The tail columns: column j's lane r is row r's entry full + j (lanes of columns ≥ rem unread).
  let col0 = f32x4.splat(0);
  let col1 = f32x4.splat(0);
  let col2 = f32x4.splat(0);
  if (rem > 0) {
    const t0 = v128.load(row + at(full));
    const t1 = v128.load(row1 + at(full));
    const t2 = v128.load(row2 + at(full));
    const t3 = v128.load(row3 + at(full));
    const u0 = zipLo(t0, t1);
    const u2 = zipLo(t2, t3);
    col0 = lowHalves(u0, u2);
    col1 = highHalves(u0, u2);
    col2 = lowHalves(zipHi(t0, t1), zipHi(t2, t3));
  }
  // The maxima, lane r row r's. Which of ±0 wins a tie and which NaN wins cannot matter (softmaxPadded).
  let m = col0;
  if (full > 0) {
    let a0 = v128.load(row);
    let a1 = v128.load(row1);
    let a2 = v128.load(row2);
    let a3 = v128.load(row3);
    for (let c = 4; c < full; c += 4) {
      a0 = keepMax(a0, v128.load(row + at(c)));
      a1 = keepMax(a1, v128.load(row1 + at(c)));
      a2 = keepMax(a2, v128.load(row2 + at(c)));
      a3 = keepMax(a3, v128.load(row3 + at(c)));
    }
    const x = keepMax(zipLo(a0, a1), zipHi(a0, a1));
    const y = keepMax(zipLo(a2, a3), zipHi(a2, a3));
    const mf = keepMax(lowHalves(x, y), highHalves(x, y));
    m = rem > 0 ? keepMax(mf, col0) : mf;
  }
  if (rem > 1) m = keepMax(m, col1);
  if (rem > 2) m = keepMax(m, col2);
  const m0 = f32x4.shuffle(m, m, 0, 0, 0, 0);
  const m1 = f32x4.shuffle(m, m, 1, 1, 1, 1);
  const m2 = f32x4.shuffle(m, m, 2, 2, 2, 2);
  const m3 = f32x4.shuffle(m, m, 3, 3, 3, 3);
  // The exps written back into the rows, and the sums: lane r of s01 / s23 is row r's (r = 0, 1 / 2, 3).
  let s01 = f64x2.splat(0);
  let s23 = f64x2.splat(0);
  for (let c = 0; c < full; c += 4) {
    const e0 = expF32V(f32x4.sub(v128.load(row + at(c)), m0));
    const e1 = expF32V(f32x4.sub(v128.load(row1 + at(c)), m1));
    const e2 = expF32V(f32x4.sub(v128.load(row2 + at(c)), m2));
    const e3 = expF32V(f32x4.sub(v128.load(row3 + at(c)), m3));
    v128.store(row + at(c), e0);
    v128.store(row1 + at(c), e1);
    v128.store(row2 + at(c), e2);
    v128.store(row3 + at(c), e3);
    const u01 = zipLo(e0, e1);
    const w01 = zipHi(e0, e1);
    const u23 = zipLo(e2, e3);
    const w23 = zipHi(e2, e3);
    s01 = f64x2.add(s01, f64x2.promote_low_f32x4(u01));
    s23 = f64x2.add(s23, f64x2.promote_low_f32x4(u23));
    s01 = f64x2.add(s01, promoteHigh(u01));
    s23 = f64x2.add(s23, promoteHigh(u23));
    s01 = f64x2.add(s01, f64x2.promote_low_f32x4(w01));
    s23 = f64x2.add(s23, f64x2.promote_low_f32x4(w23));
    s01 = f64x2.add(s01, promoteHigh(w01));
    s23 = f64x2.add(s23, promoteHigh(w23));
  }
  let e0 = col0;
  let e1 = col1;
  let e2 = col2;
  if (rem > 0) {
    e0 = expF32V(f32x4.sub(col0, m));
    s01 = f64x2.add(s01, f64x2.promote_low_f32x4(e0));
    s23 = f64x2.add(s23, promoteHigh(e0));
  }
  if (rem > 1) {
    e1 = expF32V(f32x4.sub(col1, m));
    s01 = f64x2.add(s01, f64x2.promote_low_f32x4(e1));
    s23 = f64x2.add(s23, promoteHigh(e1));
  }
  if (rem > 2) {
    e2 = expF32V(f32x4.sub(col2, m));
    s01 = f64x2.add(s01, f64x2.promote_low_f32x4(e2));
    s23 = f64x2.add(s23, promoteHigh(e2));
  }
  // The quotients, float64 and rounded once, four columns of a row per store.
  const d0 = f64x2.shuffle(s01, s01, 0, 0);
  const d1 = f64x2.shuffle(s01, s01, 1, 1);
  const d2 = f64x2.shuffle(s23, s23, 0, 0);
  const d3 = f64x2.shuffle(s23, s23, 1, 1);
  for (let c = 0; c < full; c += 4) {
    const x0 = v128.load(row + at(c));
    const x1 = v128.load(row1 + at(c));
    const x2 = v128.load(row2 + at(c));
    const x3 = v128.load(row3 + at(c));
    v128.store(out + at(c), demotePair(f64x2.div(f64x2.promote_low_f32x4(x0), d0), f64x2.div(promoteHigh(x0), d0)));
    v128.store(out1 + at(c), demotePair(f64x2.div(f64x2.promote_low_f32x4(x1), d1), f64x2.div(promoteHigh(x1), d1)));
    v128.store(out2 + at(c), demotePair(f64x2.div(f64x2.promote_low_f32x4(x2), d2), f64x2.div(promoteHigh(x2), d2)));
    v128.store(out3 + at(c), demotePair(f64x2.div(f64x2.promote_low_f32x4(x3), d3), f64x2.div(promoteHigh(x3), d3)));
  }
  for (let j = 0; j < rem; j++) {
    const e = j == 0 ? e0 : j == 1 ? e1 : e2;
    const q = demotePair(f64x2.div(f64x2.promote_low_f32x4(e), s01), f64x2.div(promoteHigh(e), s23));
    const o = at(full + j);
    v128.store32_lane(out + o, q, 0);
    v128.store32_lane(out1 + o, q, 1);
    v128.store32_lane(out2 + o, q, 2);
    v128.store32_lane(out3 + o, q, 3);
  }
}

/**
 * dS = y·(dP − r)·scale for one row (float64, rounded once on the store), r = Σ dP·y given: two lanes
 * of float64 at a time (f64x2 arithmetic is the scalar's, lane by lane), then the odd last one.
 */
@inline function dScoresRow(dP: usize, y: usize, S: i32, r: f64, scale: f64, out: usize): void {
  const rv = f64x2.splat(r);
  const scv = f64x2.splat(scale);
  let s = 0;
  for (; s + 2 <= S; s += 2) {
    const yv = f64x2.promote_low_f32x4(v128.load64_zero(y + at(s)));
    const dp = f64x2.promote_low_f32x4(v128.load64_zero(dP + at(s)));
    v128.store64_lane(out + at(s), f32x4.demote_f64x2_zero(f64x2.mul(f64x2.mul(yv, f64x2.sub(dp, rv)), scv)), 0);
  }
  for (; s < S; s++) {
    const yc = <f64>load<f32>(y + at(s));
    store<f32>(out + at(s), <f32>(yc * (<f64>load<f32>(dP + at(s)) - r) * scale));
  }
}

/**
 * Entries `s` of two rows (`a`, and `a + next`) as the two lanes of a float64 vector: a column of a
 * pair of rows, for sums whose lanes are rows.
 */
@inline function pairAt(a: usize, next: usize, s: i32): v128 {
  const p = a + at(s);
  return f64x2.promote_low_f32x4(v128.load32_lane(p + next, v128.load32_zero(p), 1));
}

/**
 * The softmax's backward for four rows: dP at `dP` (row stride S4), the probabilities y at `y` and dS
 * at `out` (row stride S). Each row's r = Σ dP·y (float64, each product exact, ascending order) is a
 * lane of f64x2 (rows 0, 1 in one, 2, 3 in the other), so the four latency-bound sums run as two
 * chains side by side; then dScoresRow per row.
 */
@inline function dScoresRows4(dP: usize, S4: i32, y: usize, S: i32, scale: f64, out: usize): void {
  const full = S & ~3;
  const g1 = dP + at(S4);
  const g2 = g1 + at(S4);
  const g3 = g2 + at(S4);
  const y1 = y + at(S);
  const y2 = y1 + at(S);
  const y3 = y2 + at(S);
  let r01 = f64x2.splat(0);
  let r23 = f64x2.splat(0);
  for (let c = 0; c < full; c += 4) {
    const a0 = v128.load(dP + at(c));
    const a1 = v128.load(g1 + at(c));
    const a2 = v128.load(g2 + at(c));
    const a3 = v128.load(g3 + at(c));
    const b0 = v128.load(y + at(c));
    const b1 = v128.load(y1 + at(c));
    const b2 = v128.load(y2 + at(c));
    const b3 = v128.load(y3 + at(c));
    const ga = zipLo(a0, a1);
    const ya = zipLo(b0, b1);
    const gb = zipLo(a2, a3);
    const yb = zipLo(b2, b3);
    const gc = zipHi(a0, a1);
    const yc = zipHi(b0, b1);
    const gd = zipHi(a2, a3);
    const yd = zipHi(b2, b3);
    r01 = f64x2.add(r01, f64x2.mul(f64x2.promote_low_f32x4(ga), f64x2.promote_low_f32x4(ya)));
    r23 = f64x2.add(r23, f64x2.mul(f64x2.promote_low_f32x4(gb), f64x2.promote_low_f32x4(yb)));
    r01 = f64x2.add(r01, f64x2.mul(promoteHigh(ga), promoteHigh(ya)));
    r23 = f64x2.add(r23, f64x2.mul(promoteHigh(gb), promoteHigh(yb)));
    r01 = f64x2.add(r01, f64x2.mul(f64x2.promote_low_f32x4(gc), f64x2.promote_low_f32x4(yc)));
    r23 = f64x2.add(r23, f64x2.mul(f64x2.promote_low_f32x4(gd), f64x2.promote_low_f32x4(yd)));
    r01 = f64x2.add(r01, f64x2.mul(promoteHigh(gc), promoteHigh(yc)));
    r23 = f64x2.add(r23, f64x2.mul(promoteHigh(gd), promoteHigh(yd)));
  }
  const gNext = at(S4);
  const yNext = at(S);
  for (let c = full; c < S; c++) {
    r01 = f64x2.add(r01, f64x2.mul(pairAt(dP, gNext, c), pairAt(y, yNext, c)));
    r23 = f64x2.add(r23, f64x2.mul(pairAt(g2, gNext, c), pairAt(y2, yNext, c)));
  }
  dScoresRow(dP, y, S, f64x2.extract_lane(r01, 0), scale, out);
  dScoresRow(g1, y1, S, f64x2.extract_lane(r01, 1), scale, out + at(S));
  dScoresRow(g2, y2, S, f64x2.extract_lane(r23, 0), scale, out + at(2 * S));
  dScoresRow(g3, y3, S, f64x2.extract_lane(r23, 1), scale, out + at(3 * S));
}

/**
 * The forward pass for blocks [blockFrom, blockTo): scores = round(q·kᵀ) · round(scale) per row into the
 * workspace (the scale multiplied as the sums are stored), the softmax of the rows into probs (four at
 * a time, the last T mod 4 one by one), then out = probs·v. Workspace: kᵀ [D, S₄] and the
 * scores [T, S₄] (S₄ = pad4(S)).
 */
export function attention(
  q: usize,
  k: usize,
  v: usize,
  out: usize,
  probs: usize,
  shape: usize,
  scale: f64,
  blockFrom: i32,
  blockTo: i32,
  work: usize,
): void {
  const T = word(shape, 0);
  const S = word(shape, 1);
  const H = word(shape, 2);
  const D = word(shape, 3);
  const DV = word(shape, 4);
  const qS = word(shape, 5);
  const kS = word(shape, 6);
  const vS = word(shape, 7);
  const sc = f32x4.splat(<f32>scale);
  const S4 = pad4(S);
  const kT = work;
  const scores = work + at(D * S4);
  for (let b = blockFrom; b < blockTo; b++) {
    const n = b / H;
    const h = b % H;
    const qb = q + at(n * T * qS + h * D);
    const kb = k + at(n * S * kS + h * D);
    const vb = v + at(n * S * vS + h * DV);
    const ob = out + at((n * T * H + h) * DV);
    const pb = probs + at(b * T * S);
    transpose(kb, kS, S, D, kT);
    // In phases over the block's rows, so that one row's latency-bound steps (the softmax's float64
    // sum) sit beside the next row's independent work.
    // The scale on the finished sums as they are stored, as the reference rounds it.
    rowsTimesStaged(qb, qS, T, kT, D, S, scores, true, sc);
    let t = 0;
    if (S > 0) for (; t + 4 <= T; t += 4) softmaxRows4(scores + at(t * S4), S4, S, pb + at(t * S));
    for (; t < T; t++) softmaxPadded(scores + at(t * S4), S, pb + at(t * S));
    t = 0;
    for (; t + 2 <= T; t += 2) {
      const p0 = pb + at(t * S);
      const o0 = ob + at(t * H * DV);
      weightedRows2(p0, p0 + at(S), 1, vb, vS, S, DV, o0, o0 + at(H * DV));
    }
    if (t < T) weightedRows(pb + at(t * S), 1, vb, vS, S, DV, ob + at(t * H * DV));
  }
}

/**
 * The backward pass for blocks [blockFrom, blockTo): dP = dOut·vᵀ row by row, dS = probs·(dP − Σ dP·probs)
 * · scale in float64 (rounded once; four rows at a time in dScoresRows4, the last T mod 4 one by one),
 * then dq = dS·k, dk = dSᵀ·q and dv = probsᵀ·dOut, two output rows at a time. Workspace: vᵀ [Dv, S₄],
 * dS [T, S] and dP [T, S₄].
 */
export function attentionBackward(
  dOut: usize,
  q: usize,
  k: usize,
  v: usize,
  probs: usize,
  dq: usize,
  dk: usize,
  dv: usize,
  shape: usize,
  scale: f64,
  blockFrom: i32,
  blockTo: i32,
  work: usize,
): void {
  const T = word(shape, 0);
  const S = word(shape, 1);
  const H = word(shape, 2);
  const D = word(shape, 3);
  const DV = word(shape, 4);
  const qS = word(shape, 5);
  const kS = word(shape, 6);
  const vS = word(shape, 7);
  const S4 = pad4(S);
  const vT = work;
  const dS = work + at(DV * S4);
  const dPs = dS + at(T * S);
  for (let b = blockFrom; b < blockTo; b++) {
    const n = b / H;
    const h = b % H;
    const qOff = at(n * T * qS + h * D);
    const kOff = at(n * S * kS + h * D);
    const vOff = at(n * S * vS + h * DV);
    const gOff = at((n * T * H + h) * DV);
    const pb = probs + at(b * T * S);
    transpose(v + vOff, vS, S, DV, vT);
    rowsTimesStaged(dOut + gOff, H * DV, T, vT, DV, S, dPs, false, f32x4.splat(1));
    let t = 0;
    for (; t + 4 <= T; t += 4) dScoresRows4(dPs + at(t * S4), S4, pb + at(t * S), S, scale, dS + at(t * S));
    for (; t < T; t++) {
      const dP = dPs + at(t * S4);
      const pt = pb + at(t * S);
      let r: f64 = 0;
      for (let s = 0; s < S; s++) r += <f64>load<f32>(dP + at(s)) * <f64>load<f32>(pt + at(s));
      dScoresRow(dP, pt, S, r, scale, dS + at(t * S));
    }
    // Two output rows at a time (weightedRows2), an odd last one alone.
    t = 0;
    for (; t + 2 <= T; t += 2) {
      const w = dS + at(t * S);
      const o = dq + qOff + at(t * qS);
      weightedRows2(w, w + at(S), 1, k + kOff, kS, S, D, o, o + at(qS));
    }
    if (t < T) weightedRows(dS + at(t * S), 1, k + kOff, kS, S, D, dq + qOff + at(t * qS));
    let s = 0;
    for (; s + 2 <= S; s += 2) {
      const ok = dk + kOff + at(s * kS);
      weightedRows2(dS + at(s), dS + at(s + 1), S, q + qOff, qS, T, D, ok, ok + at(kS));
      const ov = dv + vOff + at(s * vS);
      weightedRows2(pb + at(s), pb + at(s + 1), S, dOut + gOff, H * DV, T, DV, ov, ov + at(vS));
    }
    if (s < S) {
      weightedRows(dS + at(s), S, q + qOff, qS, T, D, dk + kOff + at(s * kS));
      weightedRows(pb + at(s), S, dOut + gOff, H * DV, T, DV, dv + vOff + at(s * vS));
    }
  }
}
