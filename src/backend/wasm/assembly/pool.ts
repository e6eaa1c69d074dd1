// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * Max pooling with its argmax kept, forward and backward, straight in NCHW (no im2col, no permute).
 *
 * Both take the geometry as the 12 i32 words im2col reads (Im2colGeometry's order, backend.ts) at
 * `args`, and do the image planes (n, c) [planeFrom, planeTo): threads take disjoint plane ranges and
 * every plane is computed the same way whichever thread does it, so results do not depend on the
 * thread count. Indices are positions h·W + w within a plane, stored as float32 (an int32 tensor's
 * storage, src/tensor/dtype.ts). Windows two columns wide at column stride 2 (LeNet's MaxPool2d(2))
 * take four outputs per SIMD step; every lane makes the scalar scan's comparisons in the same order,
 * so both paths give the same bits (test/unit/backend/max-pool.test.ts).
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
      let ow = 0;
      // LeNet's windows (2 wide, stride 2, no column padding): four outputs at a time in SIMD, each
      // lane running the scalar loop's scan and test exactly.
      if (kernelW == 2 && strideW == 2 && padW == 0) {
        for (; ow + 4 <= outW; ow += 4) {
          const col = i32x4(2 * ow, 2 * ow + 2, 2 * ow + 4, 2 * ow + 6);
          let best = f32x4.splat(0);
          let at = i32x4.splat(0);
          for (let h = h0; h < h1; h++) {
            const src = plane + (<usize>(h * width + 2 * ow) << 2);
            const a = v128.load(src);
            const b = v128.load(src, 16);
            const even = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
            const odd = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
            const ie = i32x4.add(i32x4.splat(h * width), col);
            if (h == h0) {
              // The first tap always wins against the initial −∞ (or is −∞ itself, at the same index).
              best = even;
              at = ie;
            } else {
              const take = v128.or(f32x4.gt(even, best), f32x4.ne(even, even));
              best = v128.bitselect(even, best, take);
              at = v128.bitselect(ie, at, take);
            }
            const take = v128.or(f32x4.gt(odd, best), f32x4.ne(odd, odd));
            best = v128.bitselect(odd, best, take);
            at = v128.bitselect(i32x4.add(ie, i32x4.splat(1)), at, take);
          }
          v128.store(o, best);
          v128.store(ix, f32x4.convert_i32x4_s(at));
          o += 16;
          ix += 16;
        }
      }
      for (; ow < outW; ow++) {
        const ws = ow * strideW - padW;
        const w0 = max(ws, 0);
        const w1 = min(ws + kernelW, width);
        let best: f32 = -Infinity;
        let at = h0 * width + w0;
        for (let h = h0; h < h1; h++) {
          const row = plane + (<usize>(h * width) << 2);
          for (let w = w0; w < w1; w++) {
            const v = load<f32>(row + (<usize>w << 2));
            // Branch-free (wasm select): on real data the comparison is a coin toss for the predictor.
            const take = v > best || v != v;
            best = select<f32>(v, best, take);
            at = select<i32>(h * width + w, at, take);
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
