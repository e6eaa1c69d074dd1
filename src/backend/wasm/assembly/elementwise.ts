// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * Elementwise kernels: fill, strided unary/binary/where (GELU and its backward among the ops),
 * reduce, argmax, sgdStep.
 *
 * Strided kernels take a small argument block written by the host (i32 words):
 *   shape[rank], strides0[rank], strides1[rank], strides2[rank], scratch[rank]
 * The host collapses contiguous dimensions first, so the innermost dimension is long and the
 * odometer below runs once per row; the inner loop picks a SIMD path by its element strides
 * (1 = contiguous, 0 = broadcast) and falls back to a scalar strided loop otherwise.
 */

// Op codes, generated from the backend's table (src/backend/wasm/opcodes.ts). Every switch on a code
// lists each op and traps on any other, so a code the table does not know can never compute some op.
import {
  U_COPY,
  U_NEG,
  U_EXP,
  U_LOG,
  U_SQRT,
  U_ABS,
  U_TANH,
  U_GELU,
  B_ADD,
  B_SUB,
  B_MUL,
  B_DIV,
  B_MAXIMUM,
  B_MINIMUM,
  B_GT,
  B_GE,
  B_LT,
  B_EQ,
  B_GELUBACKWARD,
  R_SUM,
  R_MAX,
} from './opcodes.generated';
import { expF32S, expF32V, oneV } from './expf32';

// GELU (src/backend/gelu-math.ts is the definition; these repeat its steps in its order, in float32,
// with exp(−z²) by ./expf32's expF32V/expF32S, so they equal the float32 reference backend bit for
// bit).
// Constants are the float32 roundings of gelu-math.ts's float64 values.
const ERF_P: f32 = <f32>0.3275911;
const ERF_A1: f32 = <f32>0.254829592;
const ERF_A2: f32 = <f32>-0.284496736;
const ERF_A3: f32 = <f32>1.421413741;
const ERF_A4: f32 = <f32>-1.453152027;
const ERF_A5: f32 = <f32>1.061405429;
// k·a_k, the coefficients of the polynomial's derivative: multiplied in float64 and then rounded, as
// gelu-math.ts does (a cast's f32 context would make the compiler multiply in float32).
const ERF_D2_64: f64 = 2 * -0.284496736;
const ERF_D3_64: f64 = 3 * 1.421413741;
const ERF_D4_64: f64 = 4 * -1.453152027;
const ERF_D5_64: f64 = 5 * 1.061405429;
const HALF_RSQRT2_64: f64 = Math.SQRT1_2 / 2;
const ERF_D1: f32 = ERF_A1;
const ERF_D2: f32 = <f32>ERF_D2_64;
const ERF_D3: f32 = <f32>ERF_D3_64;
const ERF_D4: f32 = <f32>ERF_D4_64;
const ERF_D5: f32 = <f32>ERF_D5_64;
const RSQRT2: f32 = <f32>Math.SQRT1_2;
const HALF_RSQRT2: f32 = <f32>HALF_RSQRT2_64;

// The SIMD kernels' constants, each splatted to 16 bytes, loaded from memory in the loop rather than
// written as v128.const: V8 rebuilds a v128.const in every iteration (two 64-bit immediates moved in,
// ~4 instructions), a load is one. Entry K_name holds the constant `name` above (1 is ./expf32's
// oneV(), the same load as its exp's, so the compiler can share it).
const GELU_K = memory.data<f32>(
  [
    0.5, 0.5, 0.5, 0.5,
    2, 2, 2, 2,
    RSQRT2, RSQRT2, RSQRT2, RSQRT2,
    HALF_RSQRT2, HALF_RSQRT2, HALF_RSQRT2, HALF_RSQRT2,
    ERF_P, ERF_P, ERF_P, ERF_P,
    ERF_A1, ERF_A1, ERF_A1, ERF_A1,
    ERF_A2, ERF_A2, ERF_A2, ERF_A2,
    ERF_A3, ERF_A3, ERF_A3, ERF_A3,
    ERF_A4, ERF_A4, ERF_A4, ERF_A4,
    ERF_A5, ERF_A5, ERF_A5, ERF_A5,
    ERF_D2, ERF_D2, ERF_D2, ERF_D2,
    ERF_D3, ERF_D3, ERF_D3, ERF_D3,
    ERF_D4, ERF_D4, ERF_D4, ERF_D4,
    ERF_D5, ERF_D5, ERF_D5, ERF_D5,
  ],
  16,
);
const K_HALF = 0;
const K_TWO = 1;
const K_RSQRT2 = 2;
const K_HALF_RSQRT2 = 3;
const K_ERF_P = 4;
const K_ERF_A1 = 5;
const K_ERF_A2 = 6;
const K_ERF_A3 = 7;
const K_ERF_A4 = 8;
const K_ERF_A5 = 9;
const K_ERF_D2 = 10;
const K_ERF_D3 = 11;
const K_ERF_D4 = 12;
const K_ERF_D5 = 13;

