// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * Philox4x32-10 (Salmon et al., SC 2011) with the stream layout of src/random/philox.ts:
 * uniform element i uses block offset + floor(i / 4), word i % 4, as (u >>> 8) · 2^-24;
 * normal element i uses block offset + floor(i / 2), words 2(i % 2), 2(i % 2) + 1, Box–Muller.
 * The SIMD path runs four blocks in the four lanes; i64x2.extmul gives the 32×32→64 products.
 */

const M0: u32 = 0xd2511f53;
const M1: u32 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;
const UNIFORM_SCALE: f32 = 1.0 / 16777216.0;

// Output words of the last scalar block.
let r0: u32 = 0;
let r1: u32 = 0;
let r2: u32 = 0;
let r3: u32 = 0;

/** One scalar block for counter (block as 64-bit integer, 0, 0); result in r0..r3. */
function philoxBlock(block: u64, k0: u32, k1: u32): void {
  let c0 = <u32>block;
  let c1 = <u32>(block >> 32);
  let c2: u32 = 0;
  let c3: u32 = 0;
  for (let round = 0; round < 10; round++) {
    const p0 = <u64>M0 * <u64>c0;
    const p1 = <u64>M1 * <u64>c2;
    const n0 = (<u32>(p1 >> 32)) ^ c1 ^ k0;
    const n2 = (<u32>(p0 >> 32)) ^ c3 ^ k1;
    c0 = n0;
    c1 = <u32>p1;
    c2 = n2;
    c3 = <u32>p0;
    k0 += W0;
    k1 += W1;
  }
  r0 = c0;
  r1 = c1;
  r2 = c2;
  r3 = c3;
}

// Output of the last SIMD group: lane j of v0..v3 holds words 0..3 of block b + j.
let v0: v128 = i32x4.splat(0);
let v1: v128 = i32x4.splat(0);
let v2: v128 = i32x4.splat(0);
let v3: v128 = i32x4.splat(0);

/** Four consecutive blocks b..b+3 at once; results transposed so v_j holds the 4 words of block b+j. */
function philox4Blocks(b: u64, k0: u32, k1: u32): void {
  let c0 = i32x4(<i32>b, <i32>(b + 1), <i32>(b + 2), <i32>(b + 3));
  let c1 = i32x4(<i32>(b >> 32), <i32>((b + 1) >> 32), <i32>((b + 2) >> 32), <i32>((b + 3) >> 32));
  let c2 = i32x4.splat(0);
  let c3 = i32x4.splat(0);
  const m0 = i32x4.splat(<i32>M0);
  const m1 = i32x4.splat(<i32>M1);
  for (let round = 0; round < 10; round++) {
    const kv0 = i32x4.splat(<i32>k0);
    const kv1 = i32x4.splat(<i32>k1);
    const hi0 = v128.shuffle<u32>(i64x2.extmul_low_i32x4_u(m0, c0), i64x2.extmul_high_i32x4_u(m0, c0), 1, 3, 5, 7);
    const hi1 = v128.shuffle<u32>(i64x2.extmul_low_i32x4_u(m1, c2), i64x2.extmul_high_i32x4_u(m1, c2), 1, 3, 5, 7);
    const lo0 = i32x4.mul(m0, c0);
    const lo1 = i32x4.mul(m1, c2);
    c0 = v128.xor(v128.xor(hi1, c1), kv0);
    c2 = v128.xor(v128.xor(hi0, c3), kv1);
    c1 = lo1;
    c3 = lo0;
    k0 += W0;
    k1 += W1;
  }
  // 4×4 transpose: (word, block) -> (block, word).
  const t0 = v128.shuffle<u32>(c0, c1, 0, 4, 1, 5);
  const t1 = v128.shuffle<u32>(c2, c3, 0, 4, 1, 5);
  const t2 = v128.shuffle<u32>(c0, c1, 2, 6, 3, 7);
  const t3 = v128.shuffle<u32>(c2, c3, 2, 6, 3, 7);
  v0 = v128.shuffle<u32>(t0, t1, 0, 1, 4, 5);
  v1 = v128.shuffle<u32>(t0, t1, 2, 3, 6, 7);
  v2 = v128.shuffle<u32>(t2, t3, 0, 1, 4, 5);
  v3 = v128.shuffle<u32>(t2, t3, 2, 3, 6, 7);
}

