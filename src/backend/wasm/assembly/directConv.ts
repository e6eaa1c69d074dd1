// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * Direct convolution for small patches (C·KH·KW taps), forward and weight gradient, straight in NCHW:
 * no im2col (which writes KH·KW copies of the input), no GEMM with n = out channels, no permute.
 *
 * Both take at `args` the 12 geometry words im2col reads (Im2colGeometry's order, backend.ts), then
 * outChannels (12), the padded image's height (13) and row stride (14) (direct-conv.ts computes them),
 * and do the images [imageFrom, imageTo) with `work` (the running thread's workspace) holding one
 * zero-padded image, the taps' offsets in it, a 4-float tail and (weight gradient) a masked dy plane.
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
 * out[n, oc, oh, ow] = Σ_taps x·w (+ bias[oc]) (ReLU) for the images [imageFrom, imageTo); `bias` 0
 * is none, `relu` 0 or 1. Stride-1 rows run four outputs per vector, up to four vectors at a time;
 * other strides one output at a time in the same order.
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
  for (let n = imageFrom; n < imageTo; n++) {
    padImage(x, work, n, args, hp, wp);
    for (let oc = 0; oc < outChannels; oc++) {
      const wRow = w + (<usize>(oc * patch) << 2);
      const b: f32 = hasBias ? load<f32>(bias + (<usize>oc << 2)) : 0;
      const bv = f32x4.splat(b);
      let o = out + (<usize>((n * outChannels + oc) * outH * outW) << 2);
      for (let oh = 0; oh < outH; oh++) {
        const row = work + (<usize>(oh * strideH * wp) << 2);
        if (strideW == 1) {
          // Blocks of four vectors (16 outputs), then one of the 1–3 left, so that several independent
          // sums hide the adds' latency (a row of 28 is 16 + 12); each lane is one output.
          let ow = 0;
          for (; ow + 12 < outW; ow += 16) {
            let a0 = f32x4.splat(0);
            let a1 = f32x4.splat(0);
            let a2 = f32x4.splat(0);
            let a3 = f32x4.splat(0);
            for (let t = 0; t < patch; t++) {
              const wv = f32x4.splat(load<f32>(wRow + (<usize>t << 2)));
              const p = row + (<usize>(load<i32>(offs + (<usize>t << 2)) + ow) << 2);
              a0 = f32x4.add(a0, f32x4.mul(v128.load(p), wv));
              a1 = f32x4.add(a1, f32x4.mul(v128.load(p, 16), wv));
              a2 = f32x4.add(a2, f32x4.mul(v128.load(p, 32), wv));
              a3 = f32x4.add(a3, f32x4.mul(v128.load(p, 48), wv));
            }
            storeOut(o, ow, finish(a0, bv, hasBias, useRelu), outW, tail);
            storeOut(o, ow + 4, finish(a1, bv, hasBias, useRelu), outW, tail);
            storeOut(o, ow + 8, finish(a2, bv, hasBias, useRelu), outW, tail);
            storeOut(o, ow + 12, finish(a3, bv, hasBias, useRelu), outW, tail);
          }
          if (ow + 8 < outW) {
            let a0 = f32x4.splat(0);
            let a1 = f32x4.splat(0);
            let a2 = f32x4.splat(0);
            for (let t = 0; t < patch; t++) {
              const wv = f32x4.splat(load<f32>(wRow + (<usize>t << 2)));
              const p = row + (<usize>(load<i32>(offs + (<usize>t << 2)) + ow) << 2);
              a0 = f32x4.add(a0, f32x4.mul(v128.load(p), wv));
              a1 = f32x4.add(a1, f32x4.mul(v128.load(p, 16), wv));
              a2 = f32x4.add(a2, f32x4.mul(v128.load(p, 32), wv));
            }
            storeOut(o, ow, finish(a0, bv, hasBias, useRelu), outW, tail);
            storeOut(o, ow + 4, finish(a1, bv, hasBias, useRelu), outW, tail);
            storeOut(o, ow + 8, finish(a2, bv, hasBias, useRelu), outW, tail);
          } else if (ow + 4 < outW) {
            let a0 = f32x4.splat(0);
            let a1 = f32x4.splat(0);
            for (let t = 0; t < patch; t++) {
              const wv = f32x4.splat(load<f32>(wRow + (<usize>t << 2)));
              const p = row + (<usize>(load<i32>(offs + (<usize>t << 2)) + ow) << 2);
              a0 = f32x4.add(a0, f32x4.mul(v128.load(p), wv));
              a1 = f32x4.add(a1, f32x4.mul(v128.load(p, 16), wv));
            }
            storeOut(o, ow, finish(a0, bv, hasBias, useRelu), outW, tail);
            storeOut(o, ow + 4, finish(a1, bv, hasBias, useRelu), outW, tail);
          } else if (ow < outW) {
            let a0 = f32x4.splat(0);
            for (let t = 0; t < patch; t++) {
              const wv = f32x4.splat(load<f32>(wRow + (<usize>t << 2)));
              const p = row + (<usize>(load<i32>(offs + (<usize>t << 2)) + ow) << 2);
              a0 = f32x4.add(a0, f32x4.mul(v128.load(p), wv));
            }
            storeOut(o, ow, finish(a0, bv, hasBias, useRelu), outW, tail);
          }
        } else {
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
 * Per-image partials of the weight and bias gradients for the images [imageFrom, imageTo):
 * dwPart[n, oc, t] = Σ_(oh, ow) dy[n, oc, oh, ow] · tap t's input, dbPart[n, oc] = Σ dy (dbPart 0:
 * none; reluOut, unless 0, the forward's ReLU output: dy is masked by it first, as maskPlane does), each as four float32 lane sums by ow mod 4 combined (s0 + s1) + (s2 + s3). Taps go four at a
 * time (four independent sums sharing each dy load); stride 1 runs on SIMD, other strides on scalars
 * in the same lane order.
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
  // With ReLU's output, each dy plane is first copied times its mask, after the 4-float tail.
  const masked = tail + 16;
  const planeSize = outH * outW;
  writeOffsets(offs, channels, kernelH, kernelW, hp, wp);
  const full = outW & ~3;
  const rem = outW - full;
  // Lanes of the last vector past outW read real inputs (or NaN): they are masked to 0 · 0.
  const mask = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(rem));
  v128.store(tail, f32x4.splat(0));
  for (let n = imageFrom; n < imageTo; n++) {
    padImage(x, work, n, args, hp, wp);
    for (let oc = 0; oc < outChannels; oc++) {
      let plane = dy + (<usize>((n * outChannels + oc) * planeSize) << 2);
      if (reluOut != 0) {
        maskPlane(plane, reluOut + (<usize>((n * outChannels + oc) * planeSize) << 2), masked, planeSize);
        plane = masked;
      }
      const part = dwPart + (<usize>((n * outChannels + oc) * patch) << 2);
      let t = 0;
      if (strideW == 1) {
        for (; t + 4 <= patch; t += 4) {
          const o0 = load<i32>(offs + (<usize>t << 2));
          const o1 = load<i32>(offs + (<usize>t << 2), 4);
          const o2 = load<i32>(offs + (<usize>t << 2), 8);
          const o3 = load<i32>(offs + (<usize>t << 2), 12);
          let a0 = f32x4.splat(0);
          let a1 = f32x4.splat(0);
          let a2 = f32x4.splat(0);
          let a3 = f32x4.splat(0);
          for (let oh = 0; oh < outH; oh++) {
            const d = plane + (<usize>(oh * outW) << 2);
            const r = work + (<usize>(oh * strideH * wp) << 2);
            for (let ow = 0; ow < full; ow += 4) {
              const dv = v128.load(d + (<usize>ow << 2));
              a0 = f32x4.add(a0, f32x4.mul(dv, v128.load(r + (<usize>(o0 + ow) << 2))));
              a1 = f32x4.add(a1, f32x4.mul(dv, v128.load(r + (<usize>(o1 + ow) << 2))));
              a2 = f32x4.add(a2, f32x4.mul(dv, v128.load(r + (<usize>(o2 + ow) << 2))));
              a3 = f32x4.add(a3, f32x4.mul(dv, v128.load(r + (<usize>(o3 + ow) << 2))));
            }
            if (rem > 0) {
              const dv = dyTail(d + (<usize>full << 2), tail, rem);
              a0 = f32x4.add(a0, f32x4.mul(dv, v128.and(v128.load(r + (<usize>(o0 + full) << 2)), mask)));
              a1 = f32x4.add(a1, f32x4.mul(dv, v128.and(v128.load(r + (<usize>(o1 + full) << 2)), mask)));
              a2 = f32x4.add(a2, f32x4.mul(dv, v128.and(v128.load(r + (<usize>(o2 + full) << 2)), mask)));
              a3 = f32x4.add(a3, f32x4.mul(dv, v128.and(v128.load(r + (<usize>(o3 + full) << 2)), mask)));
            }
          }
          store<f32>(part + (<usize>t << 2), lanes(a0));
          store<f32>(part + (<usize>t << 2), lanes(a1), 4);
          store<f32>(part + (<usize>t << 2), lanes(a2), 8);
          store<f32>(part + (<usize>t << 2), lanes(a3), 12);
        }
        // The last 0–3 taps and the bias sum share one pass (up to four independent sums; a missing
        // tap repeats the first one's offset and is dropped), each sum in the same order as above.
        const left = patch - t;
        if (left > 0 || dbPart != 0) {
          const o0 = left > 0 ? load<i32>(offs + (<usize>t << 2)) : 0;
          const o1 = left > 1 ? load<i32>(offs + (<usize>t << 2), 4) : o0;
          const o2 = left > 2 ? load<i32>(offs + (<usize>t << 2), 8) : o0;
          let a0 = f32x4.splat(0);
          let a1 = f32x4.splat(0);
          let a2 = f32x4.splat(0);
          let ab = f32x4.splat(0);
          for (let oh = 0; oh < outH; oh++) {
            const d = plane + (<usize>(oh * outW) << 2);
            const r = work + (<usize>(oh * strideH * wp) << 2);
            for (let ow = 0; ow < full; ow += 4) {
              const dv = v128.load(d + (<usize>ow << 2));
              a0 = f32x4.add(a0, f32x4.mul(dv, v128.load(r + (<usize>(o0 + ow) << 2))));
              a1 = f32x4.add(a1, f32x4.mul(dv, v128.load(r + (<usize>(o1 + ow) << 2))));
              a2 = f32x4.add(a2, f32x4.mul(dv, v128.load(r + (<usize>(o2 + ow) << 2))));
              ab = f32x4.add(ab, dv);
            }
            if (rem > 0) {
              const dv = dyTail(d + (<usize>full << 2), tail, rem);
              a0 = f32x4.add(a0, f32x4.mul(dv, v128.and(v128.load(r + (<usize>(o0 + full) << 2)), mask)));
              a1 = f32x4.add(a1, f32x4.mul(dv, v128.and(v128.load(r + (<usize>(o1 + full) << 2)), mask)));
              a2 = f32x4.add(a2, f32x4.mul(dv, v128.and(v128.load(r + (<usize>(o2 + full) << 2)), mask)));
              ab = f32x4.add(ab, dv);
            }
          }
          if (left > 0) store<f32>(part + (<usize>t << 2), lanes(a0));
          if (left > 1) store<f32>(part + (<usize>t << 2), lanes(a1), 4);
          if (left > 2) store<f32>(part + (<usize>t << 2), lanes(a2), 8);
          if (dbPart != 0) store<f32>(dbPart + (<usize>(n * outChannels + oc) << 2), lanes(ab));
        }
      } else {
        for (; t < patch; t++) {
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
      }
      if (strideW != 1 && dbPart != 0) {
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