/** Constant K_… of GELU_K on four lanes. */
@inline function kv(i: i32): v128 {
  return v128.load(GELU_K + (<usize>i << 4));
}

/**
 * GELU(x) on four lanes; the scalar form is Op.u's U_GELU. Every step is an exactly rounded f32x4 op
 * (its exp included), like its scalar twin, so a lane's result does not depend on the path.
 */
@inline function geluV(x: v128): v128 {
  const one = oneV();
  const pos = f32x4.ge(x, f32x4.splat(0));
  const z = f32x4.mul(v128.bitselect(x, f32x4.neg(x), pos), kv(K_RSQRT2));
  const t = f32x4.div(one, f32x4.add(f32x4.mul(z, kv(K_ERF_P)), one));
  let poly = f32x4.mul(t, kv(K_ERF_A5));
  poly = f32x4.mul(f32x4.add(poly, kv(K_ERF_A4)), t);
  poly = f32x4.mul(f32x4.add(poly, kv(K_ERF_A3)), t);
  poly = f32x4.mul(f32x4.add(poly, kv(K_ERF_A2)), t);
  poly = f32x4.mul(f32x4.add(poly, kv(K_ERF_A1)), t);
  const e = expF32V(f32x4.neg(f32x4.mul(z, z)));
  const q = f32x4.mul(f32x4.mul(poly, e), kv(K_HALF));
  return f32x4.mul(x, v128.bitselect(f32x4.sub(one, q), q, pos));
}

/** dy·GELU′(x) on four lanes (gelu-math.ts's geluGrad); the scalar form is Op.b's B_GELUBACKWARD. */
@inline function geluGradV(x: v128, dy: v128): v128 {
  const one = oneV();
  const pos = f32x4.ge(x, f32x4.splat(0));
  const z = f32x4.mul(v128.bitselect(x, f32x4.neg(x), pos), kv(K_RSQRT2));
  const t = f32x4.div(one, f32x4.add(f32x4.mul(z, kv(K_ERF_P)), one));
  let poly = f32x4.mul(t, kv(K_ERF_A5));
  poly = f32x4.mul(f32x4.add(poly, kv(K_ERF_A4)), t);
  poly = f32x4.mul(f32x4.add(poly, kv(K_ERF_A3)), t);
  poly = f32x4.mul(f32x4.add(poly, kv(K_ERF_A2)), t);
  poly = f32x4.mul(f32x4.add(poly, kv(K_ERF_A1)), t);
  const e = expF32V(f32x4.neg(f32x4.mul(z, z)));
  const q = f32x4.mul(f32x4.mul(poly, e), kv(K_HALF));
  const cdf = v128.bitselect(f32x4.sub(one, q), q, pos);
  let dp = kv(K_ERF_D5);
  dp = f32x4.add(f32x4.mul(dp, t), kv(K_ERF_D4));
  dp = f32x4.add(f32x4.mul(dp, t), kv(K_ERF_D3));
  dp = f32x4.add(f32x4.mul(dp, t), kv(K_ERF_D2));
  dp = f32x4.add(f32x4.mul(dp, t), kv(K_ERF_A1));
  const s = f32x4.add(
    f32x4.mul(f32x4.mul(kv(K_ERF_P), f32x4.mul(t, t)), dp),
    f32x4.mul(f32x4.mul(kv(K_TWO), z), poly),
  );
  const density = f32x4.mul(f32x4.mul(e, s), kv(K_HALF_RSQRT2));
  return f32x4.mul(dy, f32x4.add(cdf, f32x4.mul(x, density)));
}

