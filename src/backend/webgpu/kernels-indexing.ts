/**
 * WGSL sources of the WebGPU backend's view and indexing kernels (the CPU loops are in
 * src/backend/indexing.ts): the strided copy with offsets, gather, and gather's adjoint scatter-add,
 * written as one thread per output element that sums its contributions in ascending position along
 * the axis, so no float atomics are needed and the sums agree bit for bit with the CPU backends.
 */
import { entry, header, linearIndex } from './kernels.js';

/** copyStrided: P0 size, P1 rank, P2 x offset, P3 out offset, P4… shape, P12… x strides, P20… out strides. */
export const copyStridedSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${entry}
  if (i >= P(0u)) { return; }
  var ox = P(2u);
  var oo = P(3u);
  var rem = i;
  let rank = P(1u);
  for (var dd = 0u; dd < rank; dd++) {
    let d = rank - 1u - dd;
    let n = P(4u + d);
    let c = rem % n;
    rem = rem / n;
    ox += c * P(12u + d);
    oo += c * P(20u + d);
  }
  out[oo] = xs[ox];
}`;

/** gather: P0 size, P1 rank, P2 dim, P4… out shape, P12… x strides; an index outside x reads 0. */
export const gatherSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${entry}
  if (i >= P(0u)) { return; }
  let rank = P(1u);
  let dim = P(2u);
  var base = 0u;
  var rem = i;
  for (var dd = 0u; dd < rank; dd++) {
    let d = rank - 1u - dd;
    let n = P(4u + d);
    let c = rem % n;
    rem = rem / n;
    if (d != dim) { base += c * P(12u + d); }
  }
  let j = idx[i];
  let at = base + u32(max(j, 0.0)) * P(12u + dim);
  out[i] = select(0.0, xs[min(at, arrayLength(&xs) - 1u)], j >= 0.0 && at < arrayLength(&xs));
}`;

/** scatterAdd: P0 out size, P1 rank, P2 dim, P4… out shape, P12… index shape (g and index contiguous). */
export const scatterAddSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${entry}
  if (i >= P(0u)) { return; }
  let rank = P(1u);
  let dim = P(2u);
  var rem = i;
  var base = 0u;
  var inside = true;
  var q = 0u;
  var stride = 1u;
  var dimStride = 1u;
  for (var dd = 0u; dd < rank; dd++) {
    let d = rank - 1u - dd;
    let n = P(4u + d);
    let m = P(12u + d);
    let c = rem % n;
    rem = rem / n;
    if (d == dim) {
      q = c;
      dimStride = stride;
    } else {
      if (c >= m) { inside = false; }
      base += c * stride;
    }
    stride *= m;
  }
  var acc = 0.0;
  if (inside) {
    let count = P(12u + dim);
    for (var j = 0u; j < count; j++) {
      let p = base + j * dimStride;
      if (idx[p] == f32(q)) { acc += g[p]; }
    }
  }
  out[i] = acc;
}`;
