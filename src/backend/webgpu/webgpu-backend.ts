/**
 * The WebGPU backend: tensors live in GPU storage buffers, every Backend method is a WGSL compute
 * kernel (src/backend/webgpu/kernels.ts), and kernels are recorded, not run: dispatches go into one
 * command encoder and are submitted lazily, when a value is read (`read`), when the per-batch
 * parameter arena is full, or on `flush()`. So a whole training step is one or two command buffers
 * and the only GPU→CPU transfer is the loss the trainer awaits.
 *
 * Reads are asynchronous (a staging buffer is copied into and mapped); `readSync` throws and tells
 * the caller to `await t.data()`. Random draws and dropout masks reproduce the reference backend's
 * Philox4x32-10 stream bit for bit (src/random/philox.ts).
 */
import { collapseDims } from '../strides.js';
import type {
  Backend,
  BinaryOp,
  MatmulEpilogue,
  MemoryInfo,
  RandomDist,
  RandomStream,
  ReduceOp,
  SgdParams,
  StorageId,
  UnaryOp,
} from '../backend.js';
import { DropoutLabError } from '../../errors.js';
import type { WebGPUNodeModule } from './gpu-types.js';
import {
  MAX_RANK,
  PARAM_WORDS,
  WG,
  argmaxSource,
  binarySource,
  dropoutSource,
  fillSource,
  matmulSource,
  normalSource,
  reduceSource,
  reduceTreeSource,
  sgdSource,
  softmaxCESource,
  uniformSource,
  unarySource,
  whereSource,
} from './kernels.js';

// WebGPU flag values (spelled out so the backend does not depend on the GPUBufferUsage globals).
const USAGE_MAP_READ = 0x1;
const USAGE_COPY_SRC = 0x4;
const USAGE_COPY_DST = 0x8;
const USAGE_UNIFORM = 0x40;
const USAGE_STORAGE = 0x80;
const MAP_MODE_READ = 0x1;
const STAGE_COMPUTE = 0x4;

/** Bytes of one kernel's parameter block (the minimum uniform dynamic-offset alignment). */
const PARAM_BYTES = PARAM_WORDS * 4;
/** Parameter blocks per batch: the batch is submitted when they run out. */
const PARAM_SLOTS = 1024;
/** Largest workgroup count per grid dimension guaranteed by WebGPU. */
const MAX_GROUPS = 65535;
/** Bytes of freed buffers kept for reuse before extra ones are destroyed. */
const POOL_LIMIT_BYTES = 512 * 1024 * 1024;

/** Options of createWebGPUBackend. */
export interface WebGPUBackendOptions {
  /** Adapter to use; by default one is requested from navigator.gpu (or the `webgpu` package in Node). */
  readonly adapter?: GPUAdapter | undefined;
  /** Adapter preference when requesting one. */
  readonly powerPreference?: GPUPowerPreference | undefined;
}

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

/**
 * Size class of an allocation: 256 bytes minimum, then steps of 1/16 of the next power of two, so
 * reuse wastes at most 12.5% and a pool of a few classes serves a training step's tensors.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const pow = 2 ** Math.ceil(Math.log2(bytes));
  const step = Math.max(256, pow / 16);
  return Math.ceil(bytes / step) * step;
}

interface Storage {
  readonly buffer: GPUBuffer;
  /** Capacity in bytes (the size class). */
  readonly capacity: number;
  /** Elements requested. */
  readonly size: number;
  /** A zero-fill is owed before the contents are read (deferred until needed, skipped when overwritten). */
  clear: boolean;
}

interface Kernel {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

interface ParamBlock {
  readonly slot: number;
  readonly u32: Uint32Array;
  readonly f32: Float32Array;
}

/** The WebGPU implementation of Backend; create it with `createWebGPUBackend`. */
export class WebGPUBackend implements Backend {
  readonly name = 'webgpu';
  readonly syncRead = false;

  private readonly store = new Map<StorageId, Storage>();
  private nextId = 1;
  private liveBytes = 0;
  private readonly pool = new Map<number, GPUBuffer[]>();
  private pooledBytes = 0;
  private pooledBuffers = 0;
  private readonly stagingPool = new Map<number, GPUBuffer[]>();

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private commands = 0;
  private readonly paramBuffer: GPUBuffer;
  private readonly paramData = new ArrayBuffer(PARAM_SLOTS * PARAM_BYTES);
  private paramSlots = 0;
  private afterSubmit: (() => void)[] = [];

