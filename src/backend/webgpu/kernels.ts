/**
 * WGSL sources of the WebGPU backend's kernels. Every kernel reads its scalar parameters from one
 * 256-byte uniform block (64 u32 words, floats bit-cast) bound with a dynamic offset into a per-batch
 * parameter arena, and its tensors from storage buffers bound at 1…n (inputs read-only, then outputs).
 * The random kernels (Philox uniform, normal, dropout) are in kernels-random.ts.
 */
import type { BinaryOp, UnaryOp } from '../backend.js';
import { ERF_A, ERF_P } from '../gelu-math.js';

/** Workgroup size of the one-thread-per-element kernels. */
export const WG = 256;
/** Largest rank the strided kernels take (after collapsing contiguous axes). */
export const MAX_RANK = 8;
/** Words of the uniform parameter block. */
export const PARAM_WORDS = 64;

/** Common prelude: the parameter block and its accessors. */
export const header = /* wgsl */ `
struct Params { p: array<vec4<u32>, 16> }
@group(0) @binding(0) var<uniform> params: Params;
fn P(i: u32) -> u32 { return params.p[i >> 2u][i & 3u]; }
fn PF(i: u32) -> f32 { return bitcast<f32>(P(i)); }
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// WGSL rejects non-finite constants, so -inf and NaN come from the parameter block (words 62, 63).
fn nanValue() -> f32 { return bitcast<f32>(P(62u)); }
fn negInf() -> f32 { return bitcast<f32>(P(63u)); }
`;

/** Linear element index of a 2-D dispatch of WG-wide workgroups. */
export const linearIndex = /* wgsl */ `
fn linearIndex(wg: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wg.y * nwg.x + wg.x) * ${WG}u + lid.x;
}
`;

/** Entry point of a one-thread-per-item kernel; `i` is the item. */
export const entry = /* wgsl */ `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linearIndex(wg, nwg, lid);`;

/** Strided offset of input `s` (strides at word 4 + 8·(s + 1)) for output index i; shape at words 4…11, rank at 1. */
const stridedOffsets = (inputs: number): string => {
  const decls = Array.from({ length: inputs }, (_, s) => `var o${s} = 0u;`).join(' ');
  const adds = Array.from({ length: inputs }, (_, s) => `o${s} += c * P(${12 + 8 * s}u + d);`).join(' ');
  return `
  ${decls}
  var rem = i;
  let rank = P(1u);
  for (var dd = 0u; dd < rank; dd++) {
    let d = rank - 1u - dd;
    let n = P(4u + d);
    let c = rem % n;
    rem = rem / n;
    ${adds}
  }`;
};

const unaryExpr: Record<UnaryOp, string> = {
  copy: 'x',
  neg: '-x',
  exp: 'exp(x)',
  log: 'logAcc(x)',
  sqrt: 'sqrt(x)',
  abs: 'abs(x)',
  tanh: 'tanhAcc(x)',
  gelu: 'geluF(x)',
};

const binaryExpr: Record<BinaryOp, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  maximum: 'select(max(a, b), a + b, isNan(a) || isNan(b))',
  minimum: 'select(min(a, b), a + b, isNan(a) || isNan(b))',
  gt: 'select(0.0, 1.0, a > b)',
  ge: 'select(0.0, 1.0, a >= b)',
  lt: 'select(0.0, 1.0, a < b)',
  eq: 'select(0.0, 1.0, a == b)',
  geluBackward: 'geluGradF(a, b)',
};