/** GELU(x), one element (gelu-math.ts's geluValue). */
@inline function geluS(x: f32): f32 {
  const pos = x >= 0;
  const z = (pos ? x : -x) * RSQRT2;
  const t = <f32>1 / (z * ERF_P + <f32>1);
  let poly = t * ERF_A5;
  poly = (poly + ERF_A4) * t;
  poly = (poly + ERF_A3) * t;
  poly = (poly + ERF_A2) * t;
  poly = (poly + ERF_A1) * t;
  const e = expF32S(-(z * z));
  const q = poly * e * <f32>0.5;
  return x * (pos ? <f32>1 - q : q);
}

/** dy·GELU′(x), one element (gelu-math.ts's geluGrad). */
@inline function geluGradS(x: f32, dy: f32): f32 {
  const pos = x >= 0;
  const z = (pos ? x : -x) * RSQRT2;
  const t = <f32>1 / (z * ERF_P + <f32>1);
  let poly = t * ERF_A5;
  poly = (poly + ERF_A4) * t;
  poly = (poly + ERF_A3) * t;
  poly = (poly + ERF_A2) * t;
  poly = (poly + ERF_A1) * t;
  const e = expF32S(-(z * z));
  const q = poly * e * <f32>0.5;
  const cdf = pos ? <f32>1 - q : q;
  let dp = ERF_D5;
  dp = dp * t + ERF_D4;
  dp = dp * t + ERF_D3;
  dp = dp * t + ERF_D2;
  dp = dp * t + ERF_D1;
  const s = ERF_P * (t * t) * dp + <f32>2 * z * poly;
  const density = e * s * HALF_RSQRT2;
  return dy * (cdf + x * density);
}

class Op {
  /**
   * Scalar unary op. exp/log/tanh run in float64 and round once, exactly like Math.* in the oracle;
   * gelu rounds each step as the oracle's gelu-math.ts does.
   */
  @inline static u(op: i32, x: f32): f32 {
    switch (op) {
      case U_COPY:
        return x;
      case U_NEG:
        return -x;
      case U_EXP:
        return <f32>Math.exp(<f64>x);
      case U_LOG:
        return <f32>Math.log(<f64>x);
      case U_SQRT:
        return Mathf.sqrt(x);
      case U_ABS:
        return Mathf.abs(x);
      case U_TANH:
        return <f32>Math.tanh(<f64>x);
      case U_GELU:
        return geluS(x);
      default:
        unreachable();
        return 0;
    }
  }

  /**
   * True when the op has an exact f32x4 form (float64 rounding of +,-,*,/,sqrt is innocuous; gelu's
   * exp is the float32 expF32, not Math.exp).
   */
  @inline static uSimd(op: i32): bool {
    return op == U_COPY || op == U_NEG || op == U_SQRT || op == U_ABS || op == U_GELU;
  }

  @inline static uv(op: i32, x: v128): v128 {
    switch (op) {
      case U_COPY:
        return x;
      case U_NEG:
        return f32x4.neg(x);
      case U_SQRT:
        return f32x4.sqrt(x);
      case U_ABS:
        return f32x4.abs(x);
      case U_GELU:
        return geluV(x);
      default:
        unreachable();
        return x;
    }
  }

  /** Scalar binary op; f32.max/min propagate NaN and order -0 < +0, exactly like Math.max/min. */
  @inline static b(op: i32, a: f32, b: f32): f32 {
    switch (op) {
      case B_ADD:
        return a + b;
      case B_SUB:
        return a - b;
      case B_MUL:
        return a * b;
      case B_DIV:
        return a / b;
      case B_MAXIMUM:
        return Mathf.max(a, b);
      case B_MINIMUM:
        return Mathf.min(a, b);
      case B_GT:
        return a > b ? 1 : 0;
      case B_GE:
        return a >= b ? 1 : 0;
      case B_LT:
        return a < b ? 1 : 0;
      case B_EQ:
        return a == b ? 1 : 0;
      case B_GELUBACKWARD:
        return geluGradS(a, b);
      default:
        unreachable();
        return 0;
    }
  }

