// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * Fused softmax over the rows of a contiguous [rows, cols] matrix, forward and backward, for rows
 * [rowFrom, rowTo) (a helper thread's range; whole rows, so any split computes every row the same).
 * Both follow the float32 reference backend's steps (src/backend/reference.ts) in its order, so they
 * agree with it bit for bit: the forward's exp is the float32 expF32 (./expf32, four lanes at a
 * time) of x − m rounded to float32, its row sum and quotient in float64 (the quotient rounded once,
 * on the store); the backward is float64 throughout and rounds once, on the store.
 */
import { expF32S, expF32V } from './expf32';

/**
 * The largest of `n` floats at `p`, NaN if any is: four lanes at a time, then the lanes and the tail,
 * each step keeping a NaN it has met (a scalar scan with a branch per element took a third of the
 * kernel's time on attention's 17-column rows). Which of +0 and −0 wins a tie may differ from a
 * sequential scan, and cannot matter: x − (±0) and exp(±0) are the same either way.
 */
@inline function rowMax(p: usize, n: i32): f32 {
  let c = 0;
  let m: f32 = -Infinity;
  if (n >= 4) {
    let acc = v128.load(p);
    for (c = 4; c + 4 <= n; c += 4) {
      const v = v128.load(p + (<usize>c << 2));
      acc = v128.bitselect(v, acc, v128.or(f32x4.gt(v, acc), f32x4.ne(v, v)));
    }
    m = f32x4.extract_lane(acc, 0);
    const l1 = f32x4.extract_lane(acc, 1);
    const l2 = f32x4.extract_lane(acc, 2);
    const l3 = f32x4.extract_lane(acc, 3);
    m = select<f32>(l1, m, l1 > m || l1 != l1);
    m = select<f32>(l2, m, l2 > m || l2 != l2);
    m = select<f32>(l3, m, l3 > m || l3 != l3);
  }
  for (; c < n; c++) {
    const v = load<f32>(p + (<usize>c << 2));
    m = select<f32>(v, m, v > m || v != v);
  }
  return m;
}

/**
 * out_j = e_j / Σ e_j with e_j = expF32(x_j − m) in float32, m the row's maximum (NaN if any element
 * is). The e_j go to `out` first (each computed once), then are divided in place; the sum is float64
 * in ascending column order (each e_j exact in float64), as the reference backend takes it.
 */
export function softmax(x: usize, out: usize, rowFrom: i32, rowTo: i32, cols: i32): void {
  for (let r = rowFrom; r < rowTo; r++) {
    const xr = x + (<usize>(r * cols) << 2);
    const or = out + (<usize>(r * cols) << 2);
    const m = rowMax(xr, cols);
    const mv = f32x4.splat(m);
    let sum: f64 = 0;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      const e = expF32V(f32x4.sub(v128.load(xr + o), mv));
      v128.store(or + o, e);
      sum += <f64>f32x4.extract_lane(e, 0);
      sum += <f64>f32x4.extract_lane(e, 1);
      sum += <f64>f32x4.extract_lane(e, 2);
      sum += <f64>f32x4.extract_lane(e, 3);
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      const e = expF32S(load<f32>(xr + o) - m);
      store<f32>(or + o, e);
      sum += <f64>e;
    }
    // Two columns at a time: f64x2 division is the scalar division lane by lane (IEEE, exact rounding).
    const s = f64x2.splat(sum);
    c = 0;
    for (; c + 2 <= cols; c += 2) {
      const o = <usize>c << 2;
      const q = f64x2.div(f64x2.promote_low_f32x4(v128.load64_zero(or + o)), s);
      v128.store64_lane(or + o, f32x4.demote_f64x2_zero(q), 0);
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      store<f32>(or + o, <f32>(<f64>load<f32>(or + o) / sum));
    }
  }
}

/** out_j = y_j · (dy_j − s), s = Σ dy_j · y_j (each product exact in float64). */
export function softmaxBackward(y: usize, dy: usize, out: usize, rowFrom: i32, rowTo: i32, cols: i32): void {
  for (let r = rowFrom; r < rowTo; r++) {
    const off = <usize>(r * cols) << 2;
    const yr = y + off;
    const gr = dy + off;
    const or = out + off;
    let s: f64 = 0;
    for (let c = 0; c < cols; c++) {
      const o = <usize>c << 2;
      s += <f64>load<f32>(gr + o) * <f64>load<f32>(yr + o);
    }
    const sv = f64x2.splat(s);
    let c = 0;
    for (; c + 2 <= cols; c += 2) {
      const o = <usize>c << 2;
      const yv = f64x2.promote_low_f32x4(v128.load64_zero(yr + o));
      const gv = f64x2.promote_low_f32x4(v128.load64_zero(gr + o));
      v128.store64_lane(or + o, f32x4.demote_f64x2_zero(f64x2.mul(yv, f64x2.sub(gv, sv))), 0);
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      const yc = <f64>load<f32>(yr + o);
      store<f32>(or + o, <f32>(yc * (<f64>load<f32>(gr + o) - s)));
    }
  }
}