/** fill: P0 size, P2 value. */
export const fillSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${entry}
  if (i >= P(0u)) { return; }
  out[i] = PF(2u);
}`;

/** unary: P0 size, P1 rank, P4… shape, P12… x strides; P3 = 1 when contiguous. */
/** tanh with full float32 accuracy near 0 (GPU builtins may use (e^2x − 1)/(e^2x + 1) there). */
const tanhAcc = /* wgsl */ `
fn tanhAcc(x: f32) -> f32 {
  let a = abs(x);
  if (isNan(x)) { return x; }
  if (a < 0.3) {
    let x2 = x * x;
    return x * (1.0 - x2 * (0.33333334 - x2 * (0.13333334 - x2 * (0.053968254 - x2 * (0.021869488 - x2 * 0.008863236)))));
  }
  let t = 1.0 - 2.0 / (exp(2.0 * min(a, 20.0)) + 1.0);
  return select(t, -t, x < 0.0);
}
`;

/**
 * GELU and its backward (a = x, b = dy), the steps of gelu-math.ts in float32; the GPU's exp is not
 * the CPU's, so these agree with the reference backend within float32 rounding, not bit for bit.
 */
const geluWgsl = /* wgsl */ `
struct GeluSteps { z: f32, t: f32, poly: f32, e: f32, q: f32 }
fn geluSteps(x: f32) -> GeluSteps {
  let z = select(-x, x, x >= 0.0) * ${Math.SQRT1_2};
  let t = 1.0 / (z * ${ERF_P} + 1.0);
  var poly = t * ${ERF_A[4]};
  poly = (poly + ${ERF_A[3]}) * t;
  poly = (poly + ${ERF_A[2]}) * t;
  poly = (poly + ${ERF_A[1]}) * t;
  poly = (poly + ${ERF_A[0]}) * t;
  let e = exp(-(z * z));
  return GeluSteps(z, t, poly, e, poly * e * 0.5);
}
fn geluF(x: f32) -> f32 {
  let s = geluSteps(x);
  return x * select(s.q, 1.0 - s.q, x >= 0.0);
}
fn geluGradF(x: f32, dy: f32) -> f32 {
  let s = geluSteps(x);
  let cdf = select(s.q, 1.0 - s.q, x >= 0.0);
  var dp: f32 = ${5 * ERF_A[4]};
  dp = dp * s.t + ${4 * ERF_A[3]};
  dp = dp * s.t + ${3 * ERF_A[2]};
  dp = dp * s.t + ${2 * ERF_A[1]};
  dp = dp * s.t + ${ERF_A[0]};
  let density = s.e * (${ERF_P} * (s.t * s.t) * dp + 2.0 * s.z * s.poly) * ${Math.SQRT1_2 / 2};
  return dy * (cdf + x * density);
}
`;

export function unarySource(op: UnaryOp): string {
  return `${header}${linearIndex}${op === 'log' ? accurateMath : ''}${op === 'tanh' ? tanhAcc : ''}${op === 'gelu' ? geluWgsl : ''}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${entry}
  if (i >= P(0u)) { return; }
  var o0 = i;
  if (P(3u) == 0u) {
    ${stridedOffsets(1).replace('var o0 = 0u;', 'o0 = 0u;')}
  }
  let x = xs[o0];
  out[i] = ${unaryExpr[op]};
}`;
}

/** binary: like unary with a's strides at P12… and b's at P20…. */
export function binarySource(op: BinaryOp): string {
  return `${header}${linearIndex}${op === 'geluBackward' ? geluWgsl : ''}
@group(0) @binding(1) var<storage, read> as_: array<f32>;
@group(0) @binding(2) var<storage, read> bs: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${entry}
  if (i >= P(0u)) { return; }
  var o0 = i;
  var o1 = i;
  if (P(3u) == 0u) {
    ${stridedOffsets(2).replace('var o0 = 0u; var o1 = 0u;', 'o0 = 0u; o1 = 0u;')}
  }
  let a = as_[o0];
  let b = bs[o1];
  out[i] = ${binaryExpr[op]};
}`;
}

/** where: cond strides P12…, a P20…, b P28…. */
export const whereSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> cs: array<f32>;
@group(0) @binding(2) var<storage, read> as_: array<f32>;
@group(0) @binding(3) var<storage, read> bs: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
${entry}
  if (i >= P(0u)) { return; }
  ${stridedOffsets(3)}
  out[i] = select(bs[o2], as_[o1], cs[o0] != 0.0);
}`;

