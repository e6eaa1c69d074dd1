/**
 * The one narrow interface between the frontend (Tensor, autograd, nn) and a compute backend.
 *
 * A backend owns tensor storage: the frontend only ever holds a numeric storage id and a shape, so a
 * WebAssembly backend can keep data in its linear memory and a WebGPU backend in GPU buffers, with no
 * per-op copies. Every kernel takes ids of already-allocated storage; broadcasting and transposition
 * are expressed as element strides computed by the frontend, so each backend implements plain strided
 * loops and never has to understand shapes beyond that.
 */

/** Opaque handle to storage owned by a backend (an index, a pointer, a GPU buffer key). */
export type StorageId = number;

/**
 * Elementwise unary kernels. `copy` with strides implements expand (broadcast) and transpose; `gelu`
 * is x·Φ(x) in one pass (the arithmetic is defined in gelu-math.ts).
 */
export type UnaryOp = 'copy' | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'tanh' | 'gelu';

/**
 * Elementwise binary kernels; comparisons write 1 or 0. `geluBackward` is a = x, b = dy ↦ dy·GELU′(x)
 * (gelu-math.ts).
 */
export type BinaryOp =
  'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'gt' | 'ge' | 'lt' | 'eq' | 'geluBackward';

/** Reductions over the middle axis of an [outer, reduce, inner] view. */
export type ReduceOp = 'sum' | 'max';

import type { RandomDist, RandomStream } from '../random/stream.js';

// The stream type is the generator's (random/ sits below backend/); re-exported as part of this interface.
export type { RandomDist, RandomStream };

/** Bytes and buffers currently allocated, for leak tests and the benchmark. */
export interface MemoryInfo {
  readonly buffers: number;
  readonly bytes: number;
}

/** Hyperparameters of one fused SGD update (PyTorch semantics: d = g + wd·w; v = μv + d; w -= lr·v). */
export interface SgdParams {
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
}

/** What a matmul may fuse after the product: a per-column bias and a ReLU (the Linear(+ReLU) layer). */
export interface MatmulEpilogue {
  /** Storage of n biases added to every row, or -1 for none. */
  readonly bias: StorageId;
  /** Apply max(0, ·) after the bias. */
  readonly relu: boolean;
}

/**
 * Geometry of an image-to-columns rearrangement (the unfold behind convolution and pooling): x is
 * [batch, channels, height, width] (NCHW); its columns matrix is [batch·outH·outW, channels·kernelH·kernelW],
 * row (n, oh, ow) holding the patch whose top-left corner is (oh·strideH − padH, ow·strideW − padW).
 */
export interface Im2colGeometry {
  readonly batch: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly outH: number;
  readonly outW: number;
}

/**
 * The sizes of a fused attention (Backend.attention): batch N, heads H, query length T, key length S,
 * query/key dimension D and value dimension Dv per head. q is [N, T, H, D], k [N, S, H, D], v
 * [N, S, H, Dv] and the output [N, T, H, Dv], each contiguous (a linear layer's output reshaped, no
 * permute); the probabilities are [N, H, T, S]. Block (n, h) is the attention of head h of example n.
 * With `packed`, q, k and v are one tensor qkv [N, L, 3, H, D] instead (self-attention's one packed
 * projection: T = S = L, Dv = D), passed as q, k and v alike, and the backward's dq, dk and dv one
 * tensor dqkv of that layout (attentionLayout says where each lies).
 */
export interface AttentionShape {
  readonly batch: number;
  readonly heads: number;
  readonly queries: number;
  readonly keys: number;
  readonly dim: number;
  readonly valueDim: number;
  readonly packed?: boolean | undefined;
}

/**
 * Where q, k and v (and dq, dk, dv) of an attention lie, in elements: element (n, l, h, d) of x is at
 * x.offset + (n·L + l)·x.stride + h·dim + d. Separate tensors: offset 0, token stride H·D (H·Dv for v);
 * packed: one token of qkv is 3·H·D long, q at 0, k at H·D and v at 2·H·D within it.
 */
