/**
 * GPU storage, its reuse and its transfers: storage ids mapped to buffers, and freed buffers kept by size class for
 * the next allocation of that class (a training step allocates the same shapes every step, and
 * creating GPU buffers is slow), up to POOL_LIMIT_BYTES; beyond it they are destroyed once the
 * recorded work no longer uses them. Read-back staging buffers are pooled the same way. A reused
 * buffer owes a zero-fill, deferred until its contents are read and skipped when they are overwritten.
 * Uploads and read-backs go through the recorder so they stay ordered with the recorded kernels.
 */
import type { MemoryInfo, StorageId } from '../backend.js';
import { DropoutLabError } from '../../errors.js';
import { sizeClass } from '../sizeClass.js';
import { MAP_MODE_READ, USAGE_COPY_DST, USAGE_COPY_SRC, USAGE_MAP_READ, USAGE_STORAGE } from './flags.js';
import type { Recorder } from './recorder.js';

/** Bytes of freed buffers kept for reuse before extra ones are destroyed. */
const POOL_LIMIT_BYTES = 512 * 1024 * 1024;

/**
 * Rounds a byte count up to its buffer size: sizeClass with a 256-byte minimum and 8 classes per
 * octave, so reuse wastes at most 12.5% and a pool of a few classes serves a training step's tensors.
 */
export function bufferSize(bytes: number): number {
  return sizeClass(bytes, 256, 8);
}

/** One storage id's buffer. */
export interface Storage {
  readonly buffer: GPUBuffer;
  /** Capacity in bytes (the size class). */
  readonly capacity: number;
  /** Elements requested. */
  readonly size: number;
  /** A zero-fill is owed before the contents are read (deferred until needed, skipped when overwritten). */
  clear: boolean;
}

/** Storage ids, the reuse pool and the staging pool of one device; see the file comment. */
export class BufferPool {
  private readonly store = new Map<StorageId, Storage>();
  private nextId = 1;
  private liveBytes = 0;
  private readonly pool = new Map<number, GPUBuffer[]>();
  private readonly stagingPool = new Map<number, GPUBuffer[]>();
  /** Buffers and bytes kept in the reuse pool. */
  pooledBytes = 0;
  pooledBuffers = 0;

  /** Buffers live on `device`; `recorder` defers destroying those the recorded work still uses. */
  constructor(
    private readonly device: GPUDevice,
    private readonly recorder: Recorder,
  ) {}

  /** Storage for `size` float32 elements; a reused buffer owes a zero-fill when `zeroed`. */
  alloc(size: number, zeroed: boolean): StorageId {
    const capacity = bufferSize(size * 4);
    let buffer = this.pool.get(capacity)?.pop();
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

  /** Returns storage to the pool (or destroys its buffer past the pool's limit). */
  free(id: StorageId): void {
    const s = this.store.get(id);
    if (s === undefined) return;
    this.store.delete(id);
    this.liveBytes -= s.size * 4;
    if (this.pooledBytes + s.capacity > POOL_LIMIT_BYTES) {
      this.recorder.later(() => s.buffer.destroy());
      return;
    }
    let list = this.pool.get(s.capacity);
    if (list === undefined) this.pool.set(s.capacity, (list = []));
    list.push(s.buffer);
    this.pooledBytes += s.capacity;
    this.pooledBuffers++;
  }

  /** The storage of a live id. */
  storage(id: StorageId): Storage {
    const s = this.store.get(id);
    if (s === undefined)
      throw new DropoutLabError(`webgpu backend: storage ${id} was freed or never allocated.`);
    return s;
  }

  /** Copies `data` into storage at element `offset`, ordered after the work recorded so far. */
  upload(id: StorageId, data: ArrayLike<number>, offset: number): void {
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
    if (this.recorder.commands === 0) {
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
    this.recorder.copy(staging, s.buffer, arr.byteLength, offset * 4);
    this.recorder.later(() => staging.destroy());
  }

  /**
   * Reads `size` elements back through a pooled staging buffer, submitting the recorded work first;
   * `check` throws the error the GPU reported, if any.
   */
  async readBack(id: StorageId, size: number, check: () => void): Promise<Float32Array> {
    const s = this.storage(id);
    if (size > s.size) throw new DropoutLabError(`webgpu backend: reading ${size} values of ${s.size}.`);
    if (size === 0) return new Float32Array(0);
    if (s.clear && this.recorder.commands === 0) return new Float32Array(size);
    this.resolveClear(s);
    const bytes = size * 4;
    const capacity = bufferSize(bytes);
    const staging = this.staging(capacity);
    this.recorder.copy(s.buffer, staging, bytes);
    this.recorder.flush();
    try {
      await staging.mapAsync(MAP_MODE_READ, 0, bytes);
    } catch (error) {
      check();
      throw new DropoutLabError(`webgpu backend: reading a buffer failed: ${(error as Error).message}`);
    }
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    this.returnStaging(capacity, staging);
    check();
    return out;
  }

  /** Records the zero-fill a reused buffer owes, before its contents are read or partly written. */
  resolveClear(s: Storage): void {
    if (!s.clear) return;
    s.clear = false;
    this.recorder.clear(s.buffer, s.capacity);
  }

  /** Live storage, for leak tests. */
  memory(): MemoryInfo {
    return { buffers: this.store.size, bytes: this.liveBytes };
  }

  /** A mappable staging buffer of `capacity` bytes (a size class) for a read-back. */
  private staging(capacity: number): GPUBuffer {
    return (
      this.stagingPool.get(capacity)?.pop() ??
      this.device.createBuffer({ size: capacity, usage: USAGE_MAP_READ | USAGE_COPY_DST })
    );
  }

  /** Returns an unmapped staging buffer from staging(capacity). */
  private returnStaging(capacity: number, buffer: GPUBuffer): void {
    let list = this.stagingPool.get(capacity);
    if (list === undefined) this.stagingPool.set(capacity, (list = []));
    list.push(buffer);
  }
}
