// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * Direct convolution for small patches (C·KH·KW taps), forward and weight gradient, straight in NCHW:
 * no im2col (which writes KH·KW copies of the input), no GEMM with n = out channels, no permute.
 *
 * Both take at `args` the 12 geometry words im2col reads (Im2colGeometry's order, backend.ts), then
 * outChannels (12), the padded image's height (13) and row stride (14) (direct-conv.ts computes them),
 * and do the images [imageFrom, imageTo) with `work` (the running thread's workspace) holding one
 * zero-padded image, the taps' offsets in it, a 4-float tail and (weight gradient) two masked dy planes.
 * Each image is done the same way whichever thread takes it, so results do not depend on the thread
 * count.
 *
 * Summation orders (Backend.conv2d / conv2dWeightGrad, the reference backend's loops): the forward sums
 * the taps (c, kh, kw) ascending in float32 from 0, a mul and an add per tap (never a fused
 * multiply-add, in the relaxed build too); the weight gradient keeps four float32 sums per image by
 * ow mod 4 (the SIMD lanes), combined (s0 + s1) + (s2 + s3), into per-image partials the host sums
 * over images in float64 (the reduce kernel).
 */

@inline function arg(args: usize, i: i32): i32 {
  return load<i32>(args + (<usize>i << 2));
}

/** Bytes of the padded image in the workspace, rounded up to a 16-byte multiple. */
@inline function imageBytes(channels: i32, hp: i32, wp: i32): usize {
  return ((<usize>(channels * hp * wp) << 2) + 15) & ~15;
}

/** Byte offset of the 4-float tail scratch after the image and the tap offsets. */
@inline function tailAt(work: usize, channels: i32, hp: i32, wp: i32, patch: i32): usize {
  return work + imageBytes(channels, hp, wp) + (((<usize>patch << 2) + 15) & ~15);
}

/** Writes tap t = (c, kh, kw)'s offset (in floats) from a window's top-left in the padded image. */
function writeOffsets(offs: usize, channels: i32, kernelH: i32, kernelW: i32, hp: i32, wp: i32): void {
  let t = 0;
  for (let c = 0; c < channels; c++)
    for (let kh = 0; kh < kernelH; kh++)
      for (let kw = 0; kw < kernelW; kw++) {
        store<i32>(offs + (<usize>t << 2), (c * hp + kh) * wp + kw);
        t++;
      }
}

/** Copies image n of x into `work` inside a zero border: row h, column w land at (h + padH, w + padW). */
function padImage(x: usize, work: usize, n: i32, args: usize, hp: i32, wp: i32): void {
  const channels = arg(args, 1);
  const height = arg(args, 2);
  const width = arg(args, 3);
  const padH = arg(args, 8);
  const padW = arg(args, 9);
  memory.fill(work, 0, <usize>(channels * hp * wp) << 2);
  for (let c = 0; c < channels; c++) {
    for (let h = 0; h < height; h++) {
      memory.copy(
        work + (<usize>((c * hp + h + padH) * wp + padW) << 2),
        x + (<usize>(((n * channels + c) * height + h) * width) << 2),
        <usize>width << 2,
      );
    }
  }
}

/** Bias and ReLU after the taps' sum, as the GEMM epilogue: v + b rounded, then !(v > 0) → +0. */
@inline function finish(acc: v128, b: v128, hasBias: bool, relu: bool): v128 {
  let v = hasBias ? f32x4.add(acc, b) : acc;
  if (relu) v = v128.and(v, f32x4.gt(v, f32x4.splat(0)));
  return v;
}

/**
 * Stores the four outputs from column ow of row `o`, or (the row's last, partial vector) only those
 * before outW: the lanes past it would overwrite the next row, another thread's image at a chunk's end.
 */
@inline function storeOut(o: usize, ow: i32, v: v128, outW: i32, tail: usize): void {
  if (ow + 4 <= outW) {
    v128.store(o + (<usize>ow << 2), v);
  } else {
    v128.store(tail, v);
    memory.copy(o + (<usize>ow << 2), tail, <usize>(outW - ow) << 2);
  }
}

/**
 * Outputs [ow, ow + 4·V) of one row for K out channels (K 1 or 2, V 1–4: constants once inlined), the
 * second channel's weights `wNext` and outputs `oNext` bytes after the first's: K·V independent sums,
 * each x load feeding K of them. Each lane sums the taps ascending from 0, a mul then an add each.
 */
@inline function rowBlock(
  K: i32,
  V: i32,
  row: usize,
  offs: usize,
  wRow: usize,
  wNext: usize,
  patch: i32,
  kernelW: i32,
  ow: i32,
  o: usize,
  oNext: usize,
  b0: v128,
  b1: v128,
  hasBias: bool,
  relu: bool,
  outW: i32,
  tail: usize,
): void {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let c0 = f32x4.splat(0);
  let c1 = f32x4.splat(0);
  let c2 = f32x4.splat(0);
  let c3 = f32x4.splat(0);
  // Taps (c, kh, kw) ascending: rows of taps (c, kh) from the offsets table, kw along the row.
  let wt = wRow;
  const wEnd = wRow + (<usize>patch << 2);
  const rowBytes = <usize>kernelW << 2;
  let tapRow = offs;
  while (wt < wEnd) {
    let p = row + (<usize>(load<i32>(tapRow) + ow) << 2);
    const pEnd = p + rowBytes;
    tapRow += rowBytes;
    while (p < pEnd) {
      const u = v128.load32_splat(wt);
      const v = K > 1 ? v128.load32_splat(wt + wNext) : u;
      const x0 = v128.load(p);
      a0 = f32x4.add(a0, f32x4.mul(x0, u));
      if (K > 1) c0 = f32x4.add(c0, f32x4.mul(x0, v));
      if (V > 1) {
        const x1 = v128.load(p, 16);
        a1 = f32x4.add(a1, f32x4.mul(x1, u));
        if (K > 1) c1 = f32x4.add(c1, f32x4.mul(x1, v));
      }
      if (V > 2) {
        const x2 = v128.load(p, 32);
        a2 = f32x4.add(a2, f32x4.mul(x2, u));
        if (K > 1) c2 = f32x4.add(c2, f32x4.mul(x2, v));
      }
      if (V > 3) {
        const x3 = v128.load(p, 48);
        a3 = f32x4.add(a3, f32x4.mul(x3, u));
        if (K > 1) c3 = f32x4.add(c3, f32x4.mul(x3, v));
      }
      p += 4;
      wt += 4;
    }
  }
  storeOut(o, ow, finish(a0, b0, hasBias, relu), outW, tail);
  if (V > 1) storeOut(o, ow + 4, finish(a1, b0, hasBias, relu), outW, tail);
  if (V > 2) storeOut(o, ow + 8, finish(a2, b0, hasBias, relu), outW, tail);
  if (V > 3) storeOut(o, ow + 12, finish(a3, b0, hasBias, relu), outW, tail);
  if (K > 1) {
    const q = o + oNext;
    storeOut(q, ow, finish(c0, b1, hasBias, relu), outW, tail);
    if (V > 1) storeOut(q, ow + 4, finish(c1, b1, hasBias, relu), outW, tail);
    if (V > 2) storeOut(q, ow + 8, finish(c2, b1, hasBias, relu), outW, tail);
    if (V > 3) storeOut(q, ow + 12, finish(c3, b1, hasBias, relu), outW, tail);
  }
}

/**
 * One stride-1 row for K (1 or 2) out channels: blocks of four vectors (16 outputs), then one of the
 * 1–3 left (a row of 28 is 16 + 12), so that several independent sums hide the adds' latency.
 */
@inline function strideOneRow(
  K: i32,
  row: usize,
  offs: usize,
  wRow: usize,
  wNext: usize,
  patch: i32,
  kernelW: i32,
  o: usize,
  oNext: usize,
  b0: v128,
  b1: v128,
  hasBias: bool,
  relu: bool,
  outW: i32,
  tail: usize,
): void {
  let ow = 0;
  for (; ow + 12 < outW; ow += 16)
    rowBlock(K, 4, row, offs, wRow, wNext, patch, kernelW, ow, o, oNext, b0, b1, hasBias, relu, outW, tail);
  if (ow + 8 < outW)
    rowBlock(K, 3, row, offs, wRow, wNext, patch, kernelW, ow, o, oNext, b0, b1, hasBias, relu, outW, tail);
  else if (ow + 4 < outW)
    rowBlock(K, 2, row, offs, wRow, wNext, patch, kernelW, ow, o, oNext, b0, b1, hasBias, relu, outW, tail);
  else if (ow < outW)
    rowBlock(K, 1, row, offs, wRow, wNext, patch, kernelW, ow, o, oNext, b0, b1, hasBias, relu, outW, tail);
}

/**
 * out[n, oc, oh, ow] = Σ_taps x·w (+ bias[oc]) (ReLU) for the images [imageFrom, imageTo); `bias` 0
 * is none, `relu` 0 or 1. Stride-1 rows run two out channels at a time (each x load feeds both), four
 * outputs per vector, up to four vectors at a time; other strides one output at a time in the same
 * order.
 */
export function directConv2d(
  x: usize,
  w: usize,
  bias: usize,
  out: usize,
  args: usize,
  relu: i32,
  imageFrom: i32,
  imageTo: i32,
  work: usize,
): void {
  const channels = arg(args, 1);
  const kernelH = arg(args, 4);
  const kernelW = arg(args, 5);
  const strideH = arg(args, 6);
  const strideW = arg(args, 7);
  const outH = arg(args, 10);
  const outW = arg(args, 11);
  const outChannels = arg(args, 12);
  const hp = arg(args, 13);
  const wp = arg(args, 14);
  const patch = channels * kernelH * kernelW;
  const offs = work + imageBytes(channels, hp, wp);
  const tail = tailAt(work, channels, hp, wp, patch);
  writeOffsets(offs, channels, kernelH, kernelW, hp, wp);
  const hasBias = bias != 0;
  const useRelu = relu != 0;
  const wNext = <usize>patch << 2;
  const oNext = <usize>(outH * outW) << 2;
  for (let n = imageFrom; n < imageTo; n++) {
    padImage(x, work, n, args, hp, wp);
    let oc = 0;
    if (strideW == 1) {
      for (; oc + 2 <= outChannels; oc += 2) {
        const wRow = w + (<usize>(oc * patch) << 2);
        const b0 = f32x4.splat(hasBias ? load<f32>(bias + (<usize>oc << 2)) : 0);
        const b1 = f32x4.splat(hasBias ? load<f32>(bias + (<usize>oc << 2), 4) : 0);
        let o = out + (<usize>((n * outChannels + oc) * outH * outW) << 2);
        for (let oh = 0; oh < outH; oh++) {
          const row = work + (<usize>(oh * strideH * wp) << 2);
          strideOneRow(2, row, offs, wRow, wNext, patch, kernelW, o, oNext, b0, b1, hasBias, useRelu, outW,
            tail);
          o += <usize>outW << 2;
        }
      }
      if (oc < outChannels) {
        const wRow = w + (<usize>(oc * patch) << 2);
        const b0 = f32x4.splat(hasBias ? load<f32>(bias + (<usize>oc << 2)) : 0);
        let o = out + (<usize>((n * outChannels + oc) * outH * outW) << 2);
        for (let oh = 0; oh < outH; oh++) {
          const row = work + (<usize>(oh * strideH * wp) << 2);
          strideOneRow(1, row, offs, wRow, wNext, patch, kernelW, o, oNext, b0, b0, hasBias, useRelu, outW,
            tail);
          o += <usize>outW << 2;
        }
      }
      continue;
    }
    for (; oc < outChannels; oc++) {
      const wRow = w + (<usize>(oc * patch) << 2);
      const b: f32 = hasBias ? load<f32>(bias + (<usize>oc << 2)) : 0;
      let o = out + (<usize>((n * outChannels + oc) * outH * outW) << 2);
      for (let oh = 0; oh < outH; oh++) {
        const row = work + (<usize>(oh * strideH * wp) << 2);
        for (let ow = 0; ow < outW; ow++) {
          let acc: f32 = 0;
          for (let t = 0; t < patch; t++) {
            const xv = load<f32>(row + (<usize>(load<i32>(offs + (<usize>t << 2)) + ow * strideW) << 2));
            acc += xv * load<f32>(wRow + (<usize>t << 2));
          }
          let v = hasBias ? acc + b : acc;
          if (useRelu && !(v > 0)) v = 0;
          store<f32>(o + (<usize>ow << 2), v);
        }
        o += <usize>outW << 2;
      }
    }
  }
}

/** (l0 + l1) + (l2 + l3) of a vector of four lane sums, in float32. */
@inline function lanes(s: v128): f32 {
  return (
    f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3))
  );
}

/**
 * dy (the 4-float scratch `tail`, zero past `rem`) for the last, partial vector of a row: loaded from
 * scalars so nothing past dy's end is read.
 */
@inline function dyTail(d: usize, tail: usize, rem: i32): v128 {
  for (let l = 0; l < rem; l++) store<f32>(tail + (<usize>l << 2), load<f32>(d + (<usize>l << 2)));
  return v128.load(tail);
}

/**
 * to[i] = dy[i] · (out[i] > 0 ? 1 : 0) for i < size: ReLU's backward as its composition dy ⊙ (out > 0)
 * computes it (a product, so a masked ±∞ or NaN gives NaN there too).
 */
function maskPlane(dy: usize, out: usize, to: usize, size: i32): void {
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    const at = <usize>i << 2;
    const m = v128.and(f32x4.gt(v128.load(out + at), zero), one);
    v128.store(to + at, f32x4.mul(v128.load(dy + at), m));
  }
  for (; i < size; i++) {
    const at = <usize>i << 2;
    const m: f32 = load<f32>(out + at) > 0 ? 1 : 0;
    store<f32>(to + at, load<f32>(dy + at) * m);
  }
}