/** reduce, one thread per output: P0 outer, P1 reduce, P2 inner, P3 = 1 for max. */
export const reduceSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${entry}
  let outer = P(0u); let red = P(1u); let inner = P(2u);
  if (i >= outer * inner) { return; }
  let o = i / inner; let k = i % inner;
  let base = o * red * inner + k;
  if (P(3u) == 1u) {
    var acc = negInf();
    for (var r = 0u; r < red; r++) {
      let v = xs[base + r * inner];
      if (v > acc || isNan(v)) { acc = v; }
      if (isNan(acc)) { break; }
    }
    out[i] = acc;
  } else {
    var acc = 0.0;
    for (var r = 0u; r < red; r++) { acc += xs[base + r * inner]; }
    out[i] = acc;
  }
}`;

/** reduce, one workgroup per output (few outputs, long reductions): a tree in shared memory. */
export const reduceTreeSource = `${header}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
var<workgroup> sh: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let outer = P(0u); let red = P(1u); let inner = P(2u); let isMax = P(3u) == 1u;
  let oi = wg.y * nwg.x + wg.x;
  let valid = oi < outer * inner;
  let o = oi / max(inner, 1u); let k = oi % max(inner, 1u);
  let base = o * red * inner + k;
  var acc = select(0.0, negInf(), isMax);
  if (valid) {
    for (var r = lid.x; r < red; r += ${WG}u) {
      let v = xs[base + r * inner];
      if (isMax) { if (v > acc || isNan(v)) { acc = v; } }
      else { acc += v; }
    }
  }
  sh[lid.x] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid.x < s) {
      let a = sh[lid.x]; let b = sh[lid.x + s];
      if (isMax) { sh[lid.x] = select(select(a, b, b > a), a + b, isNan(a) || isNan(b)); }
      else { sh[lid.x] = a + b; }
    }
    workgroupBarrier();
  }
  if (lid.x == 0u && valid) { out[oi] = sh[0]; }
}`;

/**
 * GEMM: 64×64 output tile per 16×16 workgroup, 4×4 outputs per thread, K in steps of 16 through
 * shared memory. P0 m, P1 n, P2 k, P3 flags (1 bias, 2 relu); a batched product dispatches one grid
 * layer per item (workgroup z) with P4, P5, P6 the elements of one item of A, B, C. Transposes are
 * compile-time variants.
 */
export function matmulSource(transA: boolean, transB: boolean): string {
  const loadA = transA
    ? `let p = idx / 64u; let r = idx % 64u; let gr = row0 + r; let gp = t + p;
       var v = 0.0; if (gr < M && gp < K) { v = A[oa + gp * M + gr]; }`
    : `let r = idx / 16u; let p = idx % 16u; let gr = row0 + r; let gp = t + p;
       var v = 0.0; if (gr < M && gp < K) { v = A[oa + gr * K + gp]; }`;
  const loadB = transB
    ? `let c = idx / 16u; let p = idx % 16u; let gc = col0 + c; let gp = t + p;
       var v = 0.0; if (gc < N && gp < K) { v = B[ob + gc * K + gp]; }`
    : `let p = idx / 64u; let c = idx % 64u; let gc = col0 + c; let gp = t + p;
       var v = 0.0; if (gc < N && gp < K) { v = B[ob + gp * N + gc]; }`;
  return `${header}
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;
var<workgroup> As: array<f32, 1024>;
var<workgroup> Bs: array<f32, 1024>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let M = P(0u); let N = P(1u); let K = P(2u); let flags = P(3u);
  let row0 = wg.y * 64u; let col0 = wg.x * 64u;
  // A batched product's item wg.z starts P4/P5/P6 elements further on (all 0 for a plain matmul).
  let oa = wg.z * P(4u); let ob = wg.z * P(5u); let oc = wg.z * P(6u);
  let tx = lid.x; let ty = lid.y;
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  for (var t = 0u; t < K; t += 16u) {
    for (var e = 0u; e < 4u; e++) {
      let idx = li + e * 256u;
      { ${loadA} As[p * 64u + r] = v; }
      { ${loadB} Bs[p * 64u + c] = v; }
    }
    workgroupBarrier();
    for (var p = 0u; p < 16u; p++) {
      let b = vec4<f32>(Bs[p * 64u + tx], Bs[p * 64u + tx + 16u], Bs[p * 64u + tx + 32u], Bs[p * 64u + tx + 48u]);
      acc0 += As[p * 64u + ty] * b;
      acc1 += As[p * 64u + ty + 16u] * b;
      acc2 += As[p * 64u + ty + 32u] * b;
      acc3 += As[p * 64u + ty + 48u] * b;
    }
    workgroupBarrier();
  }
  let accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var r = 0u; r < 4u; r++) {
    let gr = row0 + ty + 16u * r;
    if (gr >= M) { continue; }
    for (var c = 0u; c < 4u; c++) {
      let gc = col0 + tx + 16u * c;
      if (gc >= N) { continue; }
      var v = accs[r][c];
      if ((flags & 1u) != 0u) { v += bias[gc]; }
      if ((flags & 2u) != 0u && !(v > 0.0)) { v = 0.0; }
      C[oc + gr * N + gc] = v;
    }
  }
}`;
}

/** argmax: one thread per row; P0 rows, P1 cols. */
export const argmaxSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${entry}
  let rows = P(0u); let cols = P(1u);
  if (i >= rows) { return; }
  let base = i * cols;
  var best = 0u;
  var bv = xs[base];
  for (var c = 1u; c < cols; c++) {
    let v = xs[base + c];
    if (v > bv) { best = c; bv = v; }
  }
  out[i] = f32(best);
}`;

