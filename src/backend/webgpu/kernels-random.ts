/**
 * WGSL sources of the WebGPU backend's random kernels: Philox4x32-10 in 16-bit halves, uniform and
 * normal draws and fused dropout, each reproducing src/random/philox.ts bit for bit (the stream layout
 * of random/stream.ts, the keep rule of random/dropoutKeep.ts). Shares the prelude of kernels.ts.
 */
import { accurateMath, entry, header, linearIndex } from './kernels.js';

/** Philox4x32-10 with 16-bit-half multiplies (WGSL has no 32×32→64 product). */
const philox = /* wgsl */ `
fn mulhi(a: u32, b: u32) -> u32 {
  let aLo = a & 0xffffu; let aHi = a >> 16u; let bLo = b & 0xffffu; let bHi = b >> 16u;
  let lolo = aLo * bLo; let hilo = aHi * bLo; let lohi = aLo * bHi; let hihi = aHi * bHi;
  let mid = (lolo >> 16u) + (hilo & 0xffffu) + (lohi & 0xffffu);
  return hihi + (hilo >> 16u) + (lohi >> 16u) + (mid >> 16u);
}
fn philox(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = ctr; var k = key;
  for (var round = 0u; round < 10u; round++) {
    let hi0 = mulhi(0xd2511f53u, c.x); let lo0 = 0xd2511f53u * c.x;
    let hi1 = mulhi(0xcd9e8d57u, c.z); let lo1 = 0xcd9e8d57u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
  }
  return c;
}
/** Block offset + j as a 64-bit counter (offset lo at P1, hi at P2), key at P3, P4. */
fn block(j: u32) -> vec4<u32> {
  let lo = P(1u) + j;
  let hi = P(2u) + select(0u, 1u, lo < P(1u));
  return philox(vec4<u32>(lo, hi, 0u, 0u), vec2<u32>(P(3u), P(4u)));
}
`;

/** uniform: one thread per 4 elements; P0 size. */
export const uniformSource = `${header}${linearIndex}${philox}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${entry}
  let size = P(0u);
  if (i * 4u >= size) { return; }
  let w = block(i);
  for (var j = 0u; j < 4u; j++) {
    if (i * 4u + j < size) { out[i * 4u + j] = f32(w[j] >> 8u) * 5.9604645e-8; }
  }
}`;

/** normal: one thread per block, 2 elements (Box–Muller); P0 size. */
export const normalSource = `${header}${linearIndex}${philox}${accurateMath}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${entry}
  let size = P(0u);
  if (i * 2u >= size) { return; }
  let w = block(i);
  for (var j = 0u; j < 2u; j++) {
    if (i * 2u + j < size) {
      let u1 = f32(w[2u * j] >> 8u) * 5.9604645e-8;
      let u2 = f32(w[2u * j + 1u] >> 8u) * 5.9604645e-8;
      out[i * 2u + j] = sqrt(-2.0 * logAcc(1.0 - u1)) * cos2pi(u2);
    }
  }
}`;

/** dropout: keep iff (w >> 8) ≥ P5 = ceil(p·2^24); scale at P6; P0 size. */
export const dropoutSource = `${header}${linearIndex}${philox}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${entry}
  let size = P(0u);
  if (i * 4u >= size) { return; }
  let w = block(i);
  let threshold = P(5u);
  let scale = PF(6u);
  for (var j = 0u; j < 4u; j++) {
    let e = i * 4u + j;
    if (e < size) { out[e] = select(0.0, xs[e] * scale, (w[j] >> 8u) >= threshold); }
  }
}`;
