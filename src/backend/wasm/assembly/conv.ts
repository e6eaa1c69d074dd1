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

/** out[(n, oh, ow), (c, kh, kw)] = x[n, c, oh·sh − ph + kh, ow·sw − pw + kw], or padValue outside; rows [rowFrom, rowTo). */
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
  let o = out + (<usize>rowFrom * <usize>(channels * kernelH * kernelW) << 2);
  // The row's position (n, oh, ow), advanced by one per row (no division per row).
  let n = rowFrom / positions;
  let oh = (rowFrom % positions) / outW;
  let ow = rowFrom % outW;
  for (let r = rowFrom; r < rowTo; r++) {
    const w0 = ow * strideW - padW;
    for (let c = 0; c < channels; c++) {
      const plane = x + (<usize>((n * channels + c) * height * width) << 2);
      for (let kh = 0; kh < kernelH; kh++) {
        const h = oh * strideH - padH + kh;
        const rowInside = h >= 0 && h < height;
        const row = plane + (<usize>(h * width) << 2);
        // The common case (the whole kernel row inside the image) is a plain copy: a loop, since a
        // kernel row is a few floats and memory.copy's call costs more than it moves.
        if (rowInside && w0 >= 0 && w0 + kernelW <= width) {
          const src = row + (<usize>w0 << 2);
          for (let kw = 0; kw < kernelW; kw++) store<f32>(o + (<usize>kw << 2), load<f32>(src + (<usize>kw << 2)));
          o += <usize>kernelW << 2;
          continue;
        }
        for (let kw = 0; kw < kernelW; kw++) {
          const w = w0 + kw;
          store<f32>(o, rowInside && w >= 0 && w < width ? load<f32>(row + (<usize>w << 2)) : padValue);
          o += 4;
        }
      }
    }
    if (++ow === outW) {
      ow = 0;
      if (++oh === outH) {
        oh = 0;
        n++;
      }
    }
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
 * (kh, kw) order. Within one row an element receives at most one tap, so the order there is free.
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
  const planeSize = height * width;
  const imageSize = channels * planeSize;
  for (let n = imageFrom; n < imageTo; n++) {
    memory.fill(acc, 0, <usize>imageSize << 3);
    for (let oh = outH - 1; oh >= 0; oh--) {
      for (let ow = outW - 1; ow >= 0; ow--) {
        let t = cols + (<usize>(((n * outH + oh) * outW + ow) * patch) << 2);
        const w0 = ow * strideW - padW;
        for (let c = 0; c < channels; c++) {
          const plane = acc + (<usize>(c * planeSize) << 3);
          for (let kh = 0; kh < kernelH; kh++) {
            const h = oh * strideH - padH + kh;
            if (h < 0 || h >= height) {
              t += <usize>kernelW << 2;
              continue;
            }
            const row = plane + (<usize>(h * width) << 3);
            for (let kw = 0; kw < kernelW; kw++) {
              const w = w0 + kw;
              if (w >= 0 && w < width) {
                const at = row + (<usize>w << 3);
                store<f64>(at, load<f64>(at) + <f64>load<f32>(t));
              }
              t += 4;
            }
          }
        }
      }
    }
    const o = out + (<usize>(n * imageSize) << 2);
    for (let i = 0; i < imageSize; i++) {
      store<f32>(o + (<usize>i << 2), <f32>load<f64>(acc + (<usize>i << 3)));
    }
  }
}
