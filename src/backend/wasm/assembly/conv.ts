// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * im2col / col2im, the unfold behind convolution and pooling (the GEMM does the arithmetic).
 *
 * Both take the geometry as 12 i32 words written by the host at `args`: batch, channels, height,
 * width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW (Im2colGeometry, backend.ts).
 * col2im sums each output element's taps in ascending (kh, kw) order in float64 and rounds once, as
 * the reference backend's gather does, so the two agree bit for bit.
 *
 * Each kernel does a range of its output: im2col the column rows [rowFrom, rowTo) (one per output
 * position (n, oh, ow)), col2im the images [imageFrom, imageTo). Threads take
 * disjoint ranges and every element is computed the same way whichever thread does it, so results do
 * not depend on the thread count.
 */

@inline function arg(args: usize, i: i32): i32 {
  return load<i32>(args + (<usize>i << 2));
}

/** The first o ≥ 0 with o·stride ≥ d: the first output position whose tap lands inside (d = pad − k). */
@inline export function firstInside(d: i32, stride: i32): i32 {
  return d <= 0 ? 0 : (d + stride - 1) / stride;
}

/** How many o ≥ 0 have o·stride < e (e = size + pad − k), at most `outN`: the end of the inside range. */
@inline export function endInside(e: i32, stride: i32, outN: i32): i32 {
  return e <= 0 ? 0 : min(outN, (e + stride - 1) / stride);
}

/** Copies n floats from src to dst, four at a time (a kernel row is a few floats: no memory.copy call). */
@inline function copyRun(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/** Writes n copies of v from dst. */
@inline function fillRun(dst: usize, v: f32, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), v);
}

/**
 * Writes column row (n, oh·sh − ph = h0, ow·sw − pw = w0) at o, testing the bounds once per row:
 * each kernel row is pad, copy, pad (the taps inside the image: kh in [khLo, khHi), kw in [kwLo,
 * kwHi), empty when the window lies wholly in the padding). `image` is x's image n.
 */
@inline function windowRow(
  o: usize,
  image: usize,
  h0: i32,
  w0: i32,
  khLo: i32,
  khHi: i32,
  channels: i32,
  height: i32,
  width: i32,
  kernelH: i32,
  kernelW: i32,
  padValue: f32,
): void {
  const kwLo = min(kernelW, max(0, -w0));
  const kwHi = max(kwLo, min(kernelW, width - w0));
  const inner = kwHi - kwLo;
  const right = kernelW - kwHi;
  const planeBytes = <usize>(height * width) << 2;
  let plane = image + (<usize>(h0 * width + w0) << 2);
  for (let c = 0; c < channels; c++) {
    fillRun(o, padValue, khLo * kernelW);
    o += <usize>(khLo * kernelW) << 2;
    for (let kh = khLo; kh < khHi; kh++) {
      fillRun(o, padValue, kwLo);
      o += <usize>kwLo << 2;
      copyRun(o, plane + (<usize>(kh * width + kwLo) << 2), inner);
      o += <usize>inner << 2;
      fillRun(o, padValue, right);
      o += <usize>right << 2;
    }
    fillRun(o, padValue, (kernelH - khHi) * kernelW);
    o += <usize>((kernelH - khHi) * kernelW) << 2;
    plane += planeBytes;
  }
}

/**
 * out[(n, oh, ow), (c, kh, kw)] = x[n, c, oh·sh − ph + kh, ow·sw − pw + kw], or padValue outside; rows
 * [rowFrom, rowTo).
 *
 * The rows go by output row (n, oh): the kernel rows inside the image are found once per oh, and the
 * windows wholly inside its width once per call. Those windows (most rows) are written in order with
 * no test, each kernel row of 4 to 8 floats as two overlapping 4-float copies; the windows at the
 * edges, and other kernel widths, take windowRow. (Writing ow innermost, striding by a patch, ran
 * faster in cache but slower over a batch whose columns go out to memory.)
 */
