/**
 * The reference backend: plain TypeScript loops over typed arrays. It is the oracle every faster
 * backend is tested against, so it favours obviously-correct code over speed (apart from loop order
 * in matmul, which costs nothing in clarity). Constructed with Float64Array it is the float64 path the
 * gradient checks use.
 */
import {
  attentionLayout,
  type AttentionShape,
  type Backend,
  type BinaryOp,
  type Im2colGeometry,
  type MatmulEpilogue,
  type MemoryInfo,
  type RandomDist,
  type RandomStream,
  type ReduceOp,
  type SgdParams,
  type StorageId,
  type UnaryOp,
} from './backend.js';
import { fillNormal, fillUniform } from '../random/philox.js';
import { copyStridedArrays, gatherArrays, scatterAddArrays } from './indexing.js';
import { conv2dUnfoldedBackwardComposed, conv2dUnfoldedComposed } from './conv-unfolded.js';
import { FLOAT32, FLOAT64, geluGrad, geluValue, type Precision } from './gelu-math.js';

type FloatArray = Float32Array | Float64Array;
type FloatArrayCtor = Float32ArrayConstructor | Float64ArrayConstructor;

// `p` is the storage precision's arithmetic: only the fused GELU, whose steps the composition would
// store one by one, and the direct convolution, whose float32 sums the wasm SIMD lanes keep, round
// intermediates; every other op rounds once, when its result is stored.
const unaryFns: Record<UnaryOp, (x: number, p: Precision) => number> = {
  copy: (x) => x,
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  tanh: Math.tanh,
  gelu: geluValue,
};

const binaryFns: Record<BinaryOp, (a: number, b: number, p: Precision) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  // Math.max/min propagate NaN, as torch.maximum/minimum do.
  maximum: (a, b) => Math.max(a, b),
  minimum: (a, b) => Math.min(a, b),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  eq: (a, b) => (a === b ? 1 : 0),
  geluBackward: geluGrad,
};

/** Row-major contiguous element strides of a shape. */
function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return strides;
}