  @inline static bv(op: i32, a: v128, b: v128): v128 {
    const one = f32x4.splat(1);
    switch (op) {
      case B_ADD:
        return f32x4.add(a, b);
      case B_SUB:
        return f32x4.sub(a, b);
      case B_MUL:
        return f32x4.mul(a, b);
      case B_DIV:
        return f32x4.div(a, b);
      case B_MAXIMUM:
        return f32x4.max(a, b);
      case B_MINIMUM:
        return f32x4.min(a, b);
      case B_GT:
        return v128.and(f32x4.gt(a, b), one);
      case B_GE:
        return v128.and(f32x4.ge(a, b), one);
      case B_LT:
        return v128.and(f32x4.lt(a, b), one);
      case B_EQ:
        return v128.and(f32x4.eq(a, b), one);
      case B_GELUBACKWARD:
        return geluGradV(a, b);
      default:
        unreachable();
        return a;
    }
  }

  /** One row of a unary op; inlined per op code so each op gets its own loop. */
  @inline static unaryRow(op: i32, x: usize, sx: i32, out: usize, n: i32): void {
    let i = 0;
    if (Op.uSimd(op)) {
      if (sx == 1) {
        // GELU is one long dependent chain per vector (~45 ops through exp): four independent vectors
        // per iteration keep the core busy (~1.6× faster in isolation than one). Every element still
        // takes the same geluV, so where a row or a thread's range is cut does not matter.
        if (op == U_GELU) {
          for (; i + 16 <= n; i += 16) {
            const o = <usize>i << 2;
            const a0 = Op.uv(op, v128.load(x + o));
            const a1 = Op.uv(op, v128.load(x + o, 16));
            const a2 = Op.uv(op, v128.load(x + o, 32));
            const a3 = Op.uv(op, v128.load(x + o, 48));
            v128.store(out + o, a0);
            v128.store(out + o, a1, 16);
            v128.store(out + o, a2, 32);
            v128.store(out + o, a3, 48);
          }
        }
        for (; i + 4 <= n; i += 4) {
          const o = <usize>i << 2;
          v128.store(out + o, Op.uv(op, v128.load(x + o)));
        }
      } else if (sx == 0) {
        const v = Op.uv(op, v128.load32_splat(x));
        for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
      }
    } else if (sx == 0) {
      // Broadcast of a transcendental: compute once.
      const v = Op.u(op, load<f32>(x));
      for (; i < n; i++) store<f32>(out + (<usize>i << 2), v);
      return;
    }
    for (; i < n; i++) store<f32>(out + (<usize>i << 2), Op.u(op, load<f32>(x + ((<usize>(i * sx)) << 2))));
  }

  /** One row of a binary op with fast paths for contiguous/contiguous and contiguous/broadcast. */
  @inline static binaryRow(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, n: i32): void {
    let i = 0;
    if (sa == 1 && sb == 1) {
      // Three vectors at a time for GELU's backward (see unaryRow): ~10% faster than two; four ran
      // slower than two, its chains holding more live values than x64's 16 SIMD registers.
      if (op == B_GELUBACKWARD) {
        for (; i + 12 <= n; i += 12) {
          const o = <usize>i << 2;
          const r0 = Op.bv(op, v128.load(a + o), v128.load(b + o));
          const r1 = Op.bv(op, v128.load(a + o, 16), v128.load(b + o, 16));
          const r2 = Op.bv(op, v128.load(a + o, 32), v128.load(b + o, 32));
          v128.store(out + o, r0);
          v128.store(out + o, r1, 16);
          v128.store(out + o, r2, 32);
        }
      }
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        v128.store(out + o, Op.bv(op, v128.load(a + o), v128.load(b + o)));
      }
    } else if (sa == 1 && sb == 0) {
      const bv = v128.load32_splat(b);
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        v128.store(out + o, Op.bv(op, v128.load(a + o), bv));
      }
    } else if (sa == 0 && sb == 1) {
      const av = v128.load32_splat(a);
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        v128.store(out + o, Op.bv(op, av, v128.load(b + o)));
      }
    }
    for (; i < n; i++) {
      store<f32>(
        out + (<usize>i << 2),
        Op.b(op, load<f32>(a + (<usize>(i * sa) << 2)), load<f32>(b + (<usize>(i * sb) << 2))),
      );
    }
  }
}

@inline function argAt(args: usize, which: i32, rank: i32, d: i32): i32 {
  return load<i32>(args + ((<usize>(which * rank + d)) << 2));
}

/** Number of elements (product of the shape). */
@inline function sizeOf(args: usize, rank: i32): i32 {
  let size = 1;
  for (let d = 0; d < rank; d++) size *= argAt(args, 0, rank, d);
  return size;
}