  private readonly kernels = new Map<string, Kernel>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly placeholder: GPUBuffer;
  private gpuError: string | null = null;
  private submits = 0;
  private dispatches = 0;
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
    this.paramBuffer = device.createBuffer({
      size: PARAM_SLOTS * PARAM_BYTES,
      usage: USAGE_UNIFORM | USAGE_COPY_DST,
    });
    this.placeholder = device.createBuffer({ size: 256, usage: USAGE_STORAGE });
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
    const capacity = sizeClass(size * 4);
    const free = this.pool.get(capacity);
    let buffer = free?.pop();
    let clear = false;
    if (buffer !== undefined) {
      this.pooledBytes -= capacity;
      this.pooledBuffers--;
      clear = zeroed;
    } else {
      // New buffers are zero-initialised by WebGPU.
      buffer = this.device.createBuffer({
        size: capacity,
        usage: USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST,
      });
    }
    const id = this.nextId++;
    this.store.set(id, { buffer, capacity, size, clear });
    this.liveBytes += size * 4;
    return id;
  }

  free(id: StorageId): void {
    const s = this.store.get(id);
    if (s === undefined) return;
    this.store.delete(id);
    this.liveBytes -= s.size * 4;
    if (this.pooledBytes + s.capacity > POOL_LIMIT_BYTES) {
      this.later(() => s.buffer.destroy());
      return;
    }
    let list = this.pool.get(s.capacity);
    if (list === undefined) this.pool.set(s.capacity, (list = []));
    list.push(s.buffer);
    this.pooledBytes += s.capacity;
    this.pooledBuffers++;
  }

  write(id: StorageId, data: ArrayLike<number>, offset = 0): void {
    const s = this.storage(id);
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    if (arr.length === 0) return;
    if (offset + arr.length > s.size) {
      throw new DropoutLabError(
        `webgpu backend: writing ${arr.length} values at ${offset} overflows storage of ${s.size}.`,
      );
    }
    if (s.clear) {
      if (offset === 0 && arr.length >= s.size) s.clear = false;
      else this.resolveClear(s);
    }
    if (this.commands === 0) {
      // Nothing recorded yet: the queue write is ordered before everything recorded later.
      this.device.queue.writeBuffer(s.buffer, offset * 4, arr.buffer, arr.byteOffset, arr.byteLength);
      return;
    }
    // Recorded work may still read or write this buffer: copy through the encoder to keep order.
    const staging = this.device.createBuffer({
      size: arr.byteLength,
      usage: USAGE_COPY_SRC,
      mappedAtCreation: true,
    });
    new Float32Array(staging.getMappedRange()).set(arr);
    staging.unmap();
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(staging, 0, s.buffer, offset * 4, arr.byteLength);
    this.commands++;
    this.later(() => staging.destroy());
  }

  readSync(_id: StorageId, _size: number): Float32Array {
    throw new DropoutLabError(
      'the webgpu backend reads asynchronously; use `await t.data()` (or `await t.array()`) instead of dataSync(), item() or toArray().',
    );
  }

  async read(id: StorageId, size: number): Promise<Float32Array> {
    const s = this.storage(id);
    if (size > s.size) throw new DropoutLabError(`webgpu backend: reading ${size} values of ${s.size}.`);
    if (size === 0) return new Float32Array(0);
    if (s.clear && this.commands === 0) return new Float32Array(size);
    this.resolveClear(s);
    const bytes = size * 4;
    const capacity = sizeClass(bytes);
    const staging =
      this.stagingPool.get(capacity)?.pop() ??
      this.device.createBuffer({ size: capacity, usage: USAGE_MAP_READ | USAGE_COPY_DST });
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(s.buffer, 0, staging, 0, bytes);
    this.commands++;
    this.flush();
    try {
      await staging.mapAsync(MAP_MODE_READ, 0, bytes);
    } catch (error) {
      this.throwIfFailed();
      throw new DropoutLabError(`webgpu backend: reading a buffer failed: ${(error as Error).message}`);
    }
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    let list = this.stagingPool.get(capacity);
    if (list === undefined) this.stagingPool.set(capacity, (list = []));
    list.push(staging);
    this.throwIfFailed();
    return out;
  }

  memory(): MemoryInfo {
    return { buffers: this.store.size, bytes: this.liveBytes };
  }

  /** Submit and pool counters. */
  stats(): WebGPUStats {
    return {
      submits: this.submits,
      dispatches: this.dispatches,
      pooledBuffers: this.pooledBuffers,
      pooledBytes: this.pooledBytes,
    };
  }