/**
 * Accurate natural log for v in (0, 1] (GPU log builtins may carry 2^-21 absolute error near 1):
 * v = m·2^e with m in [√½, √2), ln m = 2·atanh(s), s = (m − 1)/(m + 1).
 */
export const accurateMath = /* wgsl */ `
fn logAcc(v: f32) -> f32 {
  if (!(v > 0.0)) { return select(nanValue(), negInf(), v == 0.0); }
  if (v == -negInf()) { return v; }
  var bits = bitcast<u32>(v);
  var bias = 127;
  if (bits < 0x00800000u) { bits = bitcast<u32>(v * 16777216.0); bias = 151; }
  var e = i32((bits >> 23u) & 0xffu) - bias;
  var m = bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u);
  if (m > 1.41421356) { m = m * 0.5; e = e + 1; }
  let s = (m - 1.0) / (m + 1.0);
  let s2 = s * s;
  let series = 1.0 + s2 * (0.33333334 + s2 * (0.2 + s2 * (0.14285715 + s2 * (0.11111111 + s2 * 0.09090909))));
  return f32(e) * 0.6931472 + 2.0 * s * series;
}
/** cos(2π t) for t = k·2^-24 in [0, 1): exact quadrant reduction in turns, then Taylor on |x| ≤ π/4. */
fn cos2pi(t: f32) -> f32 {
  let q = round(t * 4.0);
  let x = (t - q * 0.25) * 6.28318531;
  let x2 = x * x;
  let c = 1.0 - x2 * (0.5 - x2 * (0.041666668 - x2 * (0.0013888889 - x2 * 0.000024801587)));
  let s = x * (1.0 - x2 * (0.16666667 - x2 * (0.008333334 - x2 * (0.0001984127 - x2 * 0.0000027557319))));
  let qi = u32(q) & 3u;
  if (qi == 0u) { return c; }
  if (qi == 1u) { return -s; }
  if (qi == 2u) { return -c; }
  return s;
}
`;

/** softmax cross-entropy: one thread per row; P0 rows, P1 cols. */
export const softmaxCESource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
@group(0) @binding(3) var<storage, read_write> losses: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;
${entry}
  let rows = P(0u); let cols = P(1u);
  if (i >= rows) { return; }
  let base = i * cols;
  var mx = negInf();
  for (var c = 0u; c < cols; c++) { mx = max(mx, z[base + c]); }
  var sum = 0.0;
  for (var c = 0u; c < cols; c++) { sum += exp(z[base + c] - mx); }
  let label = u32(labels[i]);
  losses[i] = mx + log(sum) - z[base + label];
  for (var c = 0u; c < cols; c++) {
    grad[base + c] = exp(z[base + c] - mx) / sum - select(0.0, 1.0, c == label);
  }
}`;

/**
 * LayerNorm forward, one thread per row (float32; WGSL has no float64): P0 rows, P1 cols, P2 eps
 * (float), P3/P4 nonzero when gamma/beta are bound (else a placeholder is).
 */
export const layerNormSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;
${entry}
  let rows = P(0u); let cols = P(1u);
  if (i >= rows) { return; }
  let base = i * cols;
  let n = f32(cols);
  var sum = 0.0;
  for (var c = 0u; c < cols; c++) { sum += xs[base + c]; }
  let mu = sum / n;
  var sq = 0.0;
  for (var c = 0u; c < cols; c++) { let d = xs[base + c] - mu; sq += d * d; }
  let inv = 1.0 / sqrt(sq / n + PF(2u));
  for (var c = 0u; c < cols; c++) {
    var y = (xs[base + c] - mu) * inv;
    if (P(3u) != 0u) { y *= gamma[c]; }
    if (P(4u) != 0u) { y += beta[c]; }
    out[base + c] = y;
  }
  mean[i] = mu;
  rstd[i] = inv;
}`;

/** LayerNorm backward, one thread per row: P0 rows, P1 cols, P3 nonzero when gamma is bound; the variant writes g·x̂ too. */
export function layerNormBackwardSource(withGxhat: boolean): string {
  return `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> gs: array<f32>;
@group(0) @binding(2) var<storage, read> xs: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> rstd: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
${withGxhat ? '@group(0) @binding(7) var<storage, read_write> gxhat: array<f32>;' : ''}
${entry}
  let rows = P(0u); let cols = P(1u);
  if (i >= rows) { return; }
  let base = i * cols;
  let mu = mean[i]; let inv = rstd[i];
  var s1 = 0.0; var s2 = 0.0;
  for (var c = 0u; c < cols; c++) {
    var gh = gs[base + c];
    if (P(3u) != 0u) { gh *= gamma[c]; }
    s1 += gh;
    s2 += gh * ((xs[base + c] - mu) * inv);
  }
  let a = s1 / f32(cols); let b = s2 / f32(cols);
  for (var c = 0u; c < cols; c++) {
    let xhat = (xs[base + c] - mu) * inv;
    var gh = gs[base + c];
    if (P(3u) != 0u) { gh *= gamma[c]; }
    dx[base + c] = (gh - a - xhat * b) * inv;
    ${withGxhat ? 'gxhat[base + c] = gs[base + c] * xhat;' : ''}
  }
}`;
}