/** Sets the odometer at `scratch` (one word per outer dimension) to row `r`. */
@inline function seekRow(args: usize, rank: i32, scratch: usize, r: i32): void {
  for (let d = rank - 2; d >= 0; d--) {
    const size = argAt(args, 0, rank, d);
    store<i32>(scratch + (<usize>d << 2), r % size);
    r /= size;
  }
}

/** Element offset of the odometer's row in operand `which` (1-based stride block). */
@inline function rowOffset(args: usize, rank: i32, scratch: usize, which: i32): i32 {
  let o = 0;
  for (let d = 0; d < rank - 1; d++) o += load<i32>(scratch + (<usize>d << 2)) * argAt(args, which, rank, d);
  return o;
}

/**
 * How far operand `which`'s offset moves when the odometer advances one row (a carry undoes the
 * dimensions that wrap); reads the odometer only, rowNext then moves it.
 */
@inline function rowStep(args: usize, rank: i32, scratch: usize, which: i32): i32 {
  let delta = 0;
  for (let d = rank - 2; d >= 0; d--) {
    const idx = load<i32>(scratch + (<usize>d << 2)) + 1;
    const s = argAt(args, which, rank, d);
    delta += s;
    if (idx < argAt(args, 0, rank, d)) break;
    delta -= s * idx;
  }
  return delta;
}

/** Moves the odometer one row on. */
@inline function rowNext(args: usize, rank: i32, scratch: usize): void {
  for (let d = rank - 2; d >= 0; d--) {
    const ip = scratch + (<usize>d << 2);
    const idx = load<i32>(ip) + 1;
    if (idx < argAt(args, 0, rank, d)) {
      store<i32>(ip, idx);
      return;
    }
    store<i32>(ip, 0);
  }
}

export function fill(out: usize, n: i32, value: f32): void {
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), value);
}

// The strided kernels run output elements [from, to) (row-major over the shape), keeping their
// odometer at `scratch` so threads each run a range with their own. A range that starts or ends
// inside a row starts and ends at a multiple of 4 from the row's start (the host cuts it so), so
// every element takes the same SIMD or scalar path as in a whole-row run: results do not depend on
// the cut. Each kernel dispatches once per row segment on the op code to an inlined loop.

/** Unary op over output elements [from, to); see above. */
export function unaryRange(
  op: i32,
  x: usize,
  out: usize,
  rank: i32,
  args: usize,
  from: i32,
  to: i32,
  scratch: usize,
): void {
  const n = argAt(args, 0, rank, rank - 1);
  const sx = argAt(args, 1, rank, rank - 1);
  let r = from / n;
  let i = from - r * n;
  seekRow(args, rank, scratch, r);
  let ox = rowOffset(args, rank, scratch, 1);
  let pos = from;
  while (pos < to) {
    const end = min(n, i + (to - pos));
    const len = end - i;
    const xp = x + (<usize>(ox + i * sx) << 2);
    const op_ = out + (<usize>pos << 2);
    switch (op) {
      case U_COPY:
        Op.unaryRow(U_COPY, xp, sx, op_, len);
        break;
      case U_NEG:
        Op.unaryRow(U_NEG, xp, sx, op_, len);
        break;
      case U_EXP:
        Op.unaryRow(U_EXP, xp, sx, op_, len);
        break;
      case U_LOG:
        Op.unaryRow(U_LOG, xp, sx, op_, len);
        break;
      case U_SQRT:
        Op.unaryRow(U_SQRT, xp, sx, op_, len);
        break;
      case U_ABS:
        Op.unaryRow(U_ABS, xp, sx, op_, len);
        break;
      case U_TANH:
        Op.unaryRow(U_TANH, xp, sx, op_, len);
        break;
      case U_GELU:
        Op.unaryRow(U_GELU, xp, sx, op_, len);
        break;
      default:
        unreachable();
    }
    pos += len;
    if (pos >= to) break;
    ox += rowStep(args, rank, scratch, 1);
    rowNext(args, rank, scratch);
    i = 0;
  }
}

/** The whole unary op on this thread (odometer in the argument block's scratch words). */
export function unary(op: i32, x: usize, out: usize, rank: i32, args: usize): void {
  unaryRange(op, x, out, rank, args, 0, sizeOf(args, rank), args + (<usize>(4 * rank) << 2));
}

