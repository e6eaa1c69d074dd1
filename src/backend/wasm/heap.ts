/**
 * Tensor storage in the wasm linear memory: storage ids mapped to blocks of the size-class allocator,
 * and the typed-array views over the memory, remade whenever it grows (a grown buffer detaches the
 * old views). Everything else in the backend reaches memory through this one object, so no stale view
 * survives a growth.
 */
import type { MemoryInfo, StorageId } from '../backend.js';
import { SizeClassAllocator } from './allocator.js';

interface Block {
  readonly ptr: number;
  readonly size: number;
}

/** Storage ids over a wasm memory; see the file comment. */
export class WasmHeap {
  /** Float32 view of the whole memory (remade on growth). */
  f32: Float32Array;
  /** Int32 view of the whole memory (remade on growth). */
  i32: Int32Array;
  private readonly allocator: SizeClassAllocator;
  private readonly blocks = new Map<StorageId, Block>();
  private nextId = 1;
  private liveBytes = 0;

  /** Storage starts at `base` (the kernels' heap base) in `memory`. */
  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.f32 = new Float32Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
    this.allocator = new SizeClassAllocator(memory, base, () => {
      this.f32 = new Float32Array(this.memory.buffer);
      this.i32 = new Int32Array(this.memory.buffer);
    });
  }

  /** Bytes the allocator has handed out (live plus free-listed); flat in steady state. */
  get heapBytes(): number {
    return this.allocator.heapBytes;
  }

  /** A raw block of `bytes` (workspaces, masks, the control block); return it with freeBytes. */
  allocBytes(bytes: number): number {
    return this.allocator.alloc(bytes);
  }

  /** Returns a block from allocBytes(bytes). */
  freeBytes(ptr: number, bytes: number): void {
    this.allocator.free(ptr, bytes);
  }

  /** Storage for `size` float32 elements, zeroed unless the caller overwrites all of it. */
  alloc(size: number, zeroed: boolean): StorageId {
    const ptr = this.allocator.alloc(Math.max(1, size) * 4);
    // Reused blocks hold old data: zero them unless the caller overwrites every element anyway.
    if (zeroed) this.f32.fill(0, ptr >>> 2, (ptr >>> 2) + Math.max(1, size));
    const id = this.nextId++;
    this.blocks.set(id, { ptr, size });
    this.liveBytes += size * 4;
    return id;
  }

  /** Releases storage (a second free of the same id is a no-op). */
  free(id: StorageId): void {
    const b = this.blocks.get(id);
    if (b === undefined) return;
    this.blocks.delete(id);
    this.allocator.free(b.ptr, Math.max(1, b.size) * 4);
    this.liveBytes -= b.size * 4;
  }

  /** The block of a live storage id. */
  block(id: StorageId): Block {
    const b = this.blocks.get(id);
    if (b === undefined) throw new Error(`wasm backend: storage ${id} was freed or never allocated`);
    return b;
  }

  /** Byte offset of a live storage id. */
  ptr(id: StorageId): number {
    return this.block(id).ptr;
  }

  /** Live storage, for leak tests. */
  memoryInfo(): MemoryInfo {
    return { buffers: this.blocks.size, bytes: this.liveBytes };
  }
}
