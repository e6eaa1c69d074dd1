// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * Fused LayerNorm over rows [rowFrom, rowTo) of a contiguous [rows, cols] matrix, forward and
 * backward, in the float64 operations and order of the reference backend (src/backend/reference.ts),
 * so the two agree bit for bit: each row's sums run in ascending column order, and the per-element
 * passes (which have no order) use f64x2 lanes. Rows are independent, so a split of the rows between
 * threads changes nothing. `gamma`, `beta` and `gxhat` are 0 when absent.
 */

/** Element c of an f32 array at `p`, widened to float64. */
@inline function at(p: usize, c: i32): f64 {
  return <f64>load<f32>(p + (<usize>c << 2));
}

/** out = (x − mean)·rstd·gamma + beta per row; mean and rstd (float32) kept per row. */
export function layerNorm(
  x: usize,
  gamma: usize,
  beta: usize,
  out: usize,
  mean: usize,
  rstd: usize,
  cols: i32,
  eps: f64,
  rowFrom: i32,
  rowTo: i32,
): void {
  const n = <f64>cols;
  for (let r = rowFrom; r < rowTo; r++) {
    const xr = x + (<usize>r * <usize>cols << 2);
    const orow = out + (<usize>r * <usize>cols << 2);
    let sum: f64 = 0;
    for (let c = 0; c < cols; c++) sum += at(xr, c);
    const mu = sum / n;
    let sq: f64 = 0;
    for (let c = 0; c < cols; c++) {
      const d = at(xr, c) - mu;
      sq += d * d;
    }
    const inv = 1.0 / Math.sqrt(sq / n + eps);
    normalizeRow(xr, gamma, beta, orow, cols, mu, inv);
    store<f32>(mean + (<usize>r << 2), <f32>mu);
    store<f32>(rstd + (<usize>r << 2), <f32>inv);
  }
}

/** One row's output pass: ((x − mu)·inv)·gamma + beta, two elements per f64x2 (no order to keep). */
@inline function normalizeRow(
  xr: usize,
  gamma: usize,
  beta: usize,
  orow: usize,
  cols: i32,
  mu: f64,
  inv: f64,
): void {
  const muv = f64x2.splat(mu);
  const invv = f64x2.splat(inv);
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    const o = <usize>c << 2;
    const xv = v128.load(xr + o);
    let y0 = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(xv), muv), invv);
    let y1 = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(xv, xv, 2, 3, 0, 1)), muv), invv);
    if (gamma != 0) {
      const gv = v128.load(gamma + o);
      y0 = f64x2.mul(y0, f64x2.promote_low_f32x4(gv));
      y1 = f64x2.mul(y1, f64x2.promote_low_f32x4(v128.shuffle<f32>(gv, gv, 2, 3, 0, 1)));
    }
    if (beta != 0) {
      const bv = v128.load(beta + o);
      y0 = f64x2.add(y0, f64x2.promote_low_f32x4(bv));
      y1 = f64x2.add(y1, f64x2.promote_low_f32x4(v128.shuffle<f32>(bv, bv, 2, 3, 0, 1)));
    }
    v128.store(orow + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(y0), f32x4.demote_f64x2_zero(y1), 0, 1, 4, 5));
  }
  for (; c < cols; c++) {
    let y = (at(xr, c) - mu) * inv;
    if (gamma != 0) y *= at(gamma, c);
    if (beta != 0) y += at(beta, c);
    store<f32>(orow + (<usize>c << 2), <f32>y);
  }
}

/**
 * dx = (ĝ − a − x̂·b)·rstd with x̂ = (x − mean)·rstd, ĝ = g·gamma, a = Σĝ/cols, b = Σĝ·x̂/cols; and
 * gxhat = g·x̂ when asked for (dgamma's per-row terms).
 */
export function layerNormBackward(
  g: usize,
  x: usize,
  gamma: usize,
  mean: usize,
  rstd: usize,
  dx: usize,
  gxhat: usize,
  cols: i32,
  rowFrom: i32,
  rowTo: i32,
): void {
  const n = <f64>cols;
  for (let r = rowFrom; r < rowTo; r++) {
    const off = <usize>r * <usize>cols << 2;
    const gr = g + off;
    const xr = x + off;
    const mu = <f64>load<f32>(mean + (<usize>r << 2));
    const inv = <f64>load<f32>(rstd + (<usize>r << 2));
    let s1: f64 = 0;
    let s2: f64 = 0;
    for (let c = 0; c < cols; c++) {
      const gh = gamma != 0 ? at(gr, c) * at(gamma, c) : at(gr, c);
      s1 += gh;
      s2 += gh * ((at(xr, c) - mu) * inv);
    }
    const a = s1 / n;
    const b = s2 / n;
    const dr = dx + off;
    const muv = f64x2.splat(mu);
    const invv = f64x2.splat(inv);
    const av = f64x2.splat(a);
    const bv = f64x2.splat(b);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      const xv = v128.load(xr + o);
      const gv = v128.load(gr + o);
      const g0 = f64x2.promote_low_f32x4(gv);
      const g1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(gv, gv, 2, 3, 0, 1));
      const h0 = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(xv), muv), invv);
      const h1 = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(xv, xv, 2, 3, 0, 1)), muv), invv);
      let gh0 = g0;
      let gh1 = g1;
      if (gamma != 0) {
        const wv = v128.load(gamma + o);
        gh0 = f64x2.mul(g0, f64x2.promote_low_f32x4(wv));
        gh1 = f64x2.mul(g1, f64x2.promote_low_f32x4(v128.shuffle<f32>(wv, wv, 2, 3, 0, 1)));
      }
      const d0 = f64x2.mul(f64x2.sub(f64x2.sub(gh0, av), f64x2.mul(h0, bv)), invv);
      const d1 = f64x2.mul(f64x2.sub(f64x2.sub(gh1, av), f64x2.mul(h1, bv)), invv);
      v128.store(dr + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(d0), f32x4.demote_f64x2_zero(d1), 0, 1, 4, 5));
      if (gxhat != 0) {
        const p0 = f64x2.mul(g0, h0);
        const p1 = f64x2.mul(g1, h1);
        v128.store(gxhat + off + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(p0), f32x4.demote_f64x2_zero(p1), 0, 1, 4, 5));
      }
    }
    for (; c < cols; c++) {
      const xhat = (at(xr, c) - mu) * inv;
      const gh = gamma != 0 ? at(gr, c) * at(gamma, c) : at(gr, c);
      store<f32>(dr + (<usize>c << 2), <f32>((gh - a - xhat * b) * inv));
      if (gxhat != 0) store<f32>(gxhat + off + (<usize>c << 2), <f32>(at(gr, c) * xhat));
    }
  }
}
