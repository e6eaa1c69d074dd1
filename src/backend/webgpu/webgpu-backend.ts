/**
 * The WebGPU backend's ops: tensors live in GPU storage buffers and every Backend method is a WGSL
 * compute kernel (kernels.ts, kernels-random.ts) recorded into a batch that is submitted lazily, when a value is read,
 * when the parameter arena is full, or on `flush()`; so a whole training step is one or two command
 * buffers and the only GPU→CPU transfer is the loss the trainer awaits. The machinery sits beside it,
 * one concern per file: storage, buffer reuse and transfers (pool.ts), encoder batching
 * (recorder.ts), the per-batch parameter arena (params.ts), compiled kernels (kernel-cache.ts),
 * recording one dispatch (dispatch.ts) and finding a device (create.ts).
 *
 * Reads are asynchronous (a staging buffer is copied into and mapped); `readSync` throws and tells
 * the caller to `await t.data()`. Random draws and dropout masks reproduce the reference backend's
 * Philox4x32-10 stream bit for bit (src/random/philox.ts).
 */
import type {
  AttentionShape,
  Backend,
  BinaryOp,
  Im2colGeometry,
  MatmulEpilogue,
  MemoryInfo,
  ReduceOp,
  SgdParams,
  StorageId,
  UnaryOp,
} from '../backend.js';
import { DropoutLabError } from '../../errors.js';
import { dropoutKeep } from '../../random/dropoutKeep.js';
import type { RandomDist, RandomStream } from '../../random/stream.js';
import { collapseDims } from '../strides.js';
import { conv2dUnfoldedBackwardComposed, conv2dUnfoldedComposed } from '../conv-unfolded.js';
import { MAX_RANK } from './kernels.js';
import { Dispatcher, grid, groups, MAX_GROUPS } from './dispatch.js';
import { KernelCache } from './kernel-cache.js';
import {
  argmaxSource,
  binarySource,
  col2imSource,
  directConv2dSource,
  directConv2dWeightGradSource,
  fillSource,
  im2colSource,
  layerNormBackwardSource,
  layerNormSource,
  matmulSource,
  maxPool2dBackwardSource,
  maxPool2dSource,
  reduceSource,
  reduceTreeSource,
  sgdSource,
  attentionBackwardSource,
  attentionSource,
  softmaxBackwardSource,
  softmaxCESource,
  softmaxSource,
  unarySource,
  whereSource,
} from './kernels.js';
import { copyStridedSource, gatherSource, scatterAddSource } from './kernels-indexing.js';
import { dropoutSource, normalSource, uniformSource } from './kernels-random.js';
import { ParamArena, stridedParams, streamParams, type ParamBlock } from './params.js';
import { BufferPool } from './pool.js';
import { Recorder } from './recorder.js';

/** Counters for tests and the benchmark. */
export interface WebGPUStats {
  /** Command buffers submitted so far. */
  readonly submits: number;
  /** Compute dispatches recorded so far. */
  readonly dispatches: number;
  /** Buffers and bytes kept in the reuse pool. */
  readonly pooledBuffers: number;
  readonly pooledBytes: number;
}

/** The WebGPU implementation of Backend; create it with `createWebGPUBackend`. */
export class WebGPUBackend implements Backend {
  readonly name = 'webgpu';
  readonly syncRead = false;

  private readonly recorder: Recorder;
  private readonly params: ParamArena;
  private readonly pool: BufferPool;
  private readonly dispatcher: Dispatcher;
  private gpuError: string | null = null;
  private disposed = false;

  /**
   * @param device the device every buffer and kernel lives on.
   * @param instance the GPU object the device came from; Dawn in Node keeps the process (and pending
   *   maps) alive only while it is referenced, so the backend holds it until `dispose()`.
   */
  constructor(
    readonly device: GPUDevice,
    private instance: GPU | null = null,
  ) {
    this.recorder = new Recorder(device, () => this.params.upload());
    this.params = new ParamArena(device, () => this.flush());
    this.pool = new BufferPool(device, this.recorder);
    this.dispatcher = new Dispatcher(device, this.pool, this.recorder, new KernelCache(device), this.params);
    device.addEventListener('uncapturederror', (event) => {
      const e = (event as GPUUncapturedErrorEvent).error;
      this.gpuError ??= e.message;
    });
    void device.lost.then((info) => {
      if (!this.disposed) this.gpuError ??= `the GPU device was lost (${info.reason}): ${info.message}`;
    });
  }