/**
 * Softmax over each row, one thread per row (P0 rows, P1 cols): the row's maximum (NaN if any element
 * is), then Σ exp(x − m) in ascending column, then exp(x − m) / Σ (exp recomputed: cheaper than a
 * second buffer). Float32 throughout; the CPU backends' float64 agrees to float32 rounding.
 */
export const softmaxSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${entry}
  let rows = P(0u); let cols = P(1u);
  if (i >= rows) { return; }
  let base = i * cols;
  var mx = negInf();
  for (var c = 0u; c < cols; c++) {
    let v = xs[base + c];
    if (v > mx || isNan(v)) { mx = v; }
  }
  var sum = 0.0;
  for (var c = 0u; c < cols; c++) { sum += exp(xs[base + c] - mx); }
  for (var c = 0u; c < cols; c++) { out[base + c] = exp(xs[base + c] - mx) / sum; }
}`;

/** The softmax's backward, one thread per row (P0 rows, P1 cols): out = y·(dy − Σ dy·y), Σ in ascending column. */
export const softmaxBackwardSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> ys: array<f32>;
@group(0) @binding(2) var<storage, read> dys: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${entry}
  let rows = P(0u); let cols = P(1u);
  if (i >= rows) { return; }
  let base = i * cols;
  var s = 0.0;
  for (var c = 0u; c < cols; c++) { s += dys[base + c] * ys[base + c]; }
  for (var c = 0u; c < cols; c++) { out[base + c] = ys[base + c] * (dys[base + c] - s); }
}`;

/**
 * The fused attention's sizes and index helpers (P0 blocks N·H, P1 T, P2 S, P3 H, P4 D, P5 Dv, P6
 * scale): element (t or s, d) of block (n, h) at xb + l·xStride + d, q, k and v each in [N, L, H, D]
 * or, packed, all in one qkv [N, L, 3, H, D] (Backend's attentionLayout, the CPU backends' too).
 */
function attentionLets(packed: boolean): string {
  const strides = packed
    ? 'let qStride = 3u * H * D; let kStride = qStride; let vStride = qStride;'
    : 'let qStride = H * D; let kStride = H * D; let vStride = H * DV;';
  const offsets = packed
    ? 'let kOffset = H * D; let vOffset = 2u * H * D;'
    : 'let kOffset = 0u; let vOffset = 0u;';
  return /* wgsl */ `
  if (i >= P(0u)) { return; }
  let T = P(1u); let S = P(2u); let H = P(3u); let D = P(4u); let DV = P(5u); let scale = PF(6u);
  let n = i / H; let h = i % H;
  let pb = i * T * S;
  ${strides}
  ${offsets}
  let qb = n * T * qStride + h * D; let kb = kOffset + n * S * kStride + h * D;
  let vb = vOffset + n * S * vStride + h * DV;
  // dOut and the output are [N, T, H, Dv] either way.
  let gb = (n * T * H + h) * DV; let gStride = H * DV;`;
}

/**
 * The arrays q, k and v (and dq, dk, dv) are read from (written to): three bindings each, or, packed,
 * one (qkv, dqkv): WebGPU refuses a writable binding that overlaps another, so dqkv cannot be bound
 * three times.
 */
function attentionArrays(packed: boolean): {
  q: string;
  k: string;
  v: string;
  dq: string;
  dk: string;
  dv: string;
} {
  return packed
    ? { q: 'qkv', k: 'qkv', v: 'qkv', dq: 'dqkv', dk: 'dqkv', dv: 'dqkv' }
    : { q: 'q', k: 'k', v: 'v', dq: 'dq', dk: 'dk', dv: 'dv' };
}

/**
 * Fused attention, one thread per (n, h) block (Backend.attention): per query row the scores (staged in
 * probs), their softmax in place (maximum, then Σ exp in ascending key, then the quotient), then
 * out = probs·v. Float32 throughout; the CPU backends' order of sums, to float32 rounding. Bindings:
 * q, k, v (packed: qkv), out, probs.
 */
