// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * Fused scaled-dot-product attention, forward and backward, for blocks [blockFrom, blockTo) of
 * (n, h) pairs (a helper thread's range; whole blocks, so any split computes every block the same).
 * q [N, T, H, D], k [N, S, H, D], v [N, S, H, Dv] and the output [N, T, H, Dv] are read and written in
 * place (a linear layer's output reshaped: no head permute); the probabilities are [N, H, T, S]. The
 * sizes sit at `shape` as five words: T, S, H, D, Dv.
 *
 * Every sum is one float32 accumulator from 0 over its index in ascending order, each product rounded
 * (plain f32x4 mul then add, never a fused multiply-add, in both builds): four outputs per SIMD step,
 * one per lane, so a lane and the scalar tail add the same terms in the same order as the reference
 * backend's loops (src/backend/reference.ts), bit for bit. Score rows put the keys on the lanes, read
 * from the block's kᵀ (or vᵀ) staged in the thread's workspace; the other products put D or Dv on the
 * lanes, read from the rows as they lie. The softmax is softmax.ts's kernel on each score row, and the
 * softmax's backward is float64 as softmaxBackward's, rounded once.
 */
import { softmax } from './softmax';

/** Word `i` of the shape block. */
@inline function word(shape: usize, i: i32): i32 {
  return load<i32>(shape + (<usize>i << 2));
}

/** Byte offset of element `i` of a float32 array. */
@inline function at(i: i32): usize {
  return <usize>i << 2;
}

/** Stages the [rows, cols] matrix at `src` (row stride `stride` floats) transposed into `dst` [cols, rows]. */
@inline function transpose(src: usize, stride: i32, rows: i32, cols: i32, dst: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = src + at(r * stride);
    for (let c = 0; c < cols; c++) store<f32>(dst + at(c * rows + r), load<f32>(row + at(c)));
  }
}

/**
 * out_j = Σ_i a_i · bT[i, j] for j < cols (i < n ascending, a float32 sum from 0): the keys' lanes,
 * bT [n, cols] staged in the workspace. Used for the scores (a = q_t, bT = kᵀ) and dP (a = dOut_t, bT = vᵀ).
 */
@inline function rowTimesStaged(a: usize, bT: usize, n: i32, cols: i32, out: usize): void {
  let j = 0;
  for (; j + 4 <= cols; j += 4) {
    let acc = f32x4.splat(0);
    for (let i = 0; i < n; i++) {
      acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(a + at(i))), v128.load(bT + at(i * cols + j))));
    }
    v128.store(out + at(j), acc);
  }
  for (; j < cols; j++) {
    let acc: f32 = 0;
    for (let i = 0; i < n; i++) acc += load<f32>(a + at(i)) * load<f32>(bT + at(i * cols + j));
    store<f32>(out + at(j), acc);
  }
}

/**
 * out_e = Σ_i w[i·wStep] · b[i·bStride + e] for e < width (i < n ascending, a float32 sum from 0): the
 * row's lanes, rows of b read in place. Used for O = P·v, dq = dS·k, dk = dSᵀ·q and dv = Pᵀ·dOut.
 */
@inline function weightedRows(w: usize, wStep: i32, b: usize, bStride: i32, n: i32, width: i32, out: usize): void {
  let e = 0;
  for (; e + 4 <= width; e += 4) {
    let acc = f32x4.splat(0);
    for (let i = 0; i < n; i++) {
      const wi = f32x4.splat(load<f32>(w + at(i * wStep)));
      acc = f32x4.add(acc, f32x4.mul(wi, v128.load(b + at(i * bStride + e))));
    }
    v128.store(out + at(e), acc);
  }
  for (; e < width; e++) {
    let acc: f32 = 0;
    for (let i = 0; i < n; i++) acc += load<f32>(w + at(i * wStep)) * load<f32>(b + at(i * bStride + e));
    store<f32>(out + at(e), acc);
  }
}

/**
 * The forward pass for blocks [blockFrom, blockTo): scores = round(q·kᵀ) · round(scale) per row into the
 * workspace, the softmax of each row into probs, then out = probs·v. Workspace: kᵀ [D, S] and one row [S].
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
  const sc = f32x4.splat(<f32>scale);
  const kT = work;
  const row = work + at(D * S);
  for (let b = blockFrom; b < blockTo; b++) {
    const n = b / H;
    const h = b % H;
    const qb = q + at((n * T * H + h) * D);
    const kb = k + at((n * S * H + h) * D);
    const vb = v + at((n * S * H + h) * DV);
    const ob = out + at((n * T * H + h) * DV);
    const pb = probs + at(b * T * S);
    transpose(kb, H * D, S, D, kT);
    for (let t = 0; t < T; t++) {
      rowTimesStaged(qb + at(t * H * D), kT, D, S, row);
      // The scale on the finished sums, as the reference rounds it: lanes then the tail.
      let s = 0;
      for (; s + 4 <= S; s += 4) v128.store(row + at(s), f32x4.mul(v128.load(row + at(s)), sc));
      for (; s < S; s++) store<f32>(row + at(s), load<f32>(row + at(s)) * <f32>scale);
      const pt = pb + at(t * S);
      softmax(row, pt, 0, 1, S);
      weightedRows(pt, 1, vb, H * DV, S, DV, ob + at(t * H * DV));
    }
  }
}

/**
 * The backward pass for blocks [blockFrom, blockTo): dP = dOut·vᵀ row by row, dS = probs·(dP − Σ dP·probs)
 * · scale in float64 (rounded once), then dq = dS·k, dk = dSᵀ·q and dv = probsᵀ·dOut. Workspace: vᵀ
 * [Dv, S], dS [T, S] and one dP row [S].
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
  const vT = work;
  const dS = work + at(DV * S);
  const dP = dS + at(T * S);
  for (let b = blockFrom; b < blockTo; b++) {
    const n = b / H;
    const h = b % H;
    const qOff = at((n * T * H + h) * D);
    const kOff = at((n * S * H + h) * D);
    const vOff = at((n * S * H + h) * DV);
    const gOff = at((n * T * H + h) * DV);
    const pb = probs + at(b * T * S);
    transpose(v + vOff, H * DV, S, DV, vT);
    for (let t = 0; t < T; t++) {
      rowTimesStaged(dOut + gOff + at(t * H * DV), vT, DV, S, dP);
      const pt = pb + at(t * S);
      let r: f64 = 0;
      for (let s = 0; s < S; s++) r += <f64>load<f32>(dP + at(s)) * <f64>load<f32>(pt + at(s));
      const st = dS + at(t * S);
      for (let s = 0; s < S; s++) {
        const y = <f64>load<f32>(pt + at(s));
        store<f32>(st + at(s), <f32>(y * (<f64>load<f32>(dP + at(s)) - r) * scale));
      }
    }
    for (let t = 0; t < T; t++) {
      weightedRows(dS + at(t * S), 1, k + kOff, H * D, S, D, dq + qOff + at(t * H * D));
    }
    for (let s = 0; s < S; s++) {
      weightedRows(dS + at(s), S, q + qOff, H * D, T, D, dk + kOff + at(s * H * D));
      weightedRows(pb + at(s), S, dOut + gOff, H * DV, T, DV, dv + vOff + at(s * H * DV));
    }
  }
}
