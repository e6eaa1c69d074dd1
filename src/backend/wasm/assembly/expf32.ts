// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * exp in float32, four lanes (expF32V) or one (expF32S), for the kernels that take it: GELU's
 * exp(−z²) (elementwise.ts) and the softmax's exp(x − m) (softmax.ts). src/backend/expf32.ts is the
 * definition (Cody–Waite reduction, Cephes' polynomial, 2ⁿ as two exponent-bit factors); these repeat
 * its steps in its order, each a plain float32 add, subtract or multiply, so they equal it bit for bit.
 * Literals are parsed as f64 and then rounded, like Math.fround.
 */
const EXP_C2_64: f64 = -2.1219444e-4;
const EXP_P0_64: f64 = 1.98756915e-4;
const EXP_P1_64: f64 = 1.3981999507e-3;
const EXP_P2_64: f64 = 8.3334519073e-3;
const EXP_P3_64: f64 = 4.1665795894e-2;
const EXP_P4_64: f64 = 1.6666665459e-1;
const EXP_P5_64: f64 = 5.0000001201e-1;
const EXP_MIN: f32 = -110;
const EXP_MAX: f32 = 89;
const EXP_MAGIC: f32 = 12582912; // 1.5·2²³
const EXP_MAGIC_BITS: i32 = 0x4b400000;
const EXP_LOG2E: f32 = <f32>Math.LOG2E;
const EXP_C1: f32 = 0.693359375;
const EXP_C2: f32 = <f32>EXP_C2_64;
const EXP_P0: f32 = <f32>EXP_P0_64;
const EXP_P1: f32 = <f32>EXP_P1_64;
const EXP_P2: f32 = <f32>EXP_P2_64;
const EXP_P3: f32 = <f32>EXP_P3_64;
const EXP_P4: f32 = <f32>EXP_P4_64;
const EXP_P5: f32 = <f32>EXP_P5_64;

// The constants, each splatted to 16 bytes, loaded from memory in the loop rather than written as
// v128.const: V8 rebuilds a v128.const in every iteration (two 64-bit immediates moved in, ~4
// instructions), a load is one. Entry K_name holds the constant `name` above (K_ONE holds 1).
const EXP_K = memory.data<f32>(
  [
    1, 1, 1, 1,
    EXP_MIN, EXP_MIN, EXP_MIN, EXP_MIN,
    EXP_MAX, EXP_MAX, EXP_MAX, EXP_MAX,
    EXP_MAGIC, EXP_MAGIC, EXP_MAGIC, EXP_MAGIC,
    EXP_LOG2E, EXP_LOG2E, EXP_LOG2E, EXP_LOG2E,
    EXP_C1, EXP_C1, EXP_C1, EXP_C1,
    EXP_C2, EXP_C2, EXP_C2, EXP_C2,
    EXP_P0, EXP_P0, EXP_P0, EXP_P0,
    EXP_P1, EXP_P1, EXP_P1, EXP_P1,
    EXP_P2, EXP_P2, EXP_P2, EXP_P2,
    EXP_P3, EXP_P3, EXP_P3, EXP_P3,
    EXP_P4, EXP_P4, EXP_P4, EXP_P4,
    EXP_P5, EXP_P5, EXP_P5, EXP_P5,
  ],
  16,
);
const K_ONE = 0;
const K_EXP_MIN = 1;
const K_EXP_MAX = 2;
const K_EXP_MAGIC = 3;
const K_EXP_LOG2E = 4;
const K_EXP_C1 = 5;
const K_EXP_C2 = 6;
const K_EXP_P0 = 7;
const K_EXP_P1 = 8;
const K_EXP_P2 = 9;
const K_EXP_P3 = 10;
const K_EXP_P4 = 11;
const K_EXP_P5 = 12;

/** Constant K_… of EXP_K on four lanes. */
@inline function ek(i: i32): v128 {
  return v128.load(EXP_K + (<usize>i << 4));
}

/** 1 on four lanes, from the table: GELU's kernels take their 1 here too, one load shared with the exp's. */
@inline export function oneV(): v128 {
  return ek(K_ONE);
}

/**
 * exp on four lanes (src/backend/expf32.ts's expF32): plain f32x4 mul then add at every step, never a relaxed
 * madd, so each lane rounds exactly as the scalar form and the reference backend do.
 */
@inline export function expF32V(x: v128): v128 {
  // pmax(a, b) = a < b ? b : a (one maxps; max/min's NaN rules cost several instructions): a NaN x
  // fails both comparisons and passes through.
  const xc = f32x4.pmin(f32x4.pmax(x, ek(K_EXP_MIN)), ek(K_EXP_MAX));
  const magic = ek(K_EXP_MAGIC);
  const k = f32x4.add(f32x4.mul(xc, ek(K_EXP_LOG2E)), magic);
  const n = f32x4.sub(k, magic);
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(n, ek(K_EXP_C1))), f32x4.mul(n, ek(K_EXP_C2)));
  let p = ek(K_EXP_P0);
  p = f32x4.add(f32x4.mul(p, r), ek(K_EXP_P1));
  p = f32x4.add(f32x4.mul(p, r), ek(K_EXP_P2));
  p = f32x4.add(f32x4.mul(p, r), ek(K_EXP_P3));
  p = f32x4.add(f32x4.mul(p, r), ek(K_EXP_P4));
  p = f32x4.add(f32x4.mul(p, r), ek(K_EXP_P5));
  const e = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), ek(K_ONE));
  // n as an integer from k's low bits (k's bits minus the magic number's); 2^⌊n/2⌋ and 2^(n−⌊n/2⌋)
  // from exponent fields, (m + 127) << 23 written as (m << 23) + bits(1.0), the same word.
  const ni = i32x4.sub(k, ek(K_EXP_MAGIC));
  const n1 = i32x4.shr_s(ni, 1);
  const s1 = i32x4.add(i32x4.shl(n1, 23), ek(K_ONE));
  const s2 = i32x4.add(i32x4.shl(i32x4.sub(ni, n1), 23), ek(K_ONE));
  return f32x4.mul(f32x4.mul(e, s1), s2);
}

/** exp of one element, the same steps as expF32V (row tails and strided reads). */
@inline export function expF32S(x: f32): f32 {
  const lo: f32 = x < EXP_MIN ? EXP_MIN : x;
  const xc: f32 = EXP_MAX < lo ? EXP_MAX : lo;
  const k = xc * EXP_LOG2E + EXP_MAGIC;
  const n = k - EXP_MAGIC;
  const r = xc - n * EXP_C1 - n * EXP_C2;
  let p = EXP_P0;
  p = p * r + EXP_P1;
  p = p * r + EXP_P2;
  p = p * r + EXP_P3;
  p = p * r + EXP_P4;
  p = p * r + EXP_P5;
  const e = p * (r * r) + r + <f32>1;
  const ni = reinterpret<i32>(k) - EXP_MAGIC_BITS;
  const n1 = ni >> 1;
  return e * reinterpret<f32>((n1 + 127) << 23) * reinterpret<f32>((ni - n1 + 127) << 23);
}