export interface AttentionLayout {
  readonly q: { readonly offset: number; readonly stride: number };
  readonly k: { readonly offset: number; readonly stride: number };
  readonly v: { readonly offset: number; readonly stride: number };
}

/** The layout of an attention's q, k and v (and their gradients) for `shape`; see AttentionLayout. */
export function attentionLayout(shape: AttentionShape): AttentionLayout {
  const { heads: H, dim: D, valueDim: DV } = shape;
  if (shape.packed === true) {
    const stride = 3 * H * D;
    return { q: { offset: 0, stride }, k: { offset: H * D, stride }, v: { offset: 2 * H * D, stride } };
  }
  return {
    q: { offset: 0, stride: H * D },
    k: { offset: 0, stride: H * D },
    v: { offset: 0, stride: H * DV },
  };
}

/** The narrow interface every backend implements; see the file comment. */
export interface Backend {
  /** Short name used by `createBackend` and in error messages. */
  readonly name: string;
  /** True when `readSync` works (CPU backends); GPU backends only offer `read`. */
  readonly syncRead: boolean;

  /**
   * Allocates storage for `size` elements, zero-filled unless `zeroed` is false (for kernel outputs
   * that are overwritten whole: zeroing them would cost a pass over memory per op).
   */
  alloc(size: number, zeroed?: boolean): StorageId;
  /** Releases storage; using the id afterwards is a bug. */
  free(id: StorageId): void;
  /** Copies `data` into storage starting at element `offset`. */
  write(id: StorageId, data: ArrayLike<number>, offset?: number): void;
  /** Copies storage out synchronously; throws on backends without synchronous reads. */
  readSync(id: StorageId, size: number): Float32Array;
  /** Copies storage out; the only read available on every backend. */
  read(id: StorageId, size: number): Promise<Float32Array>;
  /** Live storage, for leak tests. */
  memory(): MemoryInfo;