export function attentionSource(packed: boolean): string {
  const { q, k, v } = attentionArrays(packed);
  const inputs = packed
    ? '@group(0) @binding(1) var<storage, read> qkv: array<f32>;'
    : `@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;`;
  const o = packed ? 2 : 4;
  return `${header}${linearIndex}
${inputs}
@group(0) @binding(${o}) var<storage, read_write> out: array<f32>;
@group(0) @binding(${o + 1}) var<storage, read_write> probs: array<f32>;
${entry}${attentionLets(packed)}
  for (var t = 0u; t < T; t++) {
    let row = pb + t * S;
    var mx = negInf();
    for (var s = 0u; s < S; s++) {
      var acc = 0.0;
      for (var d = 0u; d < D; d++) { acc += ${q}[qb + t * qStride + d] * ${k}[kb + s * kStride + d]; }
      let score = acc * scale;
      probs[row + s] = score;
      if (score > mx || isNan(score)) { mx = score; }
    }
    var sum = 0.0;
    for (var s = 0u; s < S; s++) { let e = exp(probs[row + s] - mx); probs[row + s] = e; sum += e; }
    for (var s = 0u; s < S; s++) { probs[row + s] = probs[row + s] / sum; }
    for (var e = 0u; e < DV; e++) {
      var acc = 0.0;
      for (var s = 0u; s < S; s++) { acc += probs[row + s] * ${v}[vb + s * vStride + e]; }
      out[gb + t * gStride + e] = acc;
    }
  }
}`;
}

/**
 * attention's backward, one thread per (n, h) block (Backend.attentionBackward): dk and dv start at 0;
 * per query row r = Σ_s dP_s·probs_s, then dS = probs·(dP − r)·scale (dP recomputed: no scratch
 * buffer), accumulated into dq's row and into dk and dv (the block's own rows, so no other thread
 * writes them). Float32 throughout. Bindings: g, q, k, v (packed: qkv), probs, dq, dk, dv (packed: dqkv).
 */
export function attentionBackwardSource(packed: boolean): string {
  const { q, k, v, dq, dk, dv } = attentionArrays(packed);
  const inputs = packed
    ? '@group(0) @binding(2) var<storage, read> qkv: array<f32>;'
    : `@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;`;
  const p = packed ? 3 : 5;
  const outputs = packed
    ? `@group(0) @binding(${p + 1}) var<storage, read_write> dqkv: array<f32>;`
    : `@group(0) @binding(${p + 1}) var<storage, read_write> dq: array<f32>;
@group(0) @binding(${p + 2}) var<storage, read_write> dk: array<f32>;
@group(0) @binding(${p + 3}) var<storage, read_write> dv: array<f32>;`;
  return `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> g: array<f32>;
${inputs}
@group(0) @binding(${p}) var<storage, read> probs: array<f32>;
${outputs}
${entry}${attentionLets(packed)}
  for (var s = 0u; s < S; s++) {
    for (var d = 0u; d < D; d++) { ${dk}[kb + s * kStride + d] = 0.0; }
    for (var e = 0u; e < DV; e++) { ${dv}[vb + s * vStride + e] = 0.0; }
  }
  for (var t = 0u; t < T; t++) {
    let row = pb + t * S;
    var r = 0.0;
    for (var s = 0u; s < S; s++) {
      var dp = 0.0;
      for (var e = 0u; e < DV; e++) { dp += g[gb + t * gStride + e] * ${v}[vb + s * vStride + e]; }
      r += dp * probs[row + s];
    }
    for (var d = 0u; d < D; d++) { ${dq}[qb + t * qStride + d] = 0.0; }
    for (var s = 0u; s < S; s++) {
      var dp = 0.0;
      for (var e = 0u; e < DV; e++) { dp += g[gb + t * gStride + e] * ${v}[vb + s * vStride + e]; }
      let y = probs[row + s];
      let ds = y * (dp - r) * scale;
      for (var d = 0u; d < D; d++) {
        ${dq}[qb + t * qStride + d] += ds * ${k}[kb + s * kStride + d];
        ${dk}[kb + s * kStride + d] += ds * ${q}[qb + t * qStride + d];
      }
      for (var e = 0u; e < DV; e++) { ${dv}[vb + s * vStride + e] += y * g[gb + t * gStride + e]; }
    }
  }
}`;
}