export function im2col(x: usize, out: usize, args: usize, padValue: f32, rowFrom: i32, rowTo: i32): void {
  const channels = arg(args, 1);
  const height = arg(args, 2);
  const width = arg(args, 3);
  const kernelH = arg(args, 4);
  const kernelW = arg(args, 5);
  const strideH = arg(args, 6);
  const strideW = arg(args, 7);
  const padH = arg(args, 8);
  const padW = arg(args, 9);
  const outH = arg(args, 10);
  const outW = arg(args, 11);
  const positions = outH * outW;
  const patch = channels * kernelH * kernelW;
  const rowBytes = <usize>patch << 2;
  const planeBytes = <usize>(height * width) << 2;
  const overlapCopy = kernelW >= 4 && kernelW <= 8;
  const last = <usize>(kernelW - 4) << 2;
  // The windows wholly inside the image's width: ow in [owInLo, owInHi).
  const owInLo = firstInside(padW, strideW);
  const owInHi = endInside(width + padW - kernelW + 1, strideW, outW);
  for (let r = rowFrom; r < rowTo; ) {
    const n = r / positions;
    const oh = (r % positions) / outW;
    const owFrom = r % outW;
    const owTo = min(outW, owFrom + (rowTo - r));
    const h0 = oh * strideH - padH;
    const khLo = min(kernelH, max(0, -h0));
    const khHi = max(khLo, min(kernelH, height - h0));
    const image = x + <usize>(n * channels) * planeBytes;
    const rows = out + <usize>(r - owFrom) * rowBytes;
    // The inside windows of this part of the row: [a, b) (a = b when there are none).
    let a = owTo;
    let b = owTo;
    if (overlapCopy && khLo === 0 && khHi === kernelH) {
      a = min(owTo, max(owFrom, owInLo));
      b = max(a, min(owTo, owInHi));
    }
    for (let ow = owFrom; ow < a; ow++) {
      const o = rows + <usize>ow * rowBytes;
      windowRow(o, image, h0, ow * strideW - padW, khLo, khHi, channels, height, width, kernelH, kernelW, padValue);
    }
    let o = rows + <usize>a * rowBytes;
    let window = image + (<usize>(h0 * width + a * strideW - padW) << 2);
    for (let ow = a; ow < b; ow++) {
      let plane = window;
      for (let c = 0; c < channels; c++) {
        let src = plane;
        for (let kh = 0; kh < kernelH; kh++) {
          const head = v128.load(src);
          v128.store(o + last, v128.load(src + last));
          v128.store(o, head);
          o += <usize>kernelW << 2;
          src += <usize>width << 2;
        }
        plane += planeBytes;
      }
      window += <usize>strideW << 2;
    }
    for (let ow = b; ow < owTo; ow++) {
      const o = rows + <usize>ow * rowBytes;
      windowRow(o, image, h0, ow * strideW - padW, khLo, khHi, channels, height, width, kernelH, kernelW, padValue);
    }
    r += owTo - owFrom;
  }
}

/**
 * acc[0…n) += t[0…n) (a float64 accumulator run, float32 column entries) in float64x2 lanes. Each
 * element gets one float64 addition of its promoted tap, exactly as a scalar loop adds it.
 */
@inline export function addRun(acc: usize, t: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(t + (<usize>i << 2));
    const a = acc + (<usize>i << 3);
    v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v)));
    v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3))), 16);
  }
  if (i + 2 <= n) {
    const a = acc + (<usize>i << 3);
    v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v128.load64_zero(t + (<usize>i << 2)))));
    i += 2;
  }
  if (i < n) {
    const a = acc + (<usize>i << 3);
    store<f64>(a, load<f64>(a) + <f64>load<f32>(t + (<usize>i << 2)));
  }
}