@inline function toUniform(w: v128): v128 {
  return f32x4.mul(f32x4.convert_i32x4_u(i32x4.shr_u(w, 8)), f32x4.splat(UNIFORM_SCALE));
}

/**
 * Uniform [0, 1) draws for elements [start, end) of the stream (key, offset); start must be a
 * multiple of 4 so a range split between threads lands on block boundaries.
 */
export function randomUniform(out: usize, start: i32, end: i32, k0: u32, k1: u32, offset: f64): void {
  let b = <u64>offset + <u64>(start >> 2);
  let i = start;
  for (; i + 16 <= end; i += 16, b += 4) {
    philox4Blocks(b, k0, k1);
    const p = out + (<usize>i << 2);
    v128.store(p, toUniform(v0));
    v128.store(p, toUniform(v1), 16);
    v128.store(p, toUniform(v2), 32);
    v128.store(p, toUniform(v3), 48);
  }
  for (; i < end; i += 4, b++) {
    philoxBlock(b, k0, k1);
    const p = out + (<usize>i << 2);
    store<f32>(p, <f32>(r0 >>> 8) * UNIFORM_SCALE);
    if (i + 1 < end) store<f32>(p, <f32>(r1 >>> 8) * UNIFORM_SCALE, 4);
    if (i + 2 < end) store<f32>(p, <f32>(r2 >>> 8) * UNIFORM_SCALE, 8);
    if (i + 3 < end) store<f32>(p, <f32>(r3 >>> 8) * UNIFORM_SCALE, 12);
  }
}

@inline function dropOne(w: u32, x: f32, thr: u32, scale: f32): f32 {
  return w >>> 8 >= thr ? x * scale : 0;
}

/**
 * Fused inverted dropout on elements [start, end): out = u >= p ? x · scale : 0. With u = k · 2^-24,
 * u >= p is exactly k >= thr = ceil(p · 2^24) (the host computes thr), an integer compare. When
 * `bits` is not 0 the keep mask is also written there, bit i of byte i / 8 for element i (start must
 * be a multiple of 16), so that dropoutMasked can apply it again without Philox.
 */
export function dropout(
  x: usize,
  out: usize,
  start: i32,
  end: i32,
  k0: u32,
  k1: u32,
  offset: f64,
  thr: u32,
  scale: f32,
  bits: usize,
): void {
  let b = <u64>offset + <u64>(start >> 2);
  let i = start;
  const tv = i32x4.splat(<i32>thr);
  const sv = f32x4.splat(scale);
  for (; i + 16 <= end; i += 16, b += 4) {
    philox4Blocks(b, k0, k1);
    const o = <usize>i << 2;
    const m0 = keepMask(v0, tv);
    const m1 = keepMask(v1, tv);
    const m2 = keepMask(v2, tv);
    const m3 = keepMask(v3, tv);
    v128.store(out + o, v128.and(f32x4.mul(v128.load(x + o), sv), m0));
    v128.store(out + o, v128.and(f32x4.mul(v128.load(x + o, 16), sv), m1), 16);
    v128.store(out + o, v128.and(f32x4.mul(v128.load(x + o, 32), sv), m2), 32);
    v128.store(out + o, v128.and(f32x4.mul(v128.load(x + o, 48), sv), m3), 48);
    if (bits != 0) {
      const word =
        i32x4.bitmask(m0) | (i32x4.bitmask(m1) << 4) | (i32x4.bitmask(m2) << 8) | (i32x4.bitmask(m3) << 12);
      store<u16>(bits + (<usize>i >> 3), <u16>word);
    }
  }
  if (bits != 0 && i < end) store<u16>(bits + (<usize>i >> 3), 0);
  for (; i < end; i += 4, b++) {
    philoxBlock(b, k0, k1);
    const o = <usize>i << 2;
    store<f32>(out + o, dropOne(r0, load<f32>(x + o), thr, scale));
    if (i + 1 < end) store<f32>(out + o, dropOne(r1, load<f32>(x + o, 4), thr, scale), 4);
    if (i + 2 < end) store<f32>(out + o, dropOne(r2, load<f32>(x + o, 8), thr, scale), 8);
    if (i + 3 < end) store<f32>(out + o, dropOne(r3, load<f32>(x + o, 12), thr, scale), 12);
    if (bits != 0) {
      const keep = <u32>(r0 >>> 8 >= thr) | (<u32>(r1 >>> 8 >= thr) << 1) | (<u32>(r2 >>> 8 >= thr) << 2) | (<u32>(r3 >>> 8 >= thr) << 3);
      const at = bits + (<usize>i >> 3);
      store<u8>(at, load<u8>(at) | <u8>(keep << (i & 4)));
    }
  }
}