/** Binary op over output elements [from, to); see above unaryRange. */
export function binaryRange(
  op: i32,
  a: usize,
  b: usize,
  out: usize,
  rank: i32,
  args: usize,
  from: i32,
  to: i32,
  scratch: usize,
): void {
  const n = argAt(args, 0, rank, rank - 1);
  const sa = argAt(args, 1, rank, rank - 1);
  const sb = argAt(args, 2, rank, rank - 1);
  let r = from / n;
  let i = from - r * n;
  seekRow(args, rank, scratch, r);
  let oa = rowOffset(args, rank, scratch, 1);
  let ob = rowOffset(args, rank, scratch, 2);
  let pos = from;
  while (pos < to) {
    const end = min(n, i + (to - pos));
    const len = end - i;
    const ap = a + (<usize>(oa + i * sa) << 2);
    const bp = b + (<usize>(ob + i * sb) << 2);
    const o = out + (<usize>pos << 2);
    switch (op) {
      case B_ADD:
        Op.binaryRow(B_ADD, ap, sa, bp, sb, o, len);
        break;
      case B_SUB:
        Op.binaryRow(B_SUB, ap, sa, bp, sb, o, len);
        break;
      case B_MUL:
        Op.binaryRow(B_MUL, ap, sa, bp, sb, o, len);
        break;
      case B_DIV:
        Op.binaryRow(B_DIV, ap, sa, bp, sb, o, len);
        break;
      case B_MAXIMUM:
        Op.binaryRow(B_MAXIMUM, ap, sa, bp, sb, o, len);
        break;
      case B_MINIMUM:
        Op.binaryRow(B_MINIMUM, ap, sa, bp, sb, o, len);
        break;
      case B_GT:
        Op.binaryRow(B_GT, ap, sa, bp, sb, o, len);
        break;
      case B_GE:
        Op.binaryRow(B_GE, ap, sa, bp, sb, o, len);
        break;
      case B_LT:
        Op.binaryRow(B_LT, ap, sa, bp, sb, o, len);
        break;
      case B_EQ:
        Op.binaryRow(B_EQ, ap, sa, bp, sb, o, len);
        break;
      case B_GELUBACKWARD:
        Op.binaryRow(B_GELUBACKWARD, ap, sa, bp, sb, o, len);
        break;
      default:
        unreachable();
    }
    pos += len;
    if (pos >= to) break;
    oa += rowStep(args, rank, scratch, 1);
    ob += rowStep(args, rank, scratch, 2);
    rowNext(args, rank, scratch);
    i = 0;
  }
}

/** The whole binary op on this thread. */
export function binary(op: i32, a: usize, b: usize, out: usize, rank: i32, args: usize): void {
  binaryRange(op, a, b, out, rank, args, 0, sizeOf(args, rank), args + (<usize>(4 * rank) << 2));
}

/**
 * out = cond != 0 ? a : b (NaN counts as true, -0 as false, as `!== 0` does in the oracle) over
 * output elements [from, to); see above unaryRange.
 */
export function whereRange(
  c: usize,
  a: usize,
  b: usize,
  out: usize,
  rank: i32,
  args: usize,
  from: i32,
  to: i32,
  scratch: usize,
): void {
  const n = argAt(args, 0, rank, rank - 1);
  const sc = argAt(args, 1, rank, rank - 1);
  const sa = argAt(args, 2, rank, rank - 1);
  const sb = argAt(args, 3, rank, rank - 1);
  let r = from / n;
  let i0 = from - r * n;
  seekRow(args, rank, scratch, r);
  let oc = rowOffset(args, rank, scratch, 1);
  let oa = rowOffset(args, rank, scratch, 2);
  let ob = rowOffset(args, rank, scratch, 3);
  const zero = f32x4.splat(0);
  let pos = from;
  while (pos < to) {
    const end = min(n, i0 + (to - pos));
    const len = end - i0;
    const cp = c + (<usize>(oc + i0 * sc) << 2);
    const ap = a + (<usize>(oa + i0 * sa) << 2);
    const bp = b + (<usize>(ob + i0 * sb) << 2);
    const o = out + (<usize>pos << 2);
    let i = 0;
    if (sc == 1 && sa == 1 && sb == 1) {
      for (; i + 4 <= len; i += 4) {
        const off = <usize>i << 2;
        const m = f32x4.ne(v128.load(cp + off), zero);
        v128.store(o + off, v128.bitselect(v128.load(ap + off), v128.load(bp + off), m));
      }
    } else if (sc == 1 && sa == 1 && sb == 0) {
      // where(mask, x, 0): the shape relu and dropout compositions produce.
      const bv = v128.load32_splat(bp);
      for (; i + 4 <= len; i += 4) {
        const off = <usize>i << 2;
        const m = f32x4.ne(v128.load(cp + off), zero);
        v128.store(o + off, v128.bitselect(v128.load(ap + off), bv, m));
      }
    }
    for (; i < len; i++) {
      const cv = load<f32>(cp + (<usize>(i * sc) << 2));
      const v = cv != 0 ? load<f32>(ap + (<usize>(i * sa) << 2)) : load<f32>(bp + (<usize>(i * sb) << 2));
      store<f32>(o + (<usize>i << 2), v);
    }
    pos += len;
    if (pos >= to) break;
    oc += rowStep(args, rank, scratch, 1);
    oa += rowStep(args, rank, scratch, 2);
    ob += rowStep(args, rank, scratch, 3);
    rowNext(args, rank, scratch);
    i0 = 0;
  }
}