/** SGD: P0 size, P1 lr, P2 momentum, P3 weight decay (floats); velocity variant updates v. */
export function sgdSource(withVelocity: boolean): string {
  return `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> w: array<f32>;
${withVelocity ? '@group(0) @binding(3) var<storage, read_write> v: array<f32>;' : ''}
${entry}
  if (i >= P(0u)) { return; }
  var d = g[i] + PF(3u) * w[i];
  ${withVelocity ? 'd = PF(2u) * v[i] + d; v[i] = d;' : ''}
  w[i] = w[i] - PF(1u) * d;
}`;
}

/** The im2col geometry words 0…11 (Im2colGeometry's order) as named lets. */
const geometryLets = /* wgsl */ `
  let batch = P(0u); let channels = P(1u); let height = P(2u); let width = P(3u);
  let kernelH = P(4u); let kernelW = P(5u); let strideH = P(6u); let strideW = P(7u);
  let padH = P(8u); let padW = P(9u); let outH = P(10u); let outW = P(11u);`;

/** im2col: one thread per column entry; geometry at words 0…11, padValue (f32) at 12, entries at 13. */
export const im2colSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${entry}
  if (i >= P(13u)) { return; }
  ${geometryLets}
  let kw = i % kernelW; var r = i / kernelW;
  let kh = r % kernelH; r = r / kernelH;
  let c = r % channels; r = r / channels;
  let ow = r % outW; r = r / outW;
  let oh = r % outH; let n = r / outH;
  // Unsigned wrap-around makes a position left of or above the image compare as outside too.
  let h = oh * strideH + kh - padH;
  let w = ow * strideW + kw - padW;
  if (oh * strideH + kh < padH || ow * strideW + kw < padW || h >= height || w >= width) {
    out[i] = PF(12u);
  } else {
    out[i] = xs[((n * channels + c) * height + h) * width + w];
  }
}`;

/** col2im: one thread per image element, gathering its taps in (kh, kw) order; geometry at 0…11, elements at 13. */
export const col2imSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> cols: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${entry}
  if (i >= P(13u)) { return; }
  ${geometryLets}
  let w = i % width; var r = i / width;
  let h = r % height; r = r / height;
  let c = r % channels; let n = r / channels;
  let patchSize = channels * kernelH * kernelW;
  var acc = 0.0;
  for (var kh = 0u; kh < kernelH; kh++) {
    if (h + padH < kh) { continue; }
    let th = h + padH - kh;
    if (th % strideH != 0u || th / strideH >= outH) { continue; }
    for (var kw = 0u; kw < kernelW; kw++) {
      if (w + padW < kw) { continue; }
      let tw = w + padW - kw;
      if (tw % strideW != 0u || tw / strideW >= outW) { continue; }
      let row = (n * outH + th / strideH) * outW + tw / strideW;
      acc += cols[row * patchSize + (c * kernelH + kh) * kernelW + kw];
    }
  }
  out[i] = acc;
}`;

/**
 * Max pooling: one thread per output (plane, oh, ow) scanning its window clipped to the image in
 * (kh, kw) order, PyTorch's test (greater, or NaN); geometry at words 0…11, outputs at 13.
 */
export const maxPool2dSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> indices: array<f32>;
${entry}
  if (i >= P(13u)) { return; }
  ${geometryLets}
  let ow = i % outW; var r = i / outW;
  let oh = r % outH; let plane = r / outH;
  // Signed, so a window starting in the padding clips to 0.
  let hs = i32(oh * strideH) - i32(padH);
  let ws = i32(ow * strideW) - i32(padW);
  let h0 = u32(max(hs, 0)); let h1 = u32(min(hs + i32(kernelH), i32(height)));
  let w0 = u32(max(ws, 0)); let w1 = u32(min(ws + i32(kernelW), i32(width)));
  let base = plane * height * width;
  var best = negInf();
  var at = h0 * width + w0;
  for (var h = h0; h < h1; h++) {
    for (var w = w0; w < w1; w++) {
      let v = xs[base + h * width + w];
      if (v > best || isNan(v)) { best = v; at = h * width + w; }
    }
  }
  out[i] = best;
  indices[i] = f32(at);
}`;

/**
 * Max pooling's adjoint: one thread per input element (plane, h, w) adding, in float32, the dy of
 * every window holding it whose index is (h, w), in ascending (oh, ow): the CPU backends' scatter
 * order. Geometry at words 0…11, input elements at 13.
 */
export const maxPool2dBackwardSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> indices: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
${entry}
  if (i >= P(13u)) { return; }
  ${geometryLets}
  let w = i % width; var r = i / width;
  let h = r % height; let plane = r / height;
  let me = f32(h * width + w);
  // Windows (oh, ow) with oh·sh − ph ≤ h < oh·sh − ph + kh: oh from ⌈(h + ph − kh + 1)/sh⌉ to ⌊(h + ph)/sh⌋.
  let hp = i32(h + padH); let wp = i32(w + padW);
  let oh0 = u32(max((hp - i32(kernelH) + i32(strideH)) / i32(strideH), 0));
  let oh1 = min(u32(hp) / strideH + 1u, outH);
  let ow0 = u32(max((wp - i32(kernelW) + i32(strideW)) / i32(strideW), 0));
  let ow1 = min(u32(wp) / strideW + 1u, outW);
  var acc = 0.0;
  for (var oh = oh0; oh < oh1; oh++) {
    for (var ow = ow0; ow < ow1; ow++) {
      let j = (plane * outH + oh) * outW + ow;
      if (indices[j] == me) { acc += dy[j]; }
    }
  }
  dx[i] = acc;
}`;