/**
 * One pass of the stride-1 weight gradient over the dy planes of K out channels (K 1 or 2; the second
 * plane `planeNext` bytes after the first): four sums per channel, each a vector of lane sums by
 * ow mod 4 over (oh, ow) ascending, of the taps t0–t3 (`last`: t0–t2 and, fourth, the bias sum Σ dy;
 * `contig`: four taps of one tap row, whose consecutive offsets are read off one row pointer). Every
 * dy load feeds four sums and every x load K. Stores the sums of the `taps` (0–4) that are real at
 * part[t] (the second channel's `partNext` bytes on), and with `last` and `db` ≠ 0 the bias sums at db
 * (the second channel's 4 bytes on).
 */
@inline function weightPass(
  K: i32,
  last: bool,
  contig: bool,
  plane: usize,
  planeNext: usize,
  work: usize,
  rowStep: usize,
  outH: i32,
  outW: i32,
  full: i32,
  rem: i32,
  mask: v128,
  tail: usize,
  offs: usize,
  t0: i32,
  t1: i32,
  t2: i32,
  t3: i32,
  taps: i32,
  part: usize,
  partNext: usize,
  db: usize,
): void {
  const o0 = load<i32>(offs + (<usize>t0 << 2));
  const o1 = load<i32>(offs + (<usize>t1 << 2));
  const o2 = load<i32>(offs + (<usize>t2 << 2));
  const o3 = load<i32>(offs + (<usize>t3 << 2));
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let c0 = f32x4.splat(0);
  let c1 = f32x4.splat(0);
  let c2 = f32x4.splat(0);
  let c3 = f32x4.splat(0);
  let d = plane;
  let r = work;
  const fullBytes = <usize>full << 2;
  for (let oh = 0; oh < outH; oh++) {
    // Each sum's row pointer, then one byte index along the row for all of them.
    const r0 = r + (<usize>o0 << 2);
    const r1 = r + (<usize>o1 << 2);
    const r2 = r + (<usize>o2 << 2);
    const r3 = r + (<usize>o3 << 2);
    const e = d + planeNext;
    for (let q: usize = 0; q < fullBytes; q += 16) {
      const dv = v128.load(d + q);
      const ev = K > 1 ? v128.load(e + q) : dv;
      const x0 = v128.load(r0 + q);
      a0 = f32x4.add(a0, f32x4.mul(dv, x0));
      if (K > 1) c0 = f32x4.add(c0, f32x4.mul(ev, x0));
      const x1 = contig ? v128.load(r0 + q, 4) : v128.load(r1 + q);
      a1 = f32x4.add(a1, f32x4.mul(dv, x1));
      if (K > 1) c1 = f32x4.add(c1, f32x4.mul(ev, x1));
      const x2 = contig ? v128.load(r0 + q, 8) : v128.load(r2 + q);
      a2 = f32x4.add(a2, f32x4.mul(dv, x2));
      if (K > 1) c2 = f32x4.add(c2, f32x4.mul(ev, x2));
      if (last) {
        a3 = f32x4.add(a3, dv);
        if (K > 1) c3 = f32x4.add(c3, ev);
      } else {
        const x3 = contig ? v128.load(r0 + q, 12) : v128.load(r3 + q);
        a3 = f32x4.add(a3, f32x4.mul(dv, x3));
        if (K > 1) c3 = f32x4.add(c3, f32x4.mul(ev, x3));
      }
    }
    if (rem > 0) {
      const dv = dyTail(d + (<usize>full << 2), tail, rem);
      const ev = K > 1 ? dyTail(d + planeNext + (<usize>full << 2), tail, rem) : dv;
      const x0 = v128.and(v128.load(r + (<usize>(o0 + full) << 2)), mask);
      a0 = f32x4.add(a0, f32x4.mul(dv, x0));
      if (K > 1) c0 = f32x4.add(c0, f32x4.mul(ev, x0));
      const x1 = v128.and(v128.load(r + (<usize>(o1 + full) << 2)), mask);
      a1 = f32x4.add(a1, f32x4.mul(dv, x1));
      if (K > 1) c1 = f32x4.add(c1, f32x4.mul(ev, x1));
      const x2 = v128.and(v128.load(r + (<usize>(o2 + full) << 2)), mask);
      a2 = f32x4.add(a2, f32x4.mul(dv, x2));
      if (K > 1) c2 = f32x4.add(c2, f32x4.mul(ev, x2));
      if (last) {
        a3 = f32x4.add(a3, dv);
        if (K > 1) c3 = f32x4.add(c3, ev);
      } else {
        const x3 = v128.and(v128.load(r + (<usize>(o3 + full) << 2)), mask);
        a3 = f32x4.add(a3, f32x4.mul(dv, x3));
        if (K > 1) c3 = f32x4.add(c3, f32x4.mul(ev, x3));
      }
    }
    d += <usize>outW << 2;
    r += rowStep;
  }
  if (taps > 0) store<f32>(part + (<usize>t0 << 2), lanes(a0));
  if (taps > 1) store<f32>(part + (<usize>t1 << 2), lanes(a1));
  if (taps > 2) store<f32>(part + (<usize>t2 << 2), lanes(a2));
  if (taps > 3) store<f32>(part + (<usize>t3 << 2), lanes(a3));
  if (last && db != 0) store<f32>(db, lanes(a3));
  if (K > 1) {
    const q = part + partNext;
    if (taps > 0) store<f32>(q + (<usize>t0 << 2), lanes(c0));
    if (taps > 1) store<f32>(q + (<usize>t1 << 2), lanes(c1));
    if (taps > 2) store<f32>(q + (<usize>t2 << 2), lanes(c2));
    if (taps > 3) store<f32>(q + (<usize>t3 << 2), lanes(c3));
    if (last && db != 0) store<f32>(db, lanes(c3), 4);
  }
}

