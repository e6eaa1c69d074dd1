// @ts-nocheck -- AssemblyScript, compiled at run time by scripts/bench-lib/peak.ts (not by tsc).
/**
 * Register-only f32x4 loops that measure the machine's 128-bit SIMD peak for the benchmark:
 * mulAdd keeps 6 multiply chains and 6 add chains in flight (the plain-SIMD GEMM issues one mul
 * and one add per 4-lane multiply-accumulate), madd keeps 10 relaxed fused multiply-add chains.
 * a and b come in as arguments (the caller passes a = 1, b = 1 for mulAdd and b = 0 for madd) so
 * the optimiser cannot fold anything, and
 * the values stay exactly where they start (no overflow, no denormals).
 * FLOPs per iteration: mulAdd 6·2·4 (mul) + 6·2·4 (add) = 96; madd 10·2·8 = 160.
 */

export function mulAdd(iters: i32, seed: f32, a: f32, b: f32): f32 {
  const va = f32x4.splat(a);
  const vb = f32x4.splat(b);
  let m0 = f32x4.splat(seed);
  let m1 = f32x4.splat(seed + 1);
  let m2 = f32x4.splat(seed + 2);
  let m3 = f32x4.splat(seed + 3);
  let m4 = f32x4.splat(seed + 4);
  let m5 = f32x4.splat(seed + 5);
  let s0 = f32x4.splat(seed + 6);
  let s1 = f32x4.splat(seed + 7);
  let s2 = f32x4.splat(seed + 8);
  let s3 = f32x4.splat(seed + 9);
  let s4 = f32x4.splat(seed + 10);
  let s5 = f32x4.splat(seed + 11);
  for (let i = 0; i < iters; i++) {
    m0 = f32x4.mul(m0, va);
    s0 = f32x4.add(s0, vb);
    m1 = f32x4.mul(m1, va);
    s1 = f32x4.add(s1, vb);
    m2 = f32x4.mul(m2, va);
    s2 = f32x4.add(s2, vb);
    m3 = f32x4.mul(m3, va);
    s3 = f32x4.add(s3, vb);
    m4 = f32x4.mul(m4, va);
    s4 = f32x4.add(s4, vb);
    m5 = f32x4.mul(m5, va);
    s5 = f32x4.add(s5, vb);
    m0 = f32x4.mul(m0, va);
    s0 = f32x4.sub(s0, vb);
    m1 = f32x4.mul(m1, va);
    s1 = f32x4.sub(s1, vb);
    m2 = f32x4.mul(m2, va);
    s2 = f32x4.sub(s2, vb);
    m3 = f32x4.mul(m3, va);
    s3 = f32x4.sub(s3, vb);
    m4 = f32x4.mul(m4, va);
    s4 = f32x4.sub(s4, vb);
    m5 = f32x4.mul(m5, va);
    s5 = f32x4.sub(s5, vb);
  }
  let t = f32x4.add(f32x4.add(f32x4.add(m0, m1), f32x4.add(m2, m3)), f32x4.add(m4, m5));
  t = f32x4.add(t, f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(s4, s5)));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 3);
}

export function madd(iters: i32, seed: f32, a: f32, b: f32): f32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return -1;
  const va = f32x4.splat(a);
  const vb = f32x4.splat(b);
  let c0 = f32x4.splat(seed);
  let c1 = f32x4.splat(seed + 1);
  let c2 = f32x4.splat(seed + 2);
  let c3 = f32x4.splat(seed + 3);
  let c4 = f32x4.splat(seed + 4);
  let c5 = f32x4.splat(seed + 5);
  let c6 = f32x4.splat(seed + 6);
  let c7 = f32x4.splat(seed + 7);
  let c8 = f32x4.splat(seed + 8);
  let c9 = f32x4.splat(seed + 9);
  for (let i = 0; i < iters; i++) {
    c0 = f32x4.relaxed_madd(c0, va, vb);
    c1 = f32x4.relaxed_madd(c1, va, vb);
    c2 = f32x4.relaxed_madd(c2, va, vb);
    c3 = f32x4.relaxed_madd(c3, va, vb);
    c4 = f32x4.relaxed_madd(c4, va, vb);
    c5 = f32x4.relaxed_madd(c5, va, vb);
    c6 = f32x4.relaxed_madd(c6, va, vb);
    c7 = f32x4.relaxed_madd(c7, va, vb);
    c8 = f32x4.relaxed_madd(c8, va, vb);
    c9 = f32x4.relaxed_madd(c9, va, vb);
    c0 = f32x4.relaxed_madd(c0, va, vb);
    c1 = f32x4.relaxed_madd(c1, va, vb);
    c2 = f32x4.relaxed_madd(c2, va, vb);
    c3 = f32x4.relaxed_madd(c3, va, vb);
    c4 = f32x4.relaxed_madd(c4, va, vb);
    c5 = f32x4.relaxed_madd(c5, va, vb);
    c6 = f32x4.relaxed_madd(c6, va, vb);
    c7 = f32x4.relaxed_madd(c7, va, vb);
    c8 = f32x4.relaxed_madd(c8, va, vb);
    c9 = f32x4.relaxed_madd(c9, va, vb);
  }
  let t = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(c4, c5));
  t = f32x4.add(t, f32x4.add(f32x4.add(c6, c7), f32x4.add(c8, c9)));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 3);
}
