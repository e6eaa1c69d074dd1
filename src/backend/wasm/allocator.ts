/**
 * A size-class allocator over a WebAssembly.Memory. Freed blocks go on a free list per size class
 * and are reused first, so a training loop that allocates the same shapes every step reaches a
 * steady state with no growth. Classes are 2^e · {1, 1.25, 1.5, 1.75} (at most 25% waste), 64-byte
 * aligned so SIMD loads never straddle a cache line needlessly.
 */

import { sizeClass } from '../sizeClass.js';

const ALIGN = 64;
const PAGE = 65536;

/** Rounds a byte count up to its block size: sizeClass with 64-byte alignment, 4 classes per octave. */
export function blockSize(bytes: number): number {
  return sizeClass(bytes, ALIGN, 4);
}

/** Pointer allocator over wasm linear memory with per-size-class free lists; see the file comment. */
export class SizeClassAllocator {
  private top: number;
  private readonly freeLists = new Map<number, number[]>();

  /** `base` is the first usable byte; `onGrow` runs after the memory grows (views must be refreshed). */
  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
    private readonly onGrow: () => void,
  ) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  /** Bytes of linear memory in use or on free lists (the high-water mark). */
  get heapBytes(): number {
    return this.top;
  }

  /** Returns a 64-byte aligned block of at least `bytes` bytes; its size is blockSize(bytes). */
  alloc(bytes: number): number {
    const cls = blockSize(bytes);
    const list = this.freeLists.get(cls);
    if (list !== undefined && list.length > 0) return list.pop()!;
    const ptr = this.top;
    const end = ptr + cls;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // Grow by at least 1/4 of the current size so a growing model does not grow once per tensor.
      const pages = Math.max(Math.ceil((end - have) / PAGE), Math.ceil(have / PAGE / 4));
      this.memory.grow(pages);
      this.onGrow();
    }
    this.top = end;
    return ptr;
  }

  /** Returns a block obtained from alloc(bytes) to its free list. */
  free(ptr: number, bytes: number): void {
    const cls = blockSize(bytes);
    let list = this.freeLists.get(cls);
    if (list === undefined) this.freeLists.set(cls, (list = []));
    list.push(ptr);
  }
}