  /** Submits the recorded work (reads do this themselves). */
  flush(): void {
    if (this.commands === 0) return;
    this.endPass();
    if (this.paramSlots > 0) {
      this.device.queue.writeBuffer(this.paramBuffer, 0, this.paramData, 0, this.paramSlots * PARAM_BYTES);
    }
    this.device.queue.submit([this.encoder!.finish()]);
    this.submits++;
    this.encoder = null;
    this.commands = 0;
    this.paramSlots = 0;
    const pending = this.afterSubmit;
    this.afterSubmit = [];
    for (const f of pending) f();
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
    const p = this.params();
    p.u32[0] = size;
    p.f32[2] = value;
    this.run('fill', () => fillSource, [], [[out, size]], p, this.grid(size));
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
    const c = collapseDims(outShape, [xStrides]);
    const p = this.stridedParams(size, c);
    this.run(`unary:${op}`, () => unarySource(op), [x], [[out, size]], p, this.grid(size));
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
    const c = collapseDims(outShape, [aStrides, bStrides]);
    const p = this.stridedParams(size, c);
    this.run(`binary:${op}`, () => binarySource(op), [a, b], [[out, size]], p, this.grid(size));
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
    const c = collapseDims(outShape, [condStrides, aStrides, bStrides]);
    const p = this.stridedParams(size, c);
    this.run('where', () => whereSource, [cond, a, b], [[out, size]], p, this.grid(size));
  }