/**
 * Direct convolution: one thread per output (n, oc, oh, ow) summing the taps (c, kh, kw) ascending in
 * float32 from 0 (0 in the padding), then + bias and ReLU (!(v > 0) → 0) by the flags at word 14 (1
 * bias, 2 relu). Geometry at words 0…11, out channels at 12, outputs at 13.
 */
export const directConv2dSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> ws: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
${entry}
  if (i >= P(13u)) { return; }
  ${geometryLets}
  let outC = P(12u); let flags = P(14u);
  let ow = i % outW; var r = i / outW;
  let oh = r % outH; r = r / outH;
  let oc = r % outC; let n = r / outC;
  let taps = channels * kernelH * kernelW;
  var acc = 0.0;
  var t = 0u;
  for (var c = 0u; c < channels; c++) {
    for (var kh = 0u; kh < kernelH; kh++) {
      for (var kw = 0u; kw < kernelW; kw++) {
        // Unsigned wrap-around makes a position left of or above the image compare as outside too.
        let h = oh * strideH + kh - padH;
        let w = ow * strideW + kw - padW;
        var xv = 0.0;
        if (h < height && w < width) { xv = xs[((n * channels + c) * height + h) * width + w]; }
        acc = acc + xv * ws[oc * taps + t];
        t++;
      }
    }
  }
  var v = acc;
  if ((flags & 1u) != 0u) { v = v + bias[oc]; }
  if ((flags & 2u) != 0u && !(v > 0.0)) { v = 0.0; }
  out[i] = v;
}`;

/**
 * The direct convolution's weight gradient (word 14 bit 1 clear: one thread per weight (oc, c, kh, kw))
 * or bias gradient (bit 1 set: one thread per out channel), dy masked by ReLU's output (times
 * (out > 0 ? 1 : 0)) where bit 2 is set, in the CPU backends' order: per image four
 * float32 lane sums by ow mod 4 over (oh, ow) ascending, combined (s0 + s1) + (s2 + s3); the images
 * are summed in float32 (WGSL has no float64). Geometry at words 0…11, out channels at 12, outputs at 13.
 */
export const directConv2dWeightGradSource = `${header}${linearIndex}
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> reluOut: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
${entry}
  if (i >= P(13u)) { return; }
  ${geometryLets}
  let outC = P(12u); let isBias = (P(14u) & 1u) != 0u; let masked = (P(14u) & 2u) != 0u;
  let taps = channels * kernelH * kernelW;
  var oc = i; var kw = 0u; var kh = 0u; var c = 0u;
  if (!isBias) {
    oc = i / taps; let t = i % taps;
    kw = t % kernelW; kh = (t / kernelW) % kernelH; c = t / (kernelW * kernelH);
  }
  var total = 0.0;
  for (var n = 0u; n < batch; n++) {
    var s = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
    for (var oh = 0u; oh < outH; oh++) {
      for (var ow = 0u; ow < outW; ow++) {
        let j = ((n * outC + oc) * outH + oh) * outW + ow;
        var term = dy[j];
        if (masked) { term = term * select(0.0, 1.0, reluOut[j] > 0.0); }
        if (!isBias) {
          let h = oh * strideH + kh - padH;
          let w = ow * strideW + kw - padW;
          var xv = 0.0;
          if (h < height && w < width) { xv = xs[((n * channels + c) * height + h) * width + w]; }
          term = term * xv;
        }
        s[ow & 3u] = s[ow & 3u] + term;
      }
    }
    total = total + ((s[0] + s[1]) + (s[2] + s[3]));
  }
  out[i] = total;
}`;