  /** out[i] = value for i < size. */
  fill(out: StorageId, size: number, value: number): void;
  /** out[idx] = op(x[strided idx]) over outShape; xStrides are element strides (0 = broadcast). */
  unary(
    op: UnaryOp,
    x: StorageId,
    xStrides: readonly number[],
    out: StorageId,
    outShape: readonly number[],
  ): void;
  /** out[idx] = op(a[..], b[..]) over outShape with per-input element strides (0 = broadcast). */
  binary(
    op: BinaryOp,
    a: StorageId,
    aStrides: readonly number[],
    b: StorageId,
    bStrides: readonly number[],
    out: StorageId,
    outShape: readonly number[],
  ): void;
  /** out = cond != 0 ? a : b, strided like `binary`. */
  where(
    cond: StorageId,
    condStrides: readonly number[],
    a: StorageId,
    aStrides: readonly number[],
    b: StorageId,
    bStrides: readonly number[],
    out: StorageId,
    outShape: readonly number[],
  ): void;
  /** Reduces the middle axis of a contiguous [outer, reduce, inner] view into [outer, inner]. */
  reduce(op: ReduceOp, x: StorageId, outer: number, reduce: number, inner: number, out: StorageId): void;
  /** out[m×n] = op(a)·op(b) with op = transpose when the flag is set; a is [m×k] (or [k×m]), b is [k×n] (or [n×k]). */
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
  ): void;
  /**
   * Batched product: out[t] = op(a[t])·op(b[t]) for t < batch, each operand's items stored one after
   * another (a: m·k, b: k·n, out: m·n elements per item), op as in `matmul`. Attention's per-head
   * products; every item is computed as `matmul` would compute it alone.
   */
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
  ): void;
  /** out[r] = index of the largest element of row r of a contiguous [rows, cols] matrix (first on ties). */
  argmax(x: StorageId, rows: number, cols: number, out: StorageId): void;
  /**
   * Image to columns (see Im2colGeometry): out[(n, oh, ow), (c, kh, kw)] = x[n, c, oh·sh − ph + kh,
   * ow·sw − pw + kw], or `padValue` where that falls outside the image (0 for convolution and average
   * pooling, −∞ for max pooling).
   */
  im2col(x: StorageId, out: StorageId, geom: Im2colGeometry, padValue: number): void;
  /**
   * Columns to image, the adjoint of im2col: out[n, c, h, w] = the sum of every column entry im2col
   * would read from (n, c, h, w), added in ascending (kh, kw) order on every backend; out is written whole.
   */
  col2im(cols: StorageId, out: StorageId, geom: Im2colGeometry): void;
  /**
   * Max pooling over the windows of `geom` (padding counts as −∞): out [N, C, OH, OW] (NCHW) holds each
   * window's maximum and `indices` (same shape, integers stored as float32) its position h·W + w in
   * its image plane, torch.nn.functional.max_pool2d(return_indices=True)'s rule exactly: scanning the
   * window's in-image taps in (kh, kw) order, a tap wins when it is greater than the best so far or
   * NaN, so the first maximum wins ties and a NaN (the last one) is the maximum.
   */
  maxPool2d(x: StorageId, geom: Im2colGeometry, out: StorageId, indices: StorageId): void;
  /**
   * The adjoint of maxPool2d: dx [N, C, H, W] (written whole) starts at zero and every output
   * position's dy is added to dx at its index, in float32, in ascending output position (oh, ow) per
   * plane on every backend (PyTorch's CPU order), so overlapping windows (stride < kernel) sum alike.
   */
  maxPool2dBackward(dy: StorageId, indices: StorageId, geom: Im2colGeometry, dx: StorageId): void;
  /**
   * Direct convolution straight to NCHW (no im2col, no permute), for small patches: out [N, OC, OH, OW] =
   * Σ over the taps (c, kh, kw) in ascending order of x[n, c, oh·sh − ph + kh, ow·sw − pw + kw] (0 outside
   * the image) · weight [OC, C, KH, KW], each product rounded to float32 and added to a float32 sum that
   * starts at 0; then + bias[oc] (`bias` -1: none), rounded, then with `relu` !(v > 0) → +0 (the GEMM
   * epilogue's rule). Every backend follows this order; the CPU backends agree bit for bit.
   */
  conv2d(
    x: StorageId,
    weight: StorageId,
    bias: StorageId,
    geom: Im2colGeometry,
    outChannels: number,
    relu: boolean,
    out: StorageId,
  ): void;
  /**
   * The weight (and bias) gradient of conv2d for dy [N, OC, OH, OW]: dweight [OC, C, KH, KW] (and dbias
   * [OC] unless -1) written whole. Order, fixed so threads and backends agree: per image n, four
   * float32 sums s_j (from 0) of round(dy · x) over the positions (oh, ow) in ascending order with
   * ow ≡ j (mod 4) (the SIMD lanes), combined as (s₀ + s₁) + (s₂ + s₃) in float32; those per-image
   * values are then summed over n ascending in float64 and rounded once. dbias is the same with dy for
   * the product. WebGPU keeps the order but sums the images in float32. With `reluOut` (the forward's
   * ReLU output; -1: none) each dy is first taken times (out > 0 ? 1 : 0), exactly the composition
   * dy ⊙ (out > 0) the ReLU's backward would compute, without writing it out.
   */
  conv2dWeightGrad(
    x: StorageId,
    dy: StorageId,
    geom: Im2colGeometry,
    outChannels: number,
    dweight: StorageId,
    dbias: StorageId,
    reluOut: StorageId,
  ): void;
  /**
   * Convolution as unfold + GEMM, for patches too large for conv2d's direct kernel: out [N, OC, OH,
   * OW] = relu?(im2col(x)·Wᵀ + bias) (weight [OC, C, KH, KW] read as [OC, C·KH·KW]; `bias` -1: none)
   * permuted to NCHW, each element the backend's matmul of that product with its bias epilogue
   * (conv-unfolded.ts composes exactly that; the wasm backend does it a block of images at a time, in
   * cache, with the same bits).
   */
  conv2dUnfolded(
    x: StorageId,
    weight: StorageId,
    bias: StorageId,
    geom: Im2colGeometry,
    outChannels: number,
    relu: boolean,
    out: StorageId,
  ): void;
  /**
   * conv2dUnfolded's input and weight gradients for dy [N, OC, OH, OW] (already times ReLU's mask):
   * dx = col2im(rows(dy)·W) and dweight = rows(dy)ᵀ·im2col(x), rows(dy) being dy as [N·OH·OW, OC];
   * either output -1 to skip it. dweight sums over the images in groups fixed by the shape (wasm:
   * each group's images in order, the groups' partials in order, in float64), so every thread count
   * gives the same bits.
   */
  conv2dUnfoldedBackward(
    x: StorageId,
    dy: StorageId,
    weight: StorageId,
    geom: Im2colGeometry,
    outChannels: number,
    dx: StorageId,
    dweight: StorageId,
  ): void;
  /** Fills out with `size` draws from the Philox stream (uniform [0,1) or standard normal). */
  random(dist: RandomDist, stream: RandomStream, out: StorageId, size: number): void;
  /**
   * Fused inverted dropout: out[i] = u_i >= p ? x[i] · s : 0, with u_i the i-th uniform of `stream`
   * (same layout as `random`) and s = float32(1 / (1 - p)); 0 < p < 1. Must equal the composition
   * where(uniform >= p, x · s, 0) bit for bit, so every backend draws the same mask for a seed.
   */
  dropout(x: StorageId, stream: RandomStream, p: number, out: StorageId, size: number): void;
  /**
   * Fused softmax cross-entropy over a contiguous [rows, cols] logits matrix and integer labels:
   * losses[r] = logsumexp(logits[r]) - logits[r][labels[r]] and grad = softmax(logits) - onehot(labels)
   * (unscaled; the caller multiplies by the upstream gradient / rows).
   */
  softmaxCrossEntropy(
    logits: StorageId,
    labels: StorageId,
    rows: number,
    cols: number,
    losses: StorageId,
    grad: StorageId,
  ): void;
  /**
   * Fused LayerNorm (Ba et al. 2016, https://arxiv.org/abs/1607.06450) over each row of a contiguous
   * [rows, cols] matrix. Per row, in float64 and ascending column order on every backend that claims
   * bit-identity (reference, wasm): mean = Σx/cols, var = Σ(x − mean)²/cols (biased), rstd =
   * 1/√(var + eps); out = (x − mean)·rstd·gamma + beta, rounded once (gamma and beta hold cols
   * elements, or are -1 for none). mean and rstd (rows elements each) are kept for the backward pass.
   */
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
  ): void;
  /**
   * LayerNorm's backward pass for upstream gradient g: with x̂ = (x − mean)·rstd, ĝ = g·gamma (g when
   * gamma is -1), a = Σĝ/cols and b = Σĝ·x̂/cols (float64, ascending column order),
   * dx = (ĝ − a − x̂·b)·rstd. When gxhat is not -1 it receives g·x̂, whose column sums (left to
   * `reduce`, so they do not depend on how rows are split) are dgamma.
   */
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
  ): void;
  /**
   * Fused softmax over each row of a contiguous [rows, cols] matrix (cols ≥ 1): with m the row's
   * maximum (NaN if any element is) and e_j = exp(x_j − m), out_j = e_j / Σ_j e_j, the sum taken in
   * ascending j. CPU backends on float32 storage take e_j as the float32 exp of expf32.ts applied to
   * x_j − m rounded to float32 (within 1 ulp of the rounded exp), the sum and quotient in float64,
   * rounding the quotient once on the store; the float64 oracle uses Math.exp.
   */
  softmax(x: StorageId, rows: number, cols: number, out: StorageId): void;
  /**
   * The softmax's backward per row of contiguous [rows, cols] matrices: out_j = y_j · (dy_j − s) with
   * s = Σ_j dy_j · y_j taken in ascending j (y the softmax's output, dy the upstream gradient). CPU
   * backends compute in float64 and round once, on the store.
   */
  softmaxBackward(y: StorageId, dy: StorageId, rows: number, cols: number, out: StorageId): void;
  /**
   * Fused scaled-dot-product attention (Vaswani et al. 2017, https://arxiv.org/abs/1706.03762, eq. 1),
   * block by block (see AttentionShape): scores_ts = round(Σ_d round(q_td·k_sd) · round(scale)), the sum
   * a float32 one from 0 in ascending d; probs = the fused softmax of each score row (Backend.softmax's
   * steps exactly); out_te = Σ_s round(probs_ts · v_se), a float32 sum from 0 in ascending s. Every
   * backend follows this order; the CPU backends agree bit for bit (the float64 oracle rounds nothing).
   */
  attention(
    q: StorageId,
    k: StorageId,
    v: StorageId,
    shape: AttentionShape,
    scale: number,
    out: StorageId,
    probs: StorageId,
  ): void;
  /**
   * attention's backward for upstream gradient dOut [N, T, H, Dv], from the forward's probs: per block,
   * dP_ts = Σ_e dOut_te·v_se (float32, ascending e), r_t = Σ_s dP_ts·probs_ts (float64, ascending s),
   * dS_ts = round(probs_ts·(dP_ts − r_t)·scale) (float64, rounded once); then dq_td = Σ_s dS_ts·k_sd,
   * dk_sd = Σ_t dS_ts·q_td and dv_se = Σ_t probs_ts·dOut_te (float32 sums from 0, ascending s or t).
   * dq, dk and dv are written whole in q's, k's and v's layouts (packed: dqkv whole, one storage
   * passed three times).
   */
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
  ): void;
  // ---- views and indexing (the loops are in src/backend/indexing.ts) ----
  /**
   * Strided copy: out[outOffset + Σ iₐ·outStrides[a]] = x[xOffset + Σ iₐ·xStrides[a]] for every index i
   * of `shape`. Materialises a view (out contiguous) and writes into a region of a larger tensor (cat,
   * pad); x and out are different storage.
   */
  copyStrided(
    x: StorageId,
    xOffset: number,
    xStrides: readonly number[],
    out: StorageId,
    outOffset: number,
    outStrides: readonly number[],
    shape: readonly number[],
  ): void;
  /**
   * torch.gather: out[p] = x[Σ_{a≠dim} pₐ·xStrides[a] + index[p]·xStrides[dim]] over outShape; index
   * and out are contiguous of outShape, index holds integers in range (the frontend checks them where
   * it can read them; a GPU kernel reads 0 for one out of range).
   */
  gather(
    x: StorageId,
    xStrides: readonly number[],
    dim: number,
    index: StorageId,
    out: StorageId,
    outShape: readonly number[],
  ): void;
  /**
   * The adjoint of gather: out (contiguous, outShape, written whole) starts at zero and
   * out[p with p[dim] = index[p]] += g[p] for every p of indexShape, each element summing its
   * contributions in ascending position along dim on every backend (so results agree bit for bit).
   */
  scatterAdd(
    g: StorageId,
    index: StorageId,
    indexShape: readonly number[],
    dim: number,
    out: StorageId,
    outShape: readonly number[],
  ): void;
  /** One in-place SGD step on a parameter; `velocity` is -1 when momentum is 0. */
  sgdStep(param: StorageId, grad: StorageId, velocity: StorageId, size: number, params: SgdParams): void;
}