  reduce(op: ReduceOp, x: StorageId, outer: number, reduce: number, inner: number, out: StorageId): void {
    const outputs = outer * inner;
    if (outputs === 0) return;
    const p = this.params();
    p.u32[0] = outer;
    p.u32[1] = reduce;
    p.u32[2] = inner;
    p.u32[3] = op === 'max' ? 1 : 0;
    // Few outputs with long reductions: a workgroup per output; otherwise a thread per output.
    if (reduce >= 64 && outputs < 4096) {
      this.run('reduceTree', () => reduceTreeSource, [x], [[out, outputs]], p, this.groups(outputs));
    } else {
      this.run('reduce', () => reduceSource, [x], [[out, outputs]], p, this.grid(outputs));
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
    const p = this.params();
    p.u32[0] = m;
    p.u32[1] = n;
    p.u32[2] = k;
    const bias = epilogue !== undefined && epilogue.bias >= 0 ? epilogue.bias : -1;
    p.u32[3] = (bias >= 0 ? 1 : 0) | (epilogue?.relu === true ? 2 : 0);
    this.run(
      `matmul:${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`,
      () => matmulSource(transA, transB),
      [a, b, bias],
      [[out, m * n]],
      p,
      [gx, gy],
    );
  }

  argmax(x: StorageId, rows: number, cols: number, out: StorageId): void {
    if (rows === 0) return;
    const p = this.params();
    p.u32[0] = rows;
    p.u32[1] = cols;
    this.run('argmax', () => argmaxSource, [x], [[out, rows]], p, this.grid(rows));
  }

  random(dist: RandomDist, stream: RandomStream, out: StorageId, size: number): void {
    if (size === 0) return;
    const p = this.streamParams(size, stream);
    const threads = dist === 'uniform' ? Math.ceil(size / 4) : Math.ceil(size / 2);
    const source = dist === 'uniform' ? uniformSource : normalSource;
    this.run(`random:${dist}`, () => source, [], [[out, size]], p, this.grid(threads));
  }

  dropout(x: StorageId, stream: RandomStream, p: number, out: StorageId, size: number): void {
    if (size === 0) return;
    const params = this.streamParams(size, stream);
    // u = (w >>> 8)·2^-24 >= p  ⟺  (w >>> 8) >= ceil(p·2^24) (p·2^24 is exact in float64).
    params.u32[5] = Math.min(Math.max(Math.ceil(p * 16777216), 0), 16777216);
    params.f32[6] = Math.fround(1 / (1 - p));
    this.run('dropout', () => dropoutSource, [x], [[out, size]], params, this.grid(Math.ceil(size / 4)));
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
    const p = this.params();
    p.u32[0] = rows;
    p.u32[1] = cols;
    this.run(
      'softmaxCE',
      () => softmaxCESource,
      [logits, labels],
      [
        [losses, rows],
        [grad, rows * cols],
      ],
      p,
      this.grid(rows),
    );
  }

  sgdStep(param: StorageId, grad: StorageId, velocity: StorageId, size: number, params: SgdParams): void {
    if (size === 0) return;
    const p = this.params();
    p.u32[0] = size;
    p.f32[1] = params.lr;
    p.f32[2] = params.momentum;
    p.f32[3] = params.weightDecay;
    const outs: [StorageId, number][] = [[param, size]];
    if (velocity >= 0) outs.push([velocity, size]);
    const v = velocity >= 0;
    this.run(`sgd:${v}`, () => sgdSource(v), [grad], outs, p, this.grid(size), true);
  }

  // ---- recording machinery ----

  private storage(id: StorageId): Storage {
    const s = this.store.get(id);
    if (s === undefined)
      throw new DropoutLabError(`webgpu backend: storage ${id} was freed or never allocated.`);
    return s;
  }

  private throwIfFailed(): void {
    if (this.gpuError !== null) {
      const message = this.gpuError;
      this.gpuError = null;
      throw new DropoutLabError(`webgpu backend: the GPU reported an error: ${message.split('\n')[0]}`);
    }
  }

  private later(f: () => void): void {
    if (this.commands === 0) f();
    else this.afterSubmit.push(f);
  }

  private commandEncoder(): GPUCommandEncoder {
    if (this.encoder === null) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  private endPass(): void {
    if (this.pass !== null) {
      this.pass.end();
      this.pass = null;
    }
  }

  private resolveClear(s: Storage): void {
    if (!s.clear) return;
    s.clear = false;
    this.endPass();
    this.commandEncoder().clearBuffer(s.buffer, 0, s.capacity);
    this.commands++;
  }

  /** A fresh parameter block in the batch's arena (submitting the batch first when it is full). */
  private params(): ParamBlock {
    if (this.paramSlots === PARAM_SLOTS) this.flush();
    const slot = this.paramSlots++;
    const u32 = new Uint32Array(this.paramData, slot * PARAM_BYTES, PARAM_WORDS);
    u32.fill(0);
    u32[62] = 0x7fc00000; // NaN
    u32[63] = 0xff800000; // -Infinity
    return { slot, u32, f32: new Float32Array(this.paramData, slot * PARAM_BYTES, PARAM_WORDS) };
  }

  private stridedParams(size: number, c: { shape: number[]; strides: number[][] }): ParamBlock {
    const rank = c.shape.length;
    if (rank > MAX_RANK) {
      throw new DropoutLabError(
        `webgpu backend: strided views of rank ${rank} are not supported (at most ${MAX_RANK} after merging contiguous axes).`,
      );
    }
    const p = this.params();
    p.u32[0] = size;
    p.u32[1] = rank;
    // Rank 0 (one element) and rank 1 with unit strides index every input by the output index.
    const contiguous = c.strides.every((s) => rank === 0 || (rank === 1 && s[0] === 1));
    p.u32[3] = contiguous ? 1 : 0;
    for (let d = 0; d < rank; d++) {
      p.u32[4 + d] = c.shape[d]!;
      c.strides.forEach((s, j) => (p.u32[12 + 8 * j + d] = s[d]!));
    }
    return p;
  }

  private streamParams(size: number, stream: RandomStream): ParamBlock {
    const p = this.params();
    p.u32[0] = size;
    p.u32[1] = stream.offset % 4294967296;
    p.u32[2] = Math.floor(stream.offset / 4294967296);
    p.u32[3] = stream.key[0];
    p.u32[4] = stream.key[1];
    return p;
  }

  /** Workgroups for one thread per item, folded into 2-D past the per-dimension limit. */
  private grid(threads: number): [number, number] {
    return this.groups(Math.ceil(threads / WG));
  }

  private groups(count: number): [number, number] {
    if (count <= MAX_GROUPS) return [count, 1];
    return [MAX_GROUPS, Math.ceil(count / MAX_GROUPS)];
  }

  private kernel(key: string, source: () => string, inputs: number, outputs: number): Kernel {
    let k = this.kernels.get(key);
    if (k !== undefined) return k;
    const layoutKey = `${inputs}:${outputs}`;
    let layout = this.layouts.get(layoutKey);
    if (layout === undefined) {
      const entries: GPUBindGroupLayoutEntry[] = [
        {
          binding: 0,
          visibility: STAGE_COMPUTE,
          buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: PARAM_BYTES },
        },
      ];
      for (let i = 0; i < inputs + outputs; i++) {
        entries.push({
          binding: i + 1,
          visibility: STAGE_COMPUTE,
          buffer: { type: i < inputs ? 'read-only-storage' : 'storage' },
        });
      }
      layout = this.device.createBindGroupLayout({ entries });
      this.layouts.set(layoutKey, layout);
    }
    const module = this.device.createShaderModule({ code: source(), label: key });
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    k = { pipeline, layout };
    this.kernels.set(key, k);
    return k;
  }

  /**
   * Records one dispatch. Inputs are storage ids (-1 binds a placeholder); outputs are [id, elements
   * written]. An output that is also an input is computed into a scratch buffer and copied back, since
   * WebGPU forbids binding one buffer as read-only and writable in the same dispatch. `readsOutputs`
   * marks kernels that read their outputs (SGD), which then need owed zero-fills done first.
   */
  private run(
    key: string,
    source: () => string,
    inputs: readonly StorageId[],
    outputs: readonly (readonly [StorageId, number])[],
    p: ParamBlock,
    groups: readonly [number, number],
    readsOutputs = false,
  ): void {
    if (this.disposed) throw new DropoutLabError('webgpu backend: used after dispose().');
    const kernel = this.kernel(key, source, inputs.length, outputs.length);
    const inBuffers = inputs.map((id) => {
      if (id < 0) return this.placeholder;
      const s = this.storage(id);
      this.resolveClear(s);
      return s.buffer;
    });
    const copies: [GPUBuffer, GPUBuffer, number, StorageId][] = [];
    const outBuffers = outputs.map(([id, written]) => {
      const s = this.storage(id);
      if (readsOutputs || written < s.size) this.resolveClear(s);
      else s.clear = false;
      if (!inputs.includes(id)) return s.buffer;
      const scratch = this.alloc(s.size, false);
      const buffer = this.storage(scratch).buffer;
      copies.push([buffer, s.buffer, written * 4, scratch]);
      return buffer;
    });
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.paramBuffer, size: PARAM_BYTES } },
    ];
    [...inBuffers, ...outBuffers].forEach((buffer, i) =>
      entries.push({ binding: i + 1, resource: { buffer } }),
    );
    const bindGroup = this.device.createBindGroup({ layout: kernel.layout, entries });
    const encoder = this.commandEncoder();
    if (this.pass === null) this.pass = encoder.beginComputePass();
    this.pass.setPipeline(kernel.pipeline);
    this.pass.setBindGroup(0, bindGroup, [p.slot * PARAM_BYTES]);
    this.pass.dispatchWorkgroups(groups[0], groups[1]);
    this.commands++;
    this.dispatches++;
    if (copies.length > 0) {
      this.endPass();
      for (const [from, to, bytes, scratch] of copies) {
        encoder.copyBufferToBuffer(from, 0, to, 0, bytes);
        this.free(scratch);
      }
    }
  }
}

