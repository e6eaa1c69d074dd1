/**
 * The foreign-function interface of the wasm kernels: the signatures of what assembly/index.ts
 * exports, as the host sees them. Pointers are byte offsets into the one linear memory all threads
 * share; op codes are those of opcodes.ts. Kept apart so the backend, the planner and the thread
 * protocol type their calls against one declaration.
 */

/** The kernels' exports (pointers are byte offsets into the shared memory). */
export interface Kernels {
  heapBase(): number;
  fill(out: number, n: number, value: number): void;
  unary(op: number, x: number, out: number, rank: number, args: number): void;
  /** unary over output elements [from, to), its odometer at `scratch` (one word per dimension). */
  unaryRange(
    op: number,
    x: number,
    out: number,
    rank: number,
    args: number,
    from: number,
    to: number,
    scratch: number,
  ): void;
  binary(op: number, a: number, b: number, out: number, rank: number, args: number): void;
  /** binary over output elements [from, to), its odometer at `scratch`. */
  binaryRange(
    op: number,
    a: number,
    b: number,
    out: number,
    rank: number,
    args: number,
    from: number,
    to: number,
    scratch: number,
  ): void;
  where(c: number, a: number, b: number, out: number, rank: number, args: number): void;
  /** where over output elements [from, to), its odometer at `scratch`. */
  whereRange(
    c: number,
    a: number,
    b: number,
    out: number,
    rank: number,
    args: number,
    from: number,
    to: number,
    scratch: number,
  ): void;
  reduce(op: number, x: number, out: number, outer: number, reduce: number, inner: number): void;
  argmax(x: number, out: number, rows: number, cols: number): void;
  softmaxCrossEntropy(
    logits: number,
    labels: number,
    losses: number,
    grad: number,
    rows: number,
    cols: number,
  ): void;
  /** LayerNorm forward over rows [rowFrom, rowTo); gamma and beta 0 when absent. */
  layerNorm(
    x: number,
    gamma: number,
    beta: number,
    out: number,
    mean: number,
    rstd: number,
    cols: number,
    eps: number,
    rowFrom: number,
    rowTo: number,
  ): void;
  /** LayerNorm backward over rows [rowFrom, rowTo); gamma and gxhat 0 when absent. */
  layerNormBackward(
    g: number,
    x: number,
    gamma: number,
    mean: number,
    rstd: number,
    dx: number,
    gxhat: number,
    cols: number,
    rowFrom: number,
    rowTo: number,
  ): void;
  /** Softmax of rows [rowFrom, rowTo) of a [rows, cols] matrix. */
  softmax(x: number, out: number, rowFrom: number, rowTo: number, cols: number): void;
  /** The softmax's backward for rows [rowFrom, rowTo): out = y·(dy − Σ dy·y) per row. */
  softmaxBackward(y: number, dy: number, out: number, rowFrom: number, rowTo: number, cols: number): void;
  /**
   * Fused attention for (n, h) blocks [blockFrom, blockTo) (assembly/attention.ts); shape holds T, S,
   * H, D, Dv and q's, k's and v's token strides; the workspace (D + T)·S₄ floats (S₄: S rounded up to a multiple of 4).
   */
  attention(
    q: number,
    k: number,
    v: number,
    out: number,
    probs: number,
    shape: number,
    scale: number,
    blockFrom: number,
    blockTo: number,
    work: number,
  ): void;
  /** attention's backward for blocks [blockFrom, blockTo); the workspace (Dv + T)·S₄ + T·S floats. */
  attentionBackward(
    dOut: number,
    q: number,
    k: number,
    v: number,
    probs: number,
    dq: number,
    dk: number,
    dv: number,
    shape: number,
    scale: number,
    blockFrom: number,
    blockTo: number,
    work: number,
  ): void;
  sgdStep(w: number, g: number, v: number, n: number, lr: number, momentum: number, wd: number): void;
  /** sgdStep over elements [start, end). */
  sgdStepRange(
    w: number,
    g: number,
    v: number,
    start: number,
    end: number,
    lr: number,
    momentum: number,
    wd: number,
  ): void;
  /** Geometry at `args`: 12 i32 words in Im2colGeometry's order. */
  im2col(x: number, out: number, args: number, padValue: number, rowFrom: number, rowTo: number): void;
  col2im(cols: number, out: number, args: number, imageFrom: number, imageTo: number, acc: number): void;
  /** Max pooling of the planes [planeFrom, planeTo); geometry at `args` as for im2col (assembly/pool.ts). */
  maxPool2d(x: number, out: number, indices: number, args: number, planeFrom: number, planeTo: number): void;
  /** Its adjoint over the planes [planeFrom, planeTo): zeros, then dy added at the indices in order. */
  maxPool2dBackward(
    dy: number,
    indices: number,
    dx: number,
    args: number,
    planeFrom: number,
    planeTo: number,
  ): void;
  /**
   * Direct convolution of the images [imageFrom, imageTo) (assembly/directConv.ts): geometry at `args`
   * as for im2col, then out channels, padded height and row stride; `bias` 0 for none, `relu` 0/1.
   */
  directConv2d(
    x: number,
    w: number,
    bias: number,
    out: number,
    args: number,
    relu: number,
    imageFrom: number,
    imageTo: number,
    work: number,
  ): void;
  /**
   * Per-image weight (and bias, `dbPart` 0: none) gradient partials of the images [imageFrom, imageTo),
   * dy masked by ReLU's output `reluOut` unless 0.
   */
  directConv2dWeightGrad(
    x: number,
    dy: number,
    reluOut: number,
    dwPart: number,
    dbPart: number,
    args: number,
    imageFrom: number,
    imageTo: number,
    work: number,
  ): void;
  /** Workspace bytes of the unfolded convolution's kernels for blocks of `block` images (assembly/convUnfolded.ts). */
  convUnfoldedWorkspace(args: number, oc: number, block: number): number;
  /** relu?(unfold(x)·Wᵀ + bias) stored NCHW, for the images [imageFrom, imageTo), `block` at a time. */
  convUnfolded(
    x: number,
    w: number,
    bias: number,
    out: number,
    args: number,
    oc: number,
    block: number,
    relu: number,
    imageFrom: number,
    imageTo: number,
    work: number,
  ): void;
  /** col2im(rows(dy)·W) for the images [imageFrom, imageTo). */
  convUnfoldedDx(
    dy: number,
    w: number,
    dx: number,
    args: number,
    oc: number,
    block: number,
    imageFrom: number,
    imageTo: number,
    work: number,
  ): void;
  /** The weight gradient's partial of each image group in [groupFrom, groupTo), `groupImages` images each, transposed ([patch][OC]). */
  convUnfoldedDw(
    x: number,
    dy: number,
    dwPart: number,
    args: number,
    oc: number,
    block: number,
    groupImages: number,
    groupFrom: number,
    groupTo: number,
    work: number,
  ): void;
  randomUniform(out: number, start: number, end: number, k0: number, k1: number, offset: number): void;
  randomNormal(out: number, n: number, k0: number, k1: number, offset: number): void;
  dropout(
    x: number,
    out: number,
    start: number,
    end: number,
    k0: number,
    k1: number,
    offset: number,
    thr: number,
    scale: number,
    bits: number,
  ): void;
  dropoutMasked(g: number, out: number, start: number, end: number, bits: number, scale: number): void;
  gemm(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    transA: number,
    transB: number,
    i0: number,
    i1: number,
    j0: number,
    j1: number,
    work: number,
    bias: number,
    relu: number,
  ): void;
  /** Items [itemFrom, itemTo) of `batch` products stored one after another, each one whole gemm. */
  gemmBatch(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    transA: number,
    transB: number,
    itemFrom: number,
    itemTo: number,
    work: number,
  ): void;
  gemmWorkspace(rows: number, cols: number, k: number): number;
  sampleDensity(a: number, rows: number, cols: number, step: number): number;
  spmm(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    transA: number,
    transB: number,
    i0: number,
    i1: number,
    work: number,
    bias: number,
    relu: number,
  ): void;
  spmmWorkspace(rows: number, n: number, k: number): number;
}
