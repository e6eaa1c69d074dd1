// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * im2col / col2im, the unfold behind convolution and pooling (the GEMM does the arithmetic).
 *
 * Both take the geometry as 12 i32 words written by the host at `args`: batch, channels, height,
 * width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW (Im2colGeometry, backend.ts).
 * col2im gathers (one output element at a time, taps in ascending (kh, kw) order, summed in float64
 * and rounded once), so it matches the reference backend bit for bit and never races.
 */

@inline function arg(args: usize, i: i32): i32 {
  return load<i32>(args + (<usize>i << 2));
}

/** out[(n, oh, ow), (c, kh, kw)] = x[n, c, oh·sh − ph + kh, ow·sw − pw + kw], or padValue outside. */
export function im2col(x: usize, out: usize, args: usize, padValue: f32): void {
  const batch = arg(args, 0);
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
  let o = out;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        for (let c = 0; c < channels; c++) {
          const plane = x + (<usize>((n * channels + c) * height * width) << 2);
          for (let kh = 0; kh < kernelH; kh++) {
            const h = oh * strideH - padH + kh;
            const rowInside = h >= 0 && h < height;
            const row = plane + (<usize>(h * width) << 2);
            const w0 = ow * strideW - padW;
            // The common case (the whole kernel row inside the image) is a plain copy.
            if (rowInside && w0 >= 0 && w0 + kernelW <= width) {
              memory.copy(o, row + (<usize>w0 << 2), <usize>kernelW << 2);
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
      }
    }
  }
}

/** out[n, c, h, w] = Σ of the column entries im2col reads from (n, c, h, w); the adjoint of im2col. */
export function col2im(cols: usize, out: usize, args: usize): void {
  const batch = arg(args, 0);
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
  let o = out;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      for (let h = 0; h < height; h++) {
        for (let w = 0; w < width; w++) {
          let acc: f64 = 0;
          for (let kh = 0; kh < kernelH; kh++) {
            const th = h + padH - kh;
            if (th < 0 || th % strideH != 0 || th / strideH >= outH) continue;
            for (let kw = 0; kw < kernelW; kw++) {
              const tw = w + padW - kw;
              if (tw < 0 || tw % strideW != 0 || tw / strideW >= outW) continue;
              const row = (n * outH + th / strideH) * outW + tw / strideW;
              acc += <f64>load<f32>(cols + (<usize>(row * patch + (c * kernelH + kh) * kernelW + kw) << 2));
            }
          }
          store<f32>(o, <f32>acc);
          o += 4;
        }
      }
    }
  }
}