/** The j-th tap left after the tap rows' runs of four: row j / restW, kw contigW + j mod restW. */
@inline function restTap(j: i32, kernelW: i32, contigW: i32, restW: i32): i32 {
  return (j / restW) * kernelW + contigW + (j % restW);
}

/**
 * The stride-1 weight gradient of K (1 or 2) out channels' dy planes, the second `planeNext` bytes
 * after the first: each tap row's runs of four taps (one row pointer for the four: fewer address adds
 * and registers), then the taps left (the last kernelW mod 4 of each row) four at a time, and the last
 * 0–3 of those with the bias sum in one pass.
 */
@inline function weightStrideOne(
  K: i32,
  kernelW: i32,
  plane: usize,
  planeNext: usize,
  work: usize,
  rowStep: usize,
  outH: i32,
  outW: i32,
  full: i32,
  rem: i32,
  mask: v128,
  tail: usize,
  offs: usize,
  patch: i32,
  part: usize,
  db: usize,
): void {
  const partNext = <usize>patch << 2;
  // Each tap row's first kernelW & ~3 taps four at a time (consecutive offsets: one row pointer),
  // then the rest (the last kernelW mod 4 of each row) four at a time in tap order.
  const contigW = kernelW & ~3;
  for (let t = 0; t < patch; t += kernelW) {
    for (let kw = 0; kw < contigW; kw += 4) {
      weightPass(K, false, true, plane, planeNext, work, rowStep, outH, outW, full, rem, mask, tail, offs,
        t + kw, t + kw + 1, t + kw + 2, t + kw + 3, 4, part, partNext, 0);
    }
  }
  const restW = kernelW - contigW;
  const rest = restW > 0 ? (patch / kernelW) * restW : 0;
  let j = 0;
  for (; j + 4 <= rest; j += 4) {
    weightPass(K, false, false, plane, planeNext, work, rowStep, outH, outW, full, rem, mask, tail, offs,
      restTap(j, kernelW, contigW, restW), restTap(j + 1, kernelW, contigW, restW),
      restTap(j + 2, kernelW, contigW, restW), restTap(j + 3, kernelW, contigW, restW), 4, part, partNext,
      0);
  }
  // The last 0–3 taps and the bias sum share one pass (a missing tap repeats the first one and is
  // dropped; without taps, tap 0's offset is read and dropped).
  const left = rest - j;
  if (left > 0 || db != 0) {
    const t0 = left > 0 ? restTap(j, kernelW, contigW, restW) : 0;
    const t1 = left > 1 ? restTap(j + 1, kernelW, contigW, restW) : t0;
    const t2 = left > 2 ? restTap(j + 2, kernelW, contigW, restW) : t0;
    weightPass(K, true, false, plane, planeNext, work, rowStep, outH, outW, full, rem, mask, tail, offs,
      t0, t1, t2, t0, left, part, partNext, db);
  }
}