/** The whole where on this thread. */
export function where(c: usize, a: usize, b: usize, out: usize, rank: i32, args: usize): void {
  whereRange(c, a, b, out, rank, args, 0, sizeOf(args, rank), args + (<usize>(4 * rank) << 2));
}

/**
 * Sum (R_SUM) or max (R_MAX) over the middle axis of [outer, reduce, inner]. Sums accumulate in
 * float64 in the oracle's order, so results are bit-identical; max keeps the first of equal values
 * and propagates NaN.
 */
export function reduce(op: i32, x: usize, out: usize, outer: i32, red: i32, inner: i32): void {
  if (op != R_SUM && op != R_MAX) unreachable();
  const rowBytes = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const base = x + <usize>(o * red) * rowBytes;
    const ob = out + <usize>o * rowBytes;
    let k = 0;
    if (op == R_SUM) {
      for (; k + 8 <= inner; k += 8) {
        let s0 = f64x2.splat(0);
        let s1 = f64x2.splat(0);
        let s2 = f64x2.splat(0);
        let s3 = f64x2.splat(0);
        let p = base + (<usize>k << 2);
        for (let r = 0; r < red; r++) {
          const v0 = v128.load(p);
          const v1 = v128.load(p, 16);
          s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v0));
          s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v0, v0, 2, 3, 0, 1)));
          s2 = f64x2.add(s2, f64x2.promote_low_f32x4(v1));
          s3 = f64x2.add(s3, f64x2.promote_low_f32x4(v128.shuffle<f32>(v1, v1, 2, 3, 0, 1)));
          p += rowBytes;
        }
        const lo = v128.shuffle<f32>(f32x4.demote_f64x2_zero(s0), f32x4.demote_f64x2_zero(s1), 0, 1, 4, 5);
        const hi = v128.shuffle<f32>(f32x4.demote_f64x2_zero(s2), f32x4.demote_f64x2_zero(s3), 0, 1, 4, 5);
        v128.store(ob + (<usize>k << 2), lo);
        v128.store(ob + (<usize>k << 2), hi, 16);
      }
      for (; k < inner; k++) {
        let s: f64 = 0;
        let p = base + (<usize>k << 2);
        for (let r = 0; r < red; r++) {
          s += <f64>load<f32>(p);
          p += rowBytes;
        }
        store<f32>(ob + (<usize>k << 2), <f32>s);
      }
    } else {
      const ninf = f32x4.splat(-Infinity);
      for (; k + 4 <= inner; k += 4) {
        let acc = ninf;
        let p = base + (<usize>k << 2);
        for (let r = 0; r < red; r++) {
          const v = v128.load(p);
          acc = v128.bitselect(v, acc, v128.or(f32x4.gt(v, acc), f32x4.ne(v, v)));
          p += rowBytes;
        }
        v128.store(ob + (<usize>k << 2), acc);
      }
      for (; k < inner; k++) {
        let acc: f32 = -Infinity;
        let p = base + (<usize>k << 2);
        for (let r = 0; r < red; r++) {
          const v = load<f32>(p);
          if (v > acc || v != v) acc = v;
          p += rowBytes;
        }
        store<f32>(ob + (<usize>k << 2), acc);
      }
    }
  }
}