/** Finds navigator.gpu: the browser's, or in Node the `webgpu` package's (Dawn), imported on demand. */
async function findGPU(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu !== undefined) return nav.gpu;
  const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
  if (!isNode) {
    throw new DropoutLabError(
      'WebGPU is not available in this browser (navigator.gpu is missing); use a WebGPU-enabled browser or the wasm backend.',
    );
  }
  // A variable specifier keeps bundlers and TypeScript from resolving the optional package.
  const specifier = 'webgpu';
  let mod: WebGPUNodeModule;
  try {
    mod = (await import(/* @vite-ignore */ specifier)) as WebGPUNodeModule;
  } catch (error) {
    throw new DropoutLabError(
      `the webgpu backend needs the optional 'webgpu' package in Node (npm install webgpu), which could not be loaded: ${firstLine(error)}`,
    );
  }
  try {
    return mod.create([]);
  } catch (error) {
    throw new DropoutLabError(`the 'webgpu' package could not create a GPU instance: ${firstLine(error)}`);
  }
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!;
}

/**
 * Creates the WebGPU backend on the given adapter or on one requested from navigator.gpu (in Node
 * from the `webgpu` package). Rejects with a one-line DropoutLabError when WebGPU or an adapter is
 * unavailable.
 */
export async function createWebGPUBackend(opts: WebGPUBackendOptions = {}): Promise<WebGPUBackend> {
  let adapter = opts.adapter ?? null;
  let gpu: GPU | null = null;
  if (adapter === null) {
    gpu = await findGPU();
    try {
      adapter = await gpu.requestAdapter(
        opts.powerPreference !== undefined ? { powerPreference: opts.powerPreference } : undefined,
      );
    } catch (error) {
      throw new DropoutLabError(`no WebGPU adapter: requestAdapter failed: ${firstLine(error)}`);
    }
    if (adapter === null) {
      throw new DropoutLabError(
        'no WebGPU adapter is available (no GPU, or no Vulkan/Metal/D3D12 driver; on Linux without a GPU install Mesa lavapipe); use the wasm backend.',
      );
    }
  }
  const limits = adapter.limits;
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
      },
    });
  } catch (error) {
    throw new DropoutLabError(`the WebGPU adapter refused to create a device: ${firstLine(error)}`);
  }
  return new WebGPUBackend(device, gpu);
}