/**
 * out[n, c, h, w] = Σ of the column entries im2col reads from (n, c, h, w), the adjoint of im2col, for
 * the images n in [imageFrom, imageTo); `acc` is a float64 workspace of one image (C·H·W values).
 *
 * It scatters, reading the columns in order (a gather reads them with a stride of a whole patch,
 * which made it the CNN's slowest kernel), yet sums each element exactly as the gather does: its
 * taps in ascending (kh, kw) order in float64, rounded once. A tap (kh, kw) of element (h, w) lies in
 * row (oh, ow) = ((h + ph − kh)/sh, (w + pw − kw)/sw), so the larger kh (then kw), the smaller oh
 * (then ow): visiting an image's rows from last to first adds every element's taps in ascending
 * (kh, kw) order. Within one row an element receives at most one tap, so the order there is free:
 * each kernel row's taps inside the image (the range of kh and kw found once per row, no test per
 * tap) add to a contiguous run of an accumulator row, two float64 lanes at a time. Consecutive rows
 * overlap in the accumulator, but a whole patch of other runs lies between them, so a vector load
 * does not wait on a just-stored, partly overlapping vector.
 */
export function col2im(cols: usize, out: usize, args: usize, imageFrom: i32, imageTo: i32, acc: usize): void {
  const channels = arg(args, 1);
  const height = arg(args, 2);
  const width = arg(args, 3);
  const kernelH = arg(args, 4);
  const kernelW = arg(args, 5);
  const strideH = arg(args, 6);
  const strideW = arg(args, 7);
  const padH = arg(args, 8);
  const padW = arg(args, 9);
  const outH = arg(args, 10);
  const outW = arg(args, 11);
  const patch = channels * kernelH * kernelW;
  const planeBytes = <usize>(height * width) << 3;
  const imageSize = channels * height * width;
  for (let n = imageFrom; n < imageTo; n++) {
    // Read the image's columns forward, a word per cache line, before the backward pass over them:
    // hardware prefetchers follow ascending addresses, and reading backward from memory stalls (2.5×
    // slower over a batch that does not fit the cache). The store keeps the loads; the fill clears it.
    const block = cols + (<usize>(n * outH * outW) * <usize>patch << 2);
    const blockEnd = block + (<usize>(outH * outW * patch) << 2);
    let touched: i32 = 0;
    for (let p = block; p < blockEnd; p += 64) touched |= load<i32>(p);
    store<i32>(acc, touched);
    memory.fill(acc, 0, <usize>imageSize << 3);
    for (let oh = outH - 1; oh >= 0; oh--) {
      const h0 = oh * strideH - padH;
      const khLo = min(kernelH, max(0, -h0));
      const khHi = max(khLo, min(kernelH, height - h0));
      for (let ow = outW - 1; ow >= 0; ow--) {
        const w0 = ow * strideW - padW;
        const kwLo = min(kernelW, max(0, -w0));
        const kwHi = max(kwLo, min(kernelW, width - w0));
        const inner = kwHi - kwLo;
        // Column entry (c, kh, kwLo) of this row, and accumulator element (c, h0 + kh, w0 + kwLo).
        let t = cols + (<usize>(((n * outH + oh) * outW + ow) * patch + khLo * kernelW + kwLo) << 2);
        let plane = acc + (<usize>((h0 + khLo) * width + w0 + kwLo) << 3);
        for (let c = 0; c < channels; c++) {
          let a = plane;
          let s = t;
          for (let kh = khLo; kh < khHi; kh++) {
            addRun(a, s, inner);
            a += <usize>width << 3;
            s += <usize>kernelW << 2;
          }
          plane += planeBytes;
          t += <usize>(kernelH * kernelW) << 2;
        }
      }
    }
    storeRounded(acc, out + (<usize>(n * imageSize) << 2), imageSize);
  }
}

/** o[0…size) = acc[0…size) rounded once to float32, four at a time (demote rounds as the scalar conversion does). */
@inline export function storeRounded(acc: usize, o: usize, size: i32): void {
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    const a = acc + (<usize>i << 3);
    const lo = f32x4.demote_f64x2_zero(v128.load(a));
    const hi = f32x4.demote_f64x2_zero(v128.load(a, 16));
    v128.store(o + (<usize>i << 2), v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
  }
  for (; i < size; i++) {
    store<f32>(o + (<usize>i << 2), <f32>load<f64>(acc + (<usize>i << 3)));
  }
}