/**
 * Per-image partials of the weight and bias gradients for the images [imageFrom, imageTo):
 * dwPart[n, oc, t] = Σ_(oh, ow) dy[n, oc, oh, ow] · tap t's input, dbPart[n, oc] = Σ dy (dbPart 0:
 * none; reluOut, unless 0, the forward's ReLU output: dy is masked by it first, as maskPlane does),
 * each as four float32 lane sums by ow mod 4 combined (s0 + s1) + (s2 + s3). Stride 1 runs on SIMD,
 * two out channels at a time, four taps a pass (each dy load feeds four sums, each x load two
 * channels'); other strides on scalars in the same lane order.
 */
export function directConv2dWeightGrad(
  x: usize,
  dy: usize,
  reluOut: usize,
  dwPart: usize,
  dbPart: usize,
  args: usize,
  imageFrom: i32,
  imageTo: i32,
  work: usize,
): void {
  const channels = arg(args, 1);
  const kernelH = arg(args, 4);
  const kernelW = arg(args, 5);
  const strideH = arg(args, 6);
  const strideW = arg(args, 7);
  const outH = arg(args, 10);
  const outW = arg(args, 11);
  const outChannels = arg(args, 12);
  const hp = arg(args, 13);
  const wp = arg(args, 14);
  const patch = channels * kernelH * kernelW;
  const offs = work + imageBytes(channels, hp, wp);
  const tail = tailAt(work, channels, hp, wp, patch);
  // With ReLU's output, each dy plane (two at a time) is first copied times its mask, after the tail.
  const masked = tail + 16;
  const planeSize = outH * outW;
  const planeBytes = <usize>planeSize << 2;
  // The second masked plane, 16-byte aligned after the first (direct-conv.ts sizes the workspace).
  const maskedNext = (planeBytes + 15) & ~15;
  writeOffsets(offs, channels, kernelH, kernelW, hp, wp);
  const full = outW & ~3;
  const rem = outW - full;
  const rowStep = <usize>(strideH * wp) << 2;
  // Lanes of the last vector past outW read real inputs (or NaN): they are masked to 0 · 0.
  const mask = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(rem));
  v128.store(tail, f32x4.splat(0));
  for (let n = imageFrom; n < imageTo; n++) {
    padImage(x, work, n, args, hp, wp);
    let oc = 0;
    if (strideW == 1) {
      for (; oc + 2 <= outChannels; oc += 2) {
        const first = <usize>((n * outChannels + oc) * planeSize) << 2;
        let plane = dy + first;
        let planeNext = planeBytes;
        if (reluOut != 0) {
          maskPlane(plane, reluOut + first, masked, planeSize);
          maskPlane(plane + planeBytes, reluOut + first + planeBytes, masked + maskedNext, planeSize);
          plane = masked;
          planeNext = maskedNext;
        }
        const part = dwPart + (<usize>((n * outChannels + oc) * patch) << 2);
        const db = dbPart != 0 ? dbPart + (<usize>(n * outChannels + oc) << 2) : 0;
        weightStrideOne(2, kernelW, plane, planeNext, work, rowStep, outH, outW, full, rem, mask, tail, offs,
          patch, part, db);
      }
      if (oc < outChannels) {
        const first = <usize>((n * outChannels + oc) * planeSize) << 2;
        let plane = dy + first;
        if (reluOut != 0) {
          maskPlane(plane, reluOut + first, masked, planeSize);
          plane = masked;
        }
        const part = dwPart + (<usize>((n * outChannels + oc) * patch) << 2);
        const db = dbPart != 0 ? dbPart + (<usize>(n * outChannels + oc) << 2) : 0;
        weightStrideOne(1, kernelW, plane, 0, work, rowStep, outH, outW, full, rem, mask, tail, offs, patch,
          part, db);
      }
      continue;
    }
    for (; oc < outChannels; oc++) {
      let plane = dy + (<usize>((n * outChannels + oc) * planeSize) << 2);
      if (reluOut != 0) {
        maskPlane(plane, reluOut + (<usize>((n * outChannels + oc) * planeSize) << 2), masked, planeSize);
        plane = masked;
      }
      const part = dwPart + (<usize>((n * outChannels + oc) * patch) << 2);
      for (let t = 0; t < patch; t++) {
        const o0 = load<i32>(offs + (<usize>t << 2));
        let s0: f32 = 0;
        let s1: f32 = 0;
        let s2: f32 = 0;
        let s3: f32 = 0;
        for (let oh = 0; oh < outH; oh++) {
          const d = plane + (<usize>(oh * outW) << 2);
          const r = work + (<usize>(oh * strideH * wp + o0) << 2);
          for (let ow = 0; ow < outW; ow += 4) {
            s0 += load<f32>(d + (<usize>ow << 2)) * load<f32>(r + (<usize>(ow * strideW) << 2));
            if (ow + 1 < outW) s1 += load<f32>(d + (<usize>(ow + 1) << 2)) * load<f32>(r + (<usize>((ow + 1) * strideW) << 2));
            if (ow + 2 < outW) s2 += load<f32>(d + (<usize>(ow + 2) << 2)) * load<f32>(r + (<usize>((ow + 2) * strideW) << 2));
            if (ow + 3 < outW) s3 += load<f32>(d + (<usize>(ow + 3) << 2)) * load<f32>(r + (<usize>((ow + 3) * strideW) << 2));
          }
        }
        store<f32>(part + (<usize>t << 2), s0 + s1 + (s2 + s3));
      }
      if (dbPart != 0) {
        let a = f32x4.splat(0);
        for (let oh = 0; oh < outH; oh++) {
          const d = plane + (<usize>(oh * outW) << 2);
          for (let ow = 0; ow < full; ow += 4) a = f32x4.add(a, v128.load(d + (<usize>ow << 2)));
          if (rem > 0) a = f32x4.add(a, dyTail(d + (<usize>full << 2), tail, rem));
        }
        store<f32>(dbPart + (<usize>(n * outChannels + oc) << 2), lanes(a));
      }
    }
  }
}