/** Index of the first largest element of each row (NaN never wins, as in the oracle). */
export function argmax(x: usize, out: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>(r * cols) << 2);
    let best = 0;
    let bv = load<f32>(row);
    for (let c = 1; c < cols; c++) {
      const v = load<f32>(row + (<usize>c << 2));
      if (v > bv) {
        bv = v;
        best = c;
      }
    }
    store<f32>(out + (<usize>r << 2), <f32>best);
  }
}

/**
 * Fused softmax cross-entropy per row in float64, like the oracle: loss = max + log(sum) - z[label],
 * grad = exp(z - max) / sum - onehot.
 */
export function softmaxCrossEntropy(
  logits: usize,
  labels: usize,
  losses: usize,
  grad: usize,
  rows: i32,
  cols: i32,
): void {
  for (let r = 0; r < rows; r++) {
    const z = logits + (<usize>(r * cols) << 2);
    const g = grad + (<usize>(r * cols) << 2);
    let max: f64 = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, <f64>load<f32>(z + (<usize>c << 2)));
    let sum: f64 = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(<f64>load<f32>(z + (<usize>c << 2)) - max);
    const label = <i32>load<f32>(labels + (<usize>r << 2));
    store<f32>(losses + (<usize>r << 2), <f32>(max + Math.log(sum) - <f64>load<f32>(z + (<usize>label << 2))));
    for (let c = 0; c < cols; c++) {
      const e = Math.exp(<f64>load<f32>(z + (<usize>c << 2)) - max) / sum;
      store<f32>(g + (<usize>c << 2), <f32>(e - (c == label ? 1.0 : 0.0)));
    }
  }
}

/**
 * SGD with momentum and weight decay in float64, in the oracle's operation order, so it is
 * bit-identical: d = g + wd·w; v = μ·v + d; w -= lr·d. `vel` is 0 when there is no momentum buffer.
 */
export function sgdStep(w: usize, g: usize, vel: usize, n: i32, lr: f64, momentum: f64, wd: f64): void {
  const lrv = f64x2.splat(lr);
  const muv = f64x2.splat(momentum);
  const wdv = f64x2.splat(wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const wf = v128.load(w + o);
    const gf = v128.load(g + o);
    const w0 = f64x2.promote_low_f32x4(wf);
    const w1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(wf, wf, 2, 3, 0, 1));
    let d0 = f64x2.add(f64x2.promote_low_f32x4(gf), f64x2.mul(wdv, w0));
    let d1 = f64x2.add(f64x2.promote_low_f32x4(v128.shuffle<f32>(gf, gf, 2, 3, 0, 1)), f64x2.mul(wdv, w1));
    if (vel != 0) {
      const vf = v128.load(vel + o);
      d0 = f64x2.add(f64x2.mul(muv, f64x2.promote_low_f32x4(vf)), d0);
      d1 = f64x2.add(f64x2.mul(muv, f64x2.promote_low_f32x4(v128.shuffle<f32>(vf, vf, 2, 3, 0, 1))), d1);
      v128.store(
        vel + o,
        v128.shuffle<f32>(f32x4.demote_f64x2_zero(d0), f32x4.demote_f64x2_zero(d1), 0, 1, 4, 5),
      );
    }
    const n0 = f32x4.demote_f64x2_zero(f64x2.sub(w0, f64x2.mul(lrv, d0)));
    const n1 = f32x4.demote_f64x2_zero(f64x2.sub(w1, f64x2.mul(lrv, d1)));
    v128.store(w + o, v128.shuffle<f32>(n0, n1, 0, 1, 4, 5));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const wi = <f64>load<f32>(w + o);
    let d = <f64>load<f32>(g + o) + wd * wi;
    if (vel != 0) {
      d = momentum * <f64>load<f32>(vel + o) + d;
      store<f32>(vel + o, <f32>d);
    }
    store<f32>(w + o, <f32>(wi - lr * d));
  }
}

/**
 * sgdStep over elements [start, end) (a helper thread's range): the same kernel on offset pointers,
 * so a split at multiples of 4 keeps every element on the path it takes in one whole call.
 */
export function sgdStepRange(
  w: usize,
  g: usize,
  vel: usize,
  start: i32,
  end: i32,
  lr: f64,
  momentum: f64,
  wd: f64,
): void {
  const o = <usize>start << 2;
  sgdStep(w + o, g + o, vel == 0 ? 0 : vel + o, end - start, lr, momentum, wd);
}
