// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * Max pooling with its argmax kept, forward and backward, straight in NCHW (no im2col, no permute).
 *
 * Both take the geometry as the 12 i32 words im2col reads (Im2colGeometry's order, backend.ts) at
 * `args`, and do the image planes (n, c) [planeFrom, planeTo): threads take disjoint plane ranges and
 * every plane is computed the same way whichever thread does it, so results do not depend on the
 * thread count. Indices are positions h·W + w within a plane, stored as float32 (an int32 tensor's
 * storage, src/tensor/dtype.ts).
 */

@inline function arg(args: usize, i: i32): i32 {
  return load<i32>(args + (<usize>i << 2));
}

/**
 * out[p, oh, ow] = the max of plane p's window (oh, ow) (padding −∞), indices[p, oh, ow] its position:
 * PyTorch's scan, a tap wins when greater than the best so far or NaN (the first maximum wins ties).
 */
export function maxPool2d(x: usize, out: usize, indices: usize, args: usize, planeFrom: i32, planeTo: i32): void {
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
  const planeIn = height * width;
  let o = out + (<usize>(planeFrom * outH * outW) << 2);
  let ix = indices + (<usize>(planeFrom * outH * outW) << 2);
  for (let p = planeFrom; p < planeTo; p++) {
    const plane = x + (<usize>(p * planeIn) << 2);
    for (let oh = 0; oh < outH; oh++) {
      // The window clipped to the image: padding is −∞, which never beats an in-image tap.
      const hs = oh * strideH - padH;
      const h0 = max(hs, 0);
      const h1 = min(hs + kernelH, height);
      for (let ow = 0; ow < outW; ow++) {
        const ws = ow * strideW - padW;
        const w0 = max(ws, 0);
        const w1 = min(ws + kernelW, width);
        let best: f32 = -Infinity;
        let at = h0 * width + w0;
        for (let h = h0; h < h1; h++) {
          const row = plane + (<usize>(h * width) << 2);
          for (let w = w0; w < w1; w++) {
            const v = load<f32>(row + (<usize>w << 2));
            if (v > best || v != v) {
              best = v;
              at = h * width + w;
            }
          }
        }
        store<f32>(o, best);
        store<f32>(ix, <f32>at);
        o += 4;
        ix += 4;
      }
    }
  }
}

/**
 * dx = 0, then dx[p, indices[p, j]] += dy[p, j] for the planes [planeFrom, planeTo), j ascending, in
 * float32 (the reference backend's and PyTorch's CPU order, so overlapping windows sum alike).
 */
export function maxPool2dBackward(dy: usize, indices: usize, dx: usize, args: usize, planeFrom: i32, planeTo: i32): void {
  const planeIn = arg(args, 2) * arg(args, 3);
  const planeOut = arg(args, 10) * arg(args, 11);
  memory.fill(dx + (<usize>(planeFrom * planeIn) << 2), 0, <usize>((planeTo - planeFrom) * planeIn) << 2);
  let g = dy + (<usize>(planeFrom * planeOut) << 2);
  let ix = indices + (<usize>(planeFrom * planeOut) << 2);
  for (let p = planeFrom; p < planeTo; p++) {
    const plane = dx + (<usize>(p * planeIn) << 2);
    for (let j = 0; j < planeOut; j++) {
      const at = plane + (<usize><i32>load<f32>(ix) << 2);
      store<f32>(at, load<f32>(at) + load<f32>(g));
      g += 4;
      ix += 4;
    }
  }
}