  // ---- storage ----

  alloc(size: number, zeroed = true): StorageId {
    return this.pool.alloc(size, zeroed);
  }

  free(id: StorageId): void {
    this.pool.free(id);
  }

  write(id: StorageId, data: ArrayLike<number>, offset = 0): void {
    this.pool.upload(id, data, offset);
  }

  readSync(_id: StorageId, _size: number): Float32Array {
    throw new DropoutLabError(
      'the webgpu backend reads asynchronously; use `await t.data()` (or `await t.array()`) instead of dataSync(), item() or toArray().',
    );
  }

  read(id: StorageId, size: number): Promise<Float32Array> {
    return this.pool.readBack(id, size, () => this.throwIfFailed());
  }

  memory(): MemoryInfo {
    return this.pool.memory();
  }

  /** Submit and pool counters. */
  stats(): WebGPUStats {
    return {
      submits: this.recorder.submits,
      dispatches: this.recorder.dispatches,
      pooledBuffers: this.pool.pooledBuffers,
      pooledBytes: this.pool.pooledBytes,
    };
  }

  /** Submits the recorded work (reads do this themselves). */
  flush(): void {
    this.recorder.flush();
  }

  /** Resolves once the GPU has finished everything submitted (after flushing). */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfFailed();
  }

  /** Releases every GPU resource and the device; the backend is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.flush();
    this.disposed = true;
    this.device.destroy();
    this.instance = null;
  }

  // ---- kernels ----

  fill(out: StorageId, size: number, value: number): void {
    if (size === 0) return;
    const p = this.params.next();
    p.u32[0] = size;
    p.f32[2] = value;
    this.record('fill', () => fillSource, [], [[out, size]], p, grid(size));
  }

  unary(
    op: UnaryOp,
    x: StorageId,
    xStrides: readonly number[],
    out: StorageId,
    outShape: readonly number[],
  ): void {
    const size = outShape.reduce((a, b) => a * b, 1);
    if (size === 0) return;
    const p = stridedParams(this.params, size, collapseDims(outShape, [xStrides]));
    this.record(`unary:${op}`, () => unarySource(op), [x], [[out, size]], p, grid(size));
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
    const size = outShape.reduce((p, q) => p * q, 1);
    if (size === 0) return;
    const p = stridedParams(this.params, size, collapseDims(outShape, [aStrides, bStrides]));
    this.record(`binary:${op}`, () => binarySource(op), [a, b], [[out, size]], p, grid(size));
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
    const size = outShape.reduce((p, q) => p * q, 1);
    if (size === 0) return;
    const p = stridedParams(this.params, size, collapseDims(outShape, [condStrides, aStrides, bStrides]));
    this.record('where', () => whereSource, [cond, a, b], [[out, size]], p, grid(size));
  }

  reduce(op: ReduceOp, x: StorageId, outer: number, reduce: number, inner: number, out: StorageId): void {
    const outputs = outer * inner;
    if (outputs === 0) return;
    const p = this.params.next();
    p.u32[0] = outer;
    p.u32[1] = reduce;
    p.u32[2] = inner;
    p.u32[3] = op === 'max' ? 1 : 0;
    // Few outputs with long reductions: a workgroup per output; otherwise a thread per output.
    if (reduce >= 64 && outputs < 4096) {
      this.record('reduceTree', () => reduceTreeSource, [x], [[out, outputs]], p, groups(outputs));
    } else {
      this.record('reduce', () => reduceSource, [x], [[out, outputs]], p, grid(outputs));
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
    if (m * n === 0) return;
    const gx = Math.ceil(n / 64);
    const gy = Math.ceil(m / 64);
    if (gx > MAX_GROUPS || gy > MAX_GROUPS) {
      throw new DropoutLabError(`webgpu backend: matmul of ${m}×${n} exceeds the dispatch limits.`);
    }
    const p = this.params.next();
    p.u32[0] = m;
    p.u32[1] = n;
    p.u32[2] = k;
    const bias = epilogue !== undefined && epilogue.bias >= 0 ? epilogue.bias : -1;
    p.u32[3] = (bias >= 0 ? 1 : 0) | (epilogue?.relu === true ? 2 : 0);
    this.record(
      `matmul:${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`,
      () => matmulSource(transA, transB),
      [a, b, bias],
      [[out, m * n]],
      p,
      [gx, gy],
    );
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
    if (batch * m * n === 0) return;
    const gx = Math.ceil(n / 64);
    const gy = Math.ceil(m / 64);
    if (gx > MAX_GROUPS || gy > MAX_GROUPS || batch > MAX_GROUPS) {
      throw new DropoutLabError(
        `webgpu backend: batched matmul of ${batch}×${m}×${n} exceeds the dispatch limits.`,
      );
    }
    const p = this.params.next();
    p.u32.set([m, n, k, 0, m * k, k * n, m * n], 0);
    this.record(
      `matmul:${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`,
      () => matmulSource(transA, transB),
      [a, b, -1],
      [[out, batch * m * n]],
      p,
      [gx, gy, batch],
    );
  }

  argmax(x: StorageId, rows: number, cols: number, out: StorageId): void {
    if (rows === 0) return;
    const p = this.params.next();
    p.u32[0] = rows;
    p.u32[1] = cols;
    this.record('argmax', () => argmaxSource, [x], [[out, rows]], p, grid(rows));
  }

  im2col(x: StorageId, out: StorageId, geom: Im2colGeometry, padValue: number): void {
    const size = geom.batch * geom.outH * geom.outW * geom.channels * geom.kernelH * geom.kernelW;
    if (size === 0) return;
    const p = this.geometryParams(geom, size);
    p.f32[12] = padValue;
    this.record('im2col', () => im2colSource, [x], [[out, size]], p, grid(size));
  }

  col2im(cols: StorageId, out: StorageId, geom: Im2colGeometry): void {
    const size = geom.batch * geom.channels * geom.height * geom.width;
    if (size === 0) return;
    const p = this.geometryParams(geom, size);
    this.record('col2im', () => col2imSource, [cols], [[out, size]], p, grid(size));
  }

  maxPool2d(x: StorageId, geom: Im2colGeometry, out: StorageId, indices: StorageId): void {
    const size = geom.batch * geom.channels * geom.outH * geom.outW;
    if (size === 0) return;
    const p = this.geometryParams(geom, size);
    this.record(
      'maxPool2d',
      () => maxPool2dSource,
      [x],
      [
        [out, size],
        [indices, size],
      ],
      p,
      grid(size),
    );
  }

  maxPool2dBackward(dy: StorageId, indices: StorageId, geom: Im2colGeometry, dx: StorageId): void {
    const size = geom.batch * geom.channels * geom.height * geom.width;
    if (size === 0) return;
    const p = this.geometryParams(geom, size);
    this.record(
      'maxPool2dBackward',
      () => maxPool2dBackwardSource,
      [dy, indices],
      [[dx, size]],
      p,
      grid(size),
    );
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
    const size = geom.batch * outChannels * geom.outH * geom.outW;
    if (size === 0) return;
    const p = this.geometryParams(geom, size);
    p.u32[12] = outChannels;
    p.u32[14] = (bias >= 0 ? 1 : 0) | (relu ? 2 : 0);
    this.record('conv2d', () => directConv2dSource, [x, weight, bias], [[out, size]], p, grid(size));
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
    const patch = geom.channels * geom.kernelH * geom.kernelW;
    // Weights (mode 0), then the biases (mode 1) when asked for: the same kernel, one thread per output;
    // flag 2 masks dy by ReLU's output.
    for (const [target, size, mode] of [
      [dweight, outChannels * patch, 0],
      [dbias, outChannels, 1],
    ] as const) {
      if (target < 0 || size === 0) continue;
      const p = this.geometryParams(geom, size);
      p.u32[12] = outChannels;
      p.u32[14] = mode | (reluOut >= 0 ? 2 : 0);
      this.record(
        'conv2dWeightGrad',
        () => directConv2dWeightGradSource,
        [x, dy, reluOut],
        [[target, size]],
        p,
        grid(size),
      );
    }
  }

  /** A parameter block holding an im2col geometry (words 0…11) and the element count (word 13). */
  private geometryParams(g: Im2colGeometry, size: number): ParamBlock {
    const p = this.params.next();
    p.u32.set(
      [
        g.batch,
        g.channels,
        g.height,
        g.width,
        g.kernelH,
        g.kernelW,
        g.strideH,
        g.strideW,
        g.padH,
        g.padW,
        g.outH,
        g.outW,
      ],
      0,
    );
    p.u32[13] = size;
    return p;
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
    if (size === 0) return;
    const p = streamParams(this.params, size, stream);
    const threads = dist === 'uniform' ? Math.ceil(size / 4) : Math.ceil(size / 2);
    const source = dist === 'uniform' ? uniformSource : normalSource;
    this.record(`random:${dist}`, () => source, [], [[out, size]], p, grid(threads));
  }

  dropout(x: StorageId, stream: RandomStream, p: number, out: StorageId, size: number): void {
    if (size === 0) return;
    const params = streamParams(this.params, size, stream);
    const keep = dropoutKeep(p);
    params.u32[5] = keep.bits;
    params.f32[6] = keep.scale;
    this.record('dropout', () => dropoutSource, [x], [[out, size]], params, grid(Math.ceil(size / 4)));
  }

  softmaxCrossEntropy(
    logits: StorageId,
    labels: StorageId,
    rows: number,
    cols: number,
    losses: StorageId,
    grad: StorageId,
  ): void {
    if (rows === 0) return;
    const p = this.params.next();
    p.u32[0] = rows;
    p.u32[1] = cols;
    this.record(
      'softmaxCE',
      () => softmaxCESource,
      [logits, labels],
      [
        [losses, rows],
        [grad, rows * cols],
      ],
      p,
      grid(rows),
    );
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
    if (rows === 0) return;
    const p = this.params.next();
    p.u32[0] = rows;
    p.u32[1] = cols;
    p.f32[2] = eps;
    p.u32[3] = gamma >= 0 ? 1 : 0;
    p.u32[4] = beta >= 0 ? 1 : 0;
    const outs: [StorageId, number][] = [
      [out, rows * cols],
      [mean, rows],
      [rstd, rows],
    ];
    this.record('layerNorm', () => layerNormSource, [x, gamma, beta], outs, p, grid(rows));
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
    if (rows === 0) return;
    const p = this.params.next();
    p.u32[0] = rows;
    p.u32[1] = cols;
    p.u32[3] = gamma >= 0 ? 1 : 0;
    const withGxhat = gxhat >= 0;
    const outs: [StorageId, number][] = [[dx, rows * cols]];
    if (withGxhat) outs.push([gxhat, rows * cols]);
    this.record(
      `layerNormBackward:${withGxhat}`,
      () => layerNormBackwardSource(withGxhat),
      [g, x, gamma, mean, rstd],
      outs,
      p,
      grid(rows),
    );
  }

  softmax(x: StorageId, rows: number, cols: number, out: StorageId): void {
    if (rows * cols === 0) return;
    const p = this.params.next();
    p.u32[0] = rows;
    p.u32[1] = cols;
    this.record('softmax', () => softmaxSource, [x], [[out, rows * cols]], p, grid(rows));
  }

  softmaxBackward(y: StorageId, dy: StorageId, rows: number, cols: number, out: StorageId): void {
    if (rows * cols === 0) return;
    const p = this.params.next();
    p.u32[0] = rows;
    p.u32[1] = cols;
    this.record('softmaxBackward', () => softmaxBackwardSource, [y, dy], [[out, rows * cols]], p, grid(rows));
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
    const blocks = shape.batch * shape.heads;
    if (blocks * shape.queries === 0) return;
    const p = this.attentionParams(shape, scale);
    const outs: [StorageId, number][] = [
      [out, blocks * shape.queries * shape.valueDim],
      [probs, blocks * shape.queries * shape.keys],
    ];
    // Packed, q, k and v are one storage, bound once (the kernel reads each part at its offset).
    const packed = shape.packed === true;
    const inputs = packed ? [q] : [q, k, v];
    this.record(`attention:${packed}`, () => attentionSource(packed), inputs, outs, p, grid(blocks));
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
    const blocks = shape.batch * shape.heads;
    if (blocks === 0) return;
    const p = this.attentionParams(shape, scale);
    const { queries: T, keys: S, dim: D, valueDim: DV } = shape;
    // Packed, dq, dk and dv are one storage dqkv, bound once (WebGPU refuses overlapping writable
    // bindings) and written whole; q, k and v likewise one storage qkv.
    const packed = shape.packed === true;
    const outs: [StorageId, number][] = packed
      ? [[dq, blocks * T * 3 * D]]
      : [
          [dq, blocks * T * D],
          [dk, blocks * S * D],
          [dv, blocks * S * DV],
        ];
    const inputs = packed ? [dOut, q, probs] : [dOut, q, k, v, probs];
    this.record(
      `attentionBackward:${packed}`,
      () => attentionBackwardSource(packed),
      inputs,
      outs,
      p,
      grid(blocks),
    );
  }

  /** The attention kernels' parameter block (kernels.ts's attentionLets). */
  private attentionParams(s: AttentionShape, scale: number): ParamBlock {
    const p = this.params.next();
    p.u32.set([s.batch * s.heads, s.queries, s.keys, s.heads, s.dim, s.valueDim]);
    p.f32[6] = scale;
    return p;
  }

  sgdStep(param: StorageId, grad: StorageId, velocity: StorageId, size: number, params: SgdParams): void {
    if (size === 0) return;
    const p = this.params.next();
    p.u32[0] = size;
    p.f32[1] = params.lr;
    p.f32[2] = params.momentum;
    p.f32[3] = params.weightDecay;
    const outs: [StorageId, number][] = [[param, size]];
    if (velocity >= 0) outs.push([velocity, size]);
    const v = velocity >= 0;
    this.record(`sgd:${v}`, () => sgdSource(v), [grad], outs, p, grid(size), true);
  }

  // ---- dispatch ----

  /** Records one dispatch (Dispatcher.run), refused once the backend is disposed. */
  // ---- views and indexing (kernels-indexing.ts) ----
  copyStrided(
    x: StorageId,
    xOffset: number,
    xStrides: readonly number[],
    out: StorageId,
    outOffset: number,
    outStrides: readonly number[],
    shape: readonly number[],
  ): void {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size === 0) return;
    const c = collapseDims(shape, [xStrides, outStrides]);
    const p = this.indexingParams(size, c.shape, [c.strides[0]!, c.strides[1]!]);
    p.u32[2] = xOffset;
    p.u32[3] = outOffset;
    this.record('copyStrided', () => copyStridedSource, [x], [[out, size]], p, grid(size));
  }

  gather(
    x: StorageId,
    xStrides: readonly number[],
    dim: number,
    index: StorageId,
    out: StorageId,
    outShape: readonly number[],
  ): void {
    const size = outShape.reduce((a, b) => a * b, 1);
    if (size === 0) return;
    const p = this.indexingParams(size, outShape, [xStrides]);
    p.u32[2] = dim;
    this.record('gather', () => gatherSource, [x, index], [[out, size]], p, grid(size));
  }

  scatterAdd(
    g: StorageId,
    index: StorageId,
    indexShape: readonly number[],
    dim: number,
    out: StorageId,
    outShape: readonly number[],
  ): void {
    const size = outShape.reduce((a, b) => a * b, 1);
    if (size === 0) return;
    const p = this.indexingParams(size, outShape, [indexShape]);
    p.u32[2] = dim;
    this.record('scatterAdd', () => scatterAddSource, [g, index], [[out, size]], p, grid(size));
  }

  /** An indexing kernel's block: P0 size, P1 rank, P4… shape, P12+8j… the j-th per-axis list. */
  private indexingParams(
    size: number,
    shape: readonly number[],
    lists: readonly (readonly number[])[],
  ): ParamBlock {
    const rank = shape.length;
    if (rank > MAX_RANK) {
      throw new DropoutLabError(
        `webgpu backend: views of rank ${rank} are not supported (at most ${MAX_RANK} after merging contiguous axes).`,
      );
    }
    const p = this.params.next();
    p.u32[0] = size;
    p.u32[1] = rank;
    for (let d = 0; d < rank; d++) {
      p.u32[4 + d] = shape[d]!;
      lists.forEach((l, j) => (p.u32[12 + 8 * j + d] = l[d]!));
    }
    return p;
  }

  private record(...args: Parameters<Dispatcher['run']>): void {
    if (this.disposed) throw new DropoutLabError('webgpu backend: used after dispose().');
    this.dispatcher.run(...args);
  }

  private throwIfFailed(): void {
    if (this.gpuError !== null) {
      const message = this.gpuError;
      this.gpuError = null;
      throw new DropoutLabError(`webgpu backend: the GPU reported an error: ${message.split('\n')[0]}`);
    }
  }
}