function sameStrides(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Calls visit(outIndex, offsets) for every element of outShape in row-major order, where offsets[j]
 * is the element offset into input j given its strides. The odometer walk keeps it O(1) per element.
 */
function forEachStrided(
  outShape: readonly number[],
  inputStrides: readonly (readonly number[])[],
  visit: (i: number, offsets: Int32Array) => void,
): void {
  const rank = outShape.length;
  const size = outShape.reduce((a, b) => a * b, 1);
  const offsets = new Int32Array(inputStrides.length);
  const idx = new Int32Array(rank);
  for (let i = 0; i < size; i++) {
    visit(i, offsets);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      for (let j = 0; j < inputStrides.length; j++) offsets[j]! += inputStrides[j]![d]!;
      if (idx[d]! < outShape[d]!) break;
      for (let j = 0; j < inputStrides.length; j++) offsets[j]! -= inputStrides[j]![d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
}

/** C[m×n] = op(A)·op(B) over plain arrays (the body of matmul and of each batchMatmul item). */
function product(
  A: FloatArray,
  B: FloatArray,
  C: FloatArray,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): void {
  C.fill(0, 0, m * n);
  // Loop orders keep the innermost loop on contiguous memory for each transpose combination.
  if (!transB) {
    for (let i = 0; i < m; i++) {
      const cRow = i * n;
      for (let p = 0; p < k; p++) {
        const av = transA ? A[p * m + i]! : A[i * k + p]!;
        if (av === 0) continue;
        const bRow = p * n;
        for (let j = 0; j < n; j++) C[cRow + j]! += av * B[bRow + j]!;
      }
    }
  } else {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        const bRow = j * k;
        if (transA) for (let p = 0; p < k; p++) acc += A[p * m + i]! * B[bRow + p]!;
        else {
          const aRow = i * k;
          for (let p = 0; p < k; p++) acc += A[aRow + p]! * B[bRow + p]!;
        }
        C[i * n + j] = acc;
      }
    }
  }
}

/** The input under tap t = (c, kh, kw) of output position (oh, ow) of image n, or 0 in the padding. */
function tapValue(xs: FloatArray, g: Im2colGeometry, n: number, t: number, oh: number, ow: number): number {
  const kw = t % g.kernelW;
  const kh = Math.floor(t / g.kernelW) % g.kernelH;
  const c = Math.floor(t / (g.kernelW * g.kernelH));
  const h = oh * g.strideH - g.padH + kh;
  const w = ow * g.strideW - g.padW + kw;
  if (h < 0 || h >= g.height || w < 0 || w >= g.width) return 0;
  return xs[((n * g.channels + c) * g.height + h) * g.width + w]!;
}

/**
 * One row of the fused softmax (Backend.softmax), x[xi …] → o[oi …], in the storage precision `p`: the
 * maximum as the max reduction takes it (NaN propagates; its sign at ±0 cannot matter); e = exp(x − max)
 * (float32: x − max rounded, then expF32, as the wasm kernel's SIMD exp; float64: Math.exp), summed in
 * float64 in ascending column order; e / sum rounded once on the store. e is computed twice (the same
 * call gives the same value). Shared by softmax and attention, so both take the same steps.
 */
function softmaxRow(
  x: ArrayLike<number>,
  xi: number,
  o: FloatArray,
  oi: number,
  cols: number,
  p: Precision,
): void {
  let max = -Infinity;
  for (let c = 0; c < cols; c++) {
    const v = x[xi + c]!;
    if (v > max || Number.isNaN(v)) max = v;
  }
  let sum = 0;
  for (let c = 0; c < cols; c++) sum += p.exp(p.round(x[xi + c]! - max));
  for (let c = 0; c < cols; c++) o[oi + c] = p.exp(p.round(x[xi + c]! - max)) / sum;
}

/** Plain TypeScript backend over Float32Array (or Float64Array for gradient checks); see file comment. */
export class ReferenceBackend implements Backend {
  readonly name: string;
  readonly syncRead = true;
  private readonly store = new Map<StorageId, FloatArray>();
  private nextId = 1;
  private bytes = 0;

  /** The storage precision's arithmetic for the fused GELU, the softmax's exp and the direct convolution (see unaryFns). */
  private readonly precision: Precision;

  constructor(private readonly ArrayType: FloatArrayCtor = Float32Array) {
    this.name = ArrayType === Float64Array ? 'js64' : 'js';
    this.precision = ArrayType === Float64Array ? FLOAT64 : FLOAT32;
  }

  /** The typed array behind a storage id (reference backend only; used by tests and data loading). */
  view(id: StorageId): FloatArray {
    const a = this.store.get(id);
    if (a === undefined) throw new Error(`${this.name} backend: storage ${id} was freed or never allocated`);
    return a;
  }

  alloc(size: number, _zeroed = true): StorageId {
    const id = this.nextId++;
    const a = new this.ArrayType(size);
    this.store.set(id, a);
    this.bytes += a.byteLength;
    return id;
  }

  free(id: StorageId): void {
    const a = this.store.get(id);
    if (a === undefined) return;
    this.bytes -= a.byteLength;
    this.store.delete(id);
  }

  write(id: StorageId, data: ArrayLike<number>, offset = 0): void {
    this.view(id).set(data, offset);
  }

  readSync(id: StorageId, size: number): Float32Array {
    return Float32Array.from(this.view(id).subarray(0, size));
  }

  read(id: StorageId, size: number): Promise<Float32Array> {
    return Promise.resolve(this.readSync(id, size));
  }

  memory(): MemoryInfo {
    return { buffers: this.store.size, bytes: this.bytes };
  }

  fill(out: StorageId, size: number, value: number): void {
    this.view(out).fill(value, 0, size);
  }

  unary(
    op: UnaryOp,
    x: StorageId,
    xStrides: readonly number[],
    out: StorageId,
    outShape: readonly number[],
  ): void {
    const fr = unaryFns[op];
    const p = this.precision;
    const f = (v: number): number => fr(v, p);
    const xs = this.view(x);
    const o = this.view(out);
    if (sameStrides(xStrides, contiguousStrides(outShape))) {
      for (let i = 0; i < o.length; i++) o[i] = f(xs[i]!);
      return;
    }
    forEachStrided(outShape, [xStrides], (i, off) => {
      o[i] = f(xs[off[0]!]!);
    });
  }

  binary(
    op: BinaryOp,
    a: StorageId,
    aStrides: readonly number[],
    b: StorageId,
    bStrides: readonly number[],
    out: StorageId,
    outShape: readonly number[],
  ): void {
    const fr = binaryFns[op];
    const p = this.precision;
    const f = (a: number, b: number): number => fr(a, b, p);
    const as = this.view(a);
    const bs = this.view(b);
    const o = this.view(out);
    const contiguous = contiguousStrides(outShape);
    const size = outShape.reduce((p, q) => p * q, 1);
    if (sameStrides(aStrides, contiguous) && sameStrides(bStrides, contiguous)) {
      for (let i = 0; i < size; i++) o[i] = f(as[i]!, bs[i]!);
      return;
    }
    if (sameStrides(aStrides, contiguous) && bStrides.every((s) => s === 0)) {
      const bv = bs[0]!;
      for (let i = 0; i < size; i++) o[i] = f(as[i]!, bv);
      return;
    }
    forEachStrided(outShape, [aStrides, bStrides], (i, off) => {
      o[i] = f(as[off[0]!]!, bs[off[1]!]!);
    });
  }

  where(
    cond: StorageId,
    condStrides: readonly number[],
    a: StorageId,
    aStrides: readonly number[],
    b: StorageId,
    bStrides: readonly number[],
    out: StorageId,
    outShape: readonly number[],
  ): void {
    const cs = this.view(cond);
    const as = this.view(a);
    const bs = this.view(b);
    const o = this.view(out);
    forEachStrided(outShape, [condStrides, aStrides, bStrides], (i, off) => {
      o[i] = cs[off[0]!] !== 0 ? as[off[1]!]! : bs[off[2]!]!;
    });
  }

  reduce(op: ReduceOp, x: StorageId, outer: number, reduce: number, inner: number, out: StorageId): void {
    const xs = this.view(x);
    const o = this.view(out);
    for (let i = 0; i < outer; i++) {
      for (let k = 0; k < inner; k++) {
        const base = i * reduce * inner + k;
        let acc = op === 'sum' ? 0 : -Infinity;
        for (let r = 0; r < reduce; r++) {
          const v = xs[base + r * inner]!;
          // max propagates NaN, like torch.max.
          acc = op === 'sum' ? acc + v : v > acc || Number.isNaN(v) ? v : acc;
        }
        o[i * inner + k] = acc;
      }
    }
  }

  matmul(
    a: StorageId,
    b: StorageId,
    out: StorageId,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    epilogue?: MatmulEpilogue,
  ): void {
    const C = this.view(out);
    product(this.view(a), this.view(b), C, m, n, k, transA, transB);
    if (epilogue !== undefined) {
      const bias = epilogue.bias >= 0 ? this.view(epilogue.bias) : undefined;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let v = C[i * n + j]!;
          if (bias !== undefined) v += bias[j]!;
          // Round to storage precision before the ReLU so fused and composed paths agree exactly.
          C[i * n + j] = v;
          if (epilogue.relu && !(C[i * n + j]! > 0)) C[i * n + j] = 0;
        }
      }
    }
  }

  batchMatmul(
    a: StorageId,
    b: StorageId,
    out: StorageId,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
  ): void {
    const A = this.view(a);
    const B = this.view(b);
    const C = this.view(out);
    for (let t = 0; t < batch; t++) {
      product(
        A.subarray(t * m * k, (t + 1) * m * k),
        B.subarray(t * k * n, (t + 1) * k * n),
        C.subarray(t * m * n, (t + 1) * m * n),
        m,
        n,
        k,
        transA,
        transB,
      );
    }
  }

  argmax(x: StorageId, rows: number, cols: number, out: StorageId): void {
    const xs = this.view(x);
    const o = this.view(out);
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let c = 1; c < cols; c++) if (xs[r * cols + c]! > xs[r * cols + best]!) best = c;
      o[r] = best;
    }
  }

  im2col(x: StorageId, out: StorageId, geom: Im2colGeometry, padValue: number): void {
    const xs = this.view(x);
    const o = this.view(out);
    const { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW } =
      geom;
    let i = 0;
    for (let n = 0; n < batch; n++)
      for (let oh = 0; oh < outH; oh++)
        for (let ow = 0; ow < outW; ow++)
          for (let c = 0; c < channels; c++)
            for (let kh = 0; kh < kernelH; kh++)
              for (let kw = 0; kw < kernelW; kw++) {
                const h = oh * strideH - padH + kh;
                const w = ow * strideW - padW + kw;
                const inside = h >= 0 && h < height && w >= 0 && w < width;
                o[i++] = inside ? xs[((n * channels + c) * height + h) * width + w]! : padValue;
              }
  }

  col2im(cols: StorageId, out: StorageId, geom: Im2colGeometry): void {
    const cs = this.view(cols);
    const o = this.view(out);
    const { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW } =
      geom;
    const patch = channels * kernelH * kernelW;
    let i = 0;
    for (let n = 0; n < batch; n++)
      for (let c = 0; c < channels; c++)
        for (let h = 0; h < height; h++)
          for (let w = 0; w < width; w++) {
            let acc = 0;
            for (let kh = 0; kh < kernelH; kh++) {
              const th = h + padH - kh;
              if (th < 0 || th % strideH !== 0 || th / strideH >= outH) continue;
              for (let kw = 0; kw < kernelW; kw++) {
                const tw = w + padW - kw;
                if (tw < 0 || tw % strideW !== 0 || tw / strideW >= outW) continue;
                const row = (n * outH + th / strideH) * outW + tw / strideW;
                acc += cs[row * patch + (c * kernelH + kh) * kernelW + kw]!;
              }
            }
            o[i++] = acc;
          }
  }

  maxPool2d(x: StorageId, geom: Im2colGeometry, out: StorageId, indices: StorageId): void {
    const xs = this.view(x);
    const o = this.view(out);
    const idx = this.view(indices);
    const { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW } =
      geom;
    let i = 0;
    for (let plane = 0; plane < batch * channels; plane++) {
      const base = plane * height * width;
      for (let oh = 0; oh < outH; oh++) {
        // The window clipped to the image: padding is −∞, which never beats an in-image tap.
        const h0 = Math.max(oh * strideH - padH, 0);
        const h1 = Math.min(oh * strideH - padH + kernelH, height);
        for (let ow = 0; ow < outW; ow++) {
          const w0 = Math.max(ow * strideW - padW, 0);
          const w1 = Math.min(ow * strideW - padW + kernelW, width);
          let best = -Infinity;
          let at = h0 * width + w0;
          for (let h = h0; h < h1; h++)
            for (let w = w0; w < w1; w++) {
              const v = xs[base + h * width + w]!;
              // PyTorch's test: strictly greater (the first maximum wins ties) or NaN.
              if (v > best || Number.isNaN(v)) {
                best = v;
                at = h * width + w;
              }
            }
          o[i] = best;
          idx[i++] = at;
        }
      }
    }
  }

  maxPool2dBackward(dy: StorageId, indices: StorageId, geom: Im2colGeometry, dx: StorageId): void {
    const g = this.view(dy);
    const idx = this.view(indices);
    const o = this.view(dx);
    const planeIn = geom.height * geom.width;
    const planeOut = geom.outH * geom.outW;
    const planes = geom.batch * geom.channels;
    o.fill(0, 0, planes * planeIn);
    // Ascending output position; each += rounds to the storage's precision, as the other backends do.
    for (let plane = 0; plane < planes; plane++)
      for (let j = 0; j < planeOut; j++) {
        const at = plane * planeIn + idx[plane * planeOut + j]!;
        o[at] = o[at]! + g[plane * planeOut + j]!;
      }
  }

  conv2d(
    x: StorageId,
    weight: StorageId,
    bias: StorageId,
    geom: Im2colGeometry,
    outChannels: number,
    relu: boolean,
    out: StorageId,
  ): void {
    const xs = this.view(x);
    const ws = this.view(weight);
    const bs = bias >= 0 ? this.view(bias) : undefined;
    const o = this.view(out);
    const round = this.precision.round;
    const { batch, channels, kernelH, kernelW, outH, outW } = geom;
    const patch = channels * kernelH * kernelW;
    let i = 0;
    for (let n = 0; n < batch; n++)
      for (let oc = 0; oc < outChannels; oc++)
        for (let oh = 0; oh < outH; oh++)
          for (let ow = 0; ow < outW; ow++) {
            // Taps in (c, kh, kw) order, each product and each sum rounded to the storage precision.
            let acc = 0;
            for (let t = 0; t < patch; t++) {
              acc = round(acc + round(tapValue(xs, geom, n, t, oh, ow) * ws[oc * patch + t]!));
            }
            let v = bs === undefined ? acc : round(acc + bs[oc]!);
            if (relu && !(v > 0)) v = 0;
            o[i++] = v;
          }
  }

  conv2dWeightGrad(
    x: StorageId,
    dy: StorageId,
    geom: Im2colGeometry,
    outChannels: number,
    dweight: StorageId,
    dbias: StorageId,
    reluOut: StorageId,
  ): void {
    const xs = this.view(x);
    const g = this.view(dy);
    const masks = reluOut >= 0 ? this.view(reluOut) : undefined;
    const dw = this.view(dweight);
    const db = dbias >= 0 ? this.view(dbias) : undefined;
    const round = this.precision.round;
    const { batch, channels, kernelH, kernelW, outH, outW } = geom;
    const patch = channels * kernelH * kernelW;
    /** One image's sum of `term(oh, ow)`: four lane sums by ow mod 4, then (s0 + s1) + (s2 + s3). */
    const imageSum = (term: (oh: number, ow: number) => number): number => {
      const s = [0, 0, 0, 0];
      for (let oh = 0; oh < outH; oh++)
        for (let ow = 0; ow < outW; ow++) s[ow & 3] = round(s[ow & 3]! + round(term(oh, ow)));
      return round(round(s[0]! + s[1]!) + round(s[2]! + s[3]!));
    };
    for (let oc = 0; oc < outChannels; oc++) {
      // dy, times ReLU's mask (out > 0 ? 1 : 0) when given: the composition's product exactly.
      const plane = (n: number, oh: number, ow: number): number => {
        const i = ((n * outChannels + oc) * outH + oh) * outW + ow;
        return masks === undefined ? g[i]! : g[i]! * (masks[i]! > 0 ? 1 : 0);
      };
      for (let t = 0; t < patch; t++) {
        // Images summed in float64 (a JS number), rounded once at the store.
        let acc = 0;
        for (let n = 0; n < batch; n++)
          acc += imageSum((oh, ow) => plane(n, oh, ow) * tapValue(xs, geom, n, t, oh, ow));
        dw[oc * patch + t] = acc;
      }
      if (db !== undefined) {
        let acc = 0;
        for (let n = 0; n < batch; n++) acc += imageSum((oh, ow) => plane(n, oh, ow));
        db[oc] = acc;
      }
    }
  }

  conv2dUnfolded(
    x: StorageId,
    weight: StorageId,
    bias: StorageId,
    geom: Im2colGeometry,
    outChannels: number,
    relu: boolean,
    out: StorageId,
  ): void {
    conv2dUnfoldedComposed(this, x, weight, bias, geom, outChannels, relu, out);
  }

  conv2dUnfoldedBackward(
    x: StorageId,
    dy: StorageId,
    weight: StorageId,
    geom: Im2colGeometry,
    outChannels: number,
    dx: StorageId,
    dweight: StorageId,
  ): void {
    conv2dUnfoldedBackwardComposed(this, x, dy, weight, geom, outChannels, dx, dweight);
  }

  random(dist: RandomDist, stream: RandomStream, out: StorageId, size: number): void {
    const o = this.view(out).subarray(0, size);
    if (dist === 'uniform') fillUniform(stream.key, stream.offset, o);
    else fillNormal(stream.key, stream.offset, o);
  }

  dropout(x: StorageId, stream: RandomStream, p: number, out: StorageId, size: number): void {
    const xs = this.view(x);
    const o = this.view(out);
    const u = new this.ArrayType(size);
    fillUniform(stream.key, stream.offset, u);
    // The scale is rounded to storage precision, exactly as the composed path's scalar tensor is.
    const scale = new this.ArrayType([1 / (1 - p)])[0]!;
    for (let i = 0; i < size; i++) o[i] = u[i]! >= p ? xs[i]! * scale : 0;
  }

  softmaxCrossEntropy(
    logits: StorageId,
    labels: StorageId,
    rows: number,
    cols: number,
    losses: StorageId,
    grad: StorageId,
  ): void {
    const z = this.view(logits);
    const y = this.view(labels);
    const l = this.view(losses);
    const g = this.view(grad);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      let max = -Infinity;
      for (let c = 0; c < cols; c++) max = Math.max(max, z[base + c]!);
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += Math.exp(z[base + c]! - max);
      const label = y[r]!;
      l[r] = max + Math.log(sum) - z[base + label]!;
      for (let c = 0; c < cols; c++) g[base + c] = Math.exp(z[base + c]! - max) / sum - (c === label ? 1 : 0);
    }
  }

  layerNorm(
    x: StorageId,
    gamma: StorageId,
    beta: StorageId,
    rows: number,
    cols: number,
    eps: number,
    out: StorageId,
    mean: StorageId,
    rstd: StorageId,
  ): void {
    const xs = this.view(x);
    const gs = gamma >= 0 ? this.view(gamma) : undefined;
    const bs = beta >= 0 ? this.view(beta) : undefined;
    const o = this.view(out);
    const ms = this.view(mean);
    const rs = this.view(rstd);
    // The wasm kernel (assembly/normalization.ts) does exactly these float64 operations in this order.
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += xs[base + c]!;
      const mu = sum / cols;
      let sq = 0;
      for (let c = 0; c < cols; c++) {
        const d = xs[base + c]! - mu;
        sq += d * d;
      }
      const inv = 1 / Math.sqrt(sq / cols + eps);
      for (let c = 0; c < cols; c++) {
        let y = (xs[base + c]! - mu) * inv;
        if (gs !== undefined) y *= gs[c]!;
        if (bs !== undefined) y += bs[c]!;
        o[base + c] = y;
      }
      ms[r] = mu;
      rs[r] = inv;
    }
  }

  layerNormBackward(
    g: StorageId,
    x: StorageId,
    gamma: StorageId,
    mean: StorageId,
    rstd: StorageId,
    rows: number,
    cols: number,
    dx: StorageId,
    gxhat: StorageId,
  ): void {
    const gs = this.view(g);
    const xs = this.view(x);
    const ws = gamma >= 0 ? this.view(gamma) : undefined;
    const ms = this.view(mean);
    const rs = this.view(rstd);
    const d = this.view(dx);
    const gx = gxhat >= 0 ? this.view(gxhat) : undefined;
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      const mu = ms[r]!;
      const inv = rs[r]!;
      let s1 = 0;
      let s2 = 0;
      for (let c = 0; c < cols; c++) {
        const gh = ws !== undefined ? gs[base + c]! * ws[c]! : gs[base + c]!;
        s1 += gh;
        s2 += gh * ((xs[base + c]! - mu) * inv);
      }
      const a = s1 / cols;
      const b = s2 / cols;
      for (let c = 0; c < cols; c++) {
        const xhat = (xs[base + c]! - mu) * inv;
        const gh = ws !== undefined ? gs[base + c]! * ws[c]! : gs[base + c]!;
        d[base + c] = (gh - a - xhat * b) * inv;
        if (gx !== undefined) gx[base + c] = gs[base + c]! * xhat;
      }
    }
  }

  softmax(x: StorageId, rows: number, cols: number, out: StorageId): void {
    const xs = this.view(x);
    const o = this.view(out);
    for (let r = 0; r < rows; r++) softmaxRow(xs, r * cols, o, r * cols, cols, this.precision);
  }

  softmaxBackward(y: StorageId, dy: StorageId, rows: number, cols: number, out: StorageId): void {
    const ys = this.view(y);
    const gs = this.view(dy);
    const o = this.view(out);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      let s = 0;
      for (let c = 0; c < cols; c++) s += gs[base + c]! * ys[base + c]!;
      for (let c = 0; c < cols; c++) o[base + c] = ys[base + c]! * (gs[base + c]! - s);
    }
  }

  attention(
    q: StorageId,
    k: StorageId,
    v: StorageId,
    shape: AttentionShape,
    scale: number,
    out: StorageId,
    probs: StorageId,
  ): void {
    const [qs, ks, vs, o, ps] = [q, k, v, out, probs].map((id) => this.view(id)) as [
      FloatArray,
      FloatArray,
      FloatArray,
      FloatArray,
      FloatArray,
    ];
    const { batch, heads: H, queries: T, keys: S, dim: D, valueDim: DV } = shape;
    const L = attentionLayout(shape);
    const p = this.precision;
    const r = p.round;
    const sc = r(scale);
    // The score row before its softmax, each entry already rounded to the storage precision.
    const row = new Float64Array(S);
    for (let n = 0; n < batch; n++)
      for (let h = 0; h < H; h++) {
        const pb = (n * H + h) * T * S;
        for (let t = 0; t < T; t++) {
          const qi = L.q.offset + (n * T + t) * L.q.stride + h * D;
          // Each sum is one float32 accumulator from 0 in ascending index: the order of wasm's SIMD
          // lanes, each lane one score (or one output element).
          for (let s = 0; s < S; s++) {
            const ki = L.k.offset + (n * S + s) * L.k.stride + h * D;
            let acc = 0;
            for (let d = 0; d < D; d++) acc = r(acc + r(qs[qi + d]! * ks[ki + d]!));
            row[s] = r(acc * sc);
          }
          softmaxRow(row, 0, ps, pb + t * S, S, p);
          const oi = ((n * T + t) * H + h) * DV;
          for (let e = 0; e < DV; e++) {
            let acc = 0;
            for (let s = 0; s < S; s++)
              acc = r(acc + r(ps[pb + t * S + s]! * vs[L.v.offset + (n * S + s) * L.v.stride + h * DV + e]!));
            o[oi + e] = acc;
          }
        }
      }
  }

  attentionBackward(
    dOut: StorageId,
    q: StorageId,
    k: StorageId,
    v: StorageId,
    probs: StorageId,
    shape: AttentionShape,
    scale: number,
    dq: StorageId,
    dk: StorageId,
    dv: StorageId,
  ): void {
    const views = [dOut, q, k, v, probs, dq, dk, dv].map((id) => this.view(id)) as FloatArray[];
    const [gs, qs, ks, vs, ps, dqs, dks, dvs] = views as [
      FloatArray,
      FloatArray,
      FloatArray,
      FloatArray,
      FloatArray,
      FloatArray,
      FloatArray,
      FloatArray,
    ];
    const { batch, heads: H, queries: T, keys: S, dim: D, valueDim: DV } = shape;
    const r = this.precision.round;
    // q, k and v (and dq, dk, dv) where the layout puts them: three tensors, or one packed qkv.
    const L = attentionLayout(shape);
    const qAt = (n: number, t: number, h: number): number => L.q.offset + (n * T + t) * L.q.stride + h * D;
    const kAt = (n: number, s: number, h: number): number => L.k.offset + (n * S + s) * L.k.stride + h * D;
    const vAt = (n: number, s: number, h: number): number => L.v.offset + (n * S + s) * L.v.stride + h * DV;
    const gAt = (n: number, t: number, h: number): number => ((n * T + t) * H + h) * DV;
    // dS of one block [T, S], scale included, each entry rounded to the storage precision.
    const dS = new Float64Array(T * S);
    const dP = new Float64Array(S);
    for (let n = 0; n < batch; n++)
      for (let h = 0; h < H; h++) {
        const pb = (n * H + h) * T * S;
        for (let t = 0; t < T; t++) {
          const gi = gAt(n, t, h);
          for (let s = 0; s < S; s++) {
            const vi = vAt(n, s, h);
            let acc = 0;
            for (let e = 0; e < DV; e++) acc = r(acc + r(gs[gi + e]! * vs[vi + e]!));
            dP[s] = acc;
          }
          // The softmax's backward in float64 (products of float32 values exact), rounded once.
          let rowSum = 0;
          for (let s = 0; s < S; s++) rowSum += dP[s]! * ps[pb + t * S + s]!;
          for (let s = 0; s < S; s++) {
            const y = ps[pb + t * S + s]!;
            dS[t * S + s] = r(y * (dP[s]! - rowSum) * scale);
          }
        }
        for (let t = 0; t < T; t++) {
          const qi = qAt(n, t, h);
          for (let d = 0; d < D; d++) {
            let acc = 0;
            for (let s = 0; s < S; s++) acc = r(acc + r(dS[t * S + s]! * ks[kAt(n, s, h) + d]!));
            dqs[qi + d] = acc;
          }
        }
        for (let s = 0; s < S; s++) {
          const ki = kAt(n, s, h);
          for (let d = 0; d < D; d++) {
            let acc = 0;
            for (let t = 0; t < T; t++) acc = r(acc + r(dS[t * S + s]! * qs[qAt(n, t, h) + d]!));
            dks[ki + d] = acc;
          }
          const vi = vAt(n, s, h);
          for (let e = 0; e < DV; e++) {
            let acc = 0;
            for (let t = 0; t < T; t++) acc = r(acc + r(ps[pb + t * S + s]! * gs[gAt(n, t, h) + e]!));
            dvs[vi + e] = acc;
          }
        }
      }
  }

  sgdStep(param: StorageId, grad: StorageId, velocity: StorageId, size: number, params: SgdParams): void {
    const w = this.view(param);
    const g = this.view(grad);
    const v = velocity >= 0 ? this.view(velocity) : undefined;
    const { lr, momentum, weightDecay } = params;
    for (let i = 0; i < size; i++) {
      let d = g[i]! + weightDecay * w[i]!;
      if (v !== undefined) {
        d = momentum * v[i]! + d;
        v[i] = d;
      }
      w[i]! -= lr * d;
    }
  }

  // ---- views and indexing (src/backend/indexing.ts) ----
  copyStrided(
    x: StorageId,
    xOffset: number,
    xStrides: readonly number[],
    out: StorageId,
    outOffset: number,
    outStrides: readonly number[],
    shape: readonly number[],
  ): void {
    copyStridedArrays(this.view(x), xOffset, xStrides, this.view(out), outOffset, outStrides, shape);
  }

  gather(
    x: StorageId,
    xStrides: readonly number[],
    dim: number,
    index: StorageId,
    out: StorageId,
    outShape: readonly number[],
  ): void {
    gatherArrays(this.view(x), xStrides, dim, this.view(index), this.view(out), outShape);
  }

  scatterAdd(
    g: StorageId,
    index: StorageId,
    indexShape: readonly number[],
    dim: number,
    out: StorageId,
    outShape: readonly number[],
  ): void {
    scatterAddArrays(this.view(g), this.view(index), indexShape, dim, this.view(out), outShape);
  }
}
