// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * Fused LayerNorm over rows [rowFrom, rowTo) of a contiguous [rows, cols] matrix, forward and
 * backward, in the float64 operations and order of the reference backend (src/backend/reference.ts),
 * so the two agree bit for bit: each row's sums run in ascending column order, and the per-element
 * passes (which have no order) use f64x2 lanes. A sequential float64 sum is bound by the add's latency,
 * so four rows are summed at once, one row per f64x2 lane (two vectors, two independent chains; a
 * 4×4 shuffle turns four row loads into column pairs): each lane still adds its row's terms in
 * column order. Rows are independent, so a split of the rows between threads changes nothing.
 * `gamma`, `beta` and `gxhat` are 0 when absent.
 */

/** Element c of an f32 array at `p`, widened to float64. */
@inline function at(p: usize, c: i32): f64 {
  return <f64>load<f32>(p + (<usize>c << 2));
}

/** Lanes (row a, row b) of column c: f64x2(a[c], b[c]). */
@inline function pair(a: usize, b: usize, c: i32): v128 {
  return f64x2.replace_lane(f64x2.splat(at(a, c)), 1, at(b, c));
}

/** The high two f32 lanes moved low (to be promoted). */
@inline function high(v: v128): v128 {
  return v128.shuffle<f32>(v, v, 2, 3, 0, 1);
}

/**
 * Mean and rstd of rows r … r+3 (pointers p0…p3), lanes (r, r+1) in m01/i01 and (r+2, r+3) in m23/i23,
 * written to mean/rstd; then each row's output pass.
 */
@inline function forward4(
  p0: usize,
  p1: usize,
  p2: usize,
  p3: usize,
  cols: i32,
  n: f64,
  eps: f64,
  gamma: usize,
  beta: usize,
  o0: usize,
  mean: usize,
  rstd: usize,
): void {
  let s01 = f64x2.splat(0);
  let s23 = f64x2.splat(0);
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    const o = <usize>c << 2;
    const a = v128.load(p0 + o);
    const b = v128.load(p1 + o);
    const d = v128.load(p2 + o);
    const e = v128.load(p3 + o);
    const ab0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
    const ab1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
    const de0 = v128.shuffle<f32>(d, e, 0, 4, 1, 5);
    const de1 = v128.shuffle<f32>(d, e, 2, 6, 3, 7);
    s01 = f64x2.add(s01, f64x2.promote_low_f32x4(ab0));
    s23 = f64x2.add(s23, f64x2.promote_low_f32x4(de0));
    s01 = f64x2.add(s01, f64x2.promote_low_f32x4(high(ab0)));
    s23 = f64x2.add(s23, f64x2.promote_low_f32x4(high(de0)));
    s01 = f64x2.add(s01, f64x2.promote_low_f32x4(ab1));
    s23 = f64x2.add(s23, f64x2.promote_low_f32x4(de1));
    s01 = f64x2.add(s01, f64x2.promote_low_f32x4(high(ab1)));
    s23 = f64x2.add(s23, f64x2.promote_low_f32x4(high(de1)));
  }
  for (; c < cols; c++) {
    s01 = f64x2.add(s01, pair(p0, p1, c));
    s23 = f64x2.add(s23, pair(p2, p3, c));
  }
  const nv = f64x2.splat(n);
  const m01 = f64x2.div(s01, nv);
  const m23 = f64x2.div(s23, nv);
  let q01 = f64x2.splat(0);
  let q23 = f64x2.splat(0);
  c = 0;
  for (; c + 4 <= cols; c += 4) {
    const o = <usize>c << 2;
    const a = v128.load(p0 + o);
    const b = v128.load(p1 + o);
    const d = v128.load(p2 + o);
    const e = v128.load(p3 + o);
    const ab0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
    const ab1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
    const de0 = v128.shuffle<f32>(d, e, 0, 4, 1, 5);
    const de1 = v128.shuffle<f32>(d, e, 2, 6, 3, 7);
    let u = f64x2.sub(f64x2.promote_low_f32x4(ab0), m01);
    let v = f64x2.sub(f64x2.promote_low_f32x4(de0), m23);
    q01 = f64x2.add(q01, f64x2.mul(u, u));
    q23 = f64x2.add(q23, f64x2.mul(v, v));
    u = f64x2.sub(f64x2.promote_low_f32x4(high(ab0)), m01);
    v = f64x2.sub(f64x2.promote_low_f32x4(high(de0)), m23);
    q01 = f64x2.add(q01, f64x2.mul(u, u));
    q23 = f64x2.add(q23, f64x2.mul(v, v));
    u = f64x2.sub(f64x2.promote_low_f32x4(ab1), m01);
    v = f64x2.sub(f64x2.promote_low_f32x4(de1), m23);
    q01 = f64x2.add(q01, f64x2.mul(u, u));
    q23 = f64x2.add(q23, f64x2.mul(v, v));
    u = f64x2.sub(f64x2.promote_low_f32x4(high(ab1)), m01);
    v = f64x2.sub(f64x2.promote_low_f32x4(high(de1)), m23);
    q01 = f64x2.add(q01, f64x2.mul(u, u));
    q23 = f64x2.add(q23, f64x2.mul(v, v));
  }
  for (; c < cols; c++) {
    const u = f64x2.sub(pair(p0, p1, c), m01);
    const v = f64x2.sub(pair(p2, p3, c), m23);
    q01 = f64x2.add(q01, f64x2.mul(u, u));
    q23 = f64x2.add(q23, f64x2.mul(v, v));
  }
  const one = f64x2.splat(1);
  const ev = f64x2.splat(eps);
  const i01 = f64x2.div(one, f64x2.sqrt(f64x2.add(f64x2.div(q01, nv), ev)));
  const i23 = f64x2.div(one, f64x2.sqrt(f64x2.add(f64x2.div(q23, nv), ev)));
  const rowBytes = <usize>cols << 2;
  normalizeRow(p0, gamma, beta, o0, cols, f64x2.extract_lane(m01, 0), f64x2.extract_lane(i01, 0));
  normalizeRow(p1, gamma, beta, o0 + rowBytes, cols, f64x2.extract_lane(m01, 1), f64x2.extract_lane(i01, 1));
  normalizeRow(p2, gamma, beta, o0 + 2 * rowBytes, cols, f64x2.extract_lane(m23, 0), f64x2.extract_lane(i23, 0));
  normalizeRow(p3, gamma, beta, o0 + 3 * rowBytes, cols, f64x2.extract_lane(m23, 1), f64x2.extract_lane(i23, 1));
  v128.store(mean, v128.shuffle<f32>(f32x4.demote_f64x2_zero(m01), f32x4.demote_f64x2_zero(m23), 0, 1, 4, 5));
  v128.store(rstd, v128.shuffle<f32>(f32x4.demote_f64x2_zero(i01), f32x4.demote_f64x2_zero(i23), 0, 1, 4, 5));
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
  const rowBytes = <usize>cols << 2;
  let r = rowFrom;
  for (; r + 4 <= rowTo; r += 4) {
    const p0 = x + <usize>r * rowBytes;
    const o = <usize>r << 2;
    forward4(p0, p0 + rowBytes, p0 + 2 * rowBytes, p0 + 3 * rowBytes, cols, n, eps, gamma, beta, out + <usize>r * rowBytes, mean + o, rstd + o);
  }
  for (; r < rowTo; r++) {
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