@inline function keepMask(w: v128, thr: v128): v128 {
  return i32x4.ge_u(i32x4.shr_u(w, 8), thr);
}

/** Lane masks for a 4-bit keep pattern (pattern p at byte 16 · p). */
const EXPAND = memory.data<u32>([
  0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0, -1, -1, 0, 0,
  0, 0, -1, 0, -1, 0, -1, 0, 0, -1, -1, 0, -1, -1, -1, 0,
  0, 0, 0, -1, -1, 0, 0, -1, 0, -1, 0, -1, -1, -1, 0, -1,
  0, 0, -1, -1, -1, 0, -1, -1, 0, -1, -1, -1, -1, -1, -1, -1,
]);

/**
 * out = keep ? g · scale : 0 on elements [start, end) with the keep mask a dropout call wrote to
 * `bits` (start a multiple of 16): the same result as dropout() on the same stream, without Philox.
 */
export function dropoutMasked(g: usize, out: usize, start: i32, end: i32, bits: usize, scale: f32): void {
  const sv = f32x4.splat(scale);
  let i = start;
  for (; i + 16 <= end; i += 16) {
    const word = <u32>load<u16>(bits + (<usize>i >> 3));
    const o = <usize>i << 2;
    v128.store(out + o, v128.and(f32x4.mul(v128.load(g + o), sv), v128.load(EXPAND + ((word & 15) << 4))));
    v128.store(out + o, v128.and(f32x4.mul(v128.load(g + o, 16), sv), v128.load(EXPAND + (((word >> 4) & 15) << 4))), 16);
    v128.store(out + o, v128.and(f32x4.mul(v128.load(g + o, 32), sv), v128.load(EXPAND + (((word >> 8) & 15) << 4))), 32);
    v128.store(out + o, v128.and(f32x4.mul(v128.load(g + o, 48), sv), v128.load(EXPAND + ((word >> 12) << 4))), 48);
  }
  for (; i < end; i++) {
    const keep = (load<u8>(bits + (<usize>i >> 3)) >> <u8>(i & 7)) & 1;
    const o = <usize>i << 2;
    store<f32>(out + o, keep != 0 ? load<f32>(g + o) * scale : 0);
  }
}

@inline function boxMuller(w1: u32, w2: u32): f32 {
  const u1 = <f64>(w1 >>> 8) * (1.0 / 16777216.0);
  const u2 = <f64>(w2 >>> 8) * (1.0 / 16777216.0);
  return <f32>(Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
}

/** Standard normal draws (Box–Muller in float64) for elements [0, n) of the stream. */
export function randomNormal(out: usize, n: i32, k0: u32, k1: u32, offset: f64): void {
  let b = <u64>offset;
  for (let i = 0; i < n; i += 2, b++) {
    philoxBlock(b, k0, k1);
    const p = out + (<usize>i << 2);
    store<f32>(p, boxMuller(r0, r1));
    if (i + 1 < n) store<f32>(p, boxMuller(r2, r3), 4);
  }
}
