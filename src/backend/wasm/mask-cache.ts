/**
 * Keep masks of recent dropout calls, one bit per element, by stream, threshold and size. A stream
 * names its mask exactly (Philox is a function of key and counter), so when the same stream comes
 * again — the dropout primitive's backward pass re-applies its forward mask to the gradient — the
 * mask is read back instead of re-drawn: a memory-bound pass instead of ten Philox rounds per four
 * elements. The buffers live in the wasm heap, where the kernels write and read them.
 */
import type { RandomStream } from '../../random/stream.js';
import type { WasmHeap } from './heap.js';

/** Dropout masks kept for re-use (a forward mask waits for its backward pass; two per layer). */
const MASK_CACHE_ENTRIES = 8;

interface Slot {
  readonly ptr: number;
  readonly bytes: number;
}

/** Recent dropout masks in the heap, oldest evicted first; see the file comment. */
export class MaskCache {
  private readonly slots = new Map<string, Slot>();

  /** Masks live in `heap`. */
  constructor(private readonly heap: WasmHeap) {}

  /** The cache key of a dropout draw. */
  static key(stream: RandomStream, bits: number, size: number): string {
    return `${stream.key[0]}:${stream.key[1]}:${stream.offset}:${bits}:${size}`;
  }

  /** Pointer to the mask bits stored for `key`, or undefined when it must be drawn. */
  get(key: string): number | undefined {
    return this.slots.get(key)?.ptr;
  }

  /** A mask buffer for `key` of `size` elements (evicting the oldest entry, whose buffer is reused). */
  slot(key: string, size: number): number {
    // Two bytes per 16 elements: kernels write masks in 16-element (four Philox block) groups.
    const bytes = Math.ceil(size / 16) * 2;
    let slot: Slot | undefined;
    if (this.slots.size >= MASK_CACHE_ENTRIES) {
      const oldest = this.slots.keys().next().value as string;
      slot = this.slots.get(oldest);
      this.slots.delete(oldest);
      if (slot !== undefined && slot.bytes < bytes) {
        this.heap.freeBytes(slot.ptr, slot.bytes);
        slot = undefined;
      }
    }
    slot ??= { ptr: this.heap.allocBytes(bytes), bytes };
    this.slots.set(key, slot);
    return slot.ptr;
  }
}
