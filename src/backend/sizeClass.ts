/**
 * Size classes shared by the backends' buffer reuse (the wasm allocator's free lists, the WebGPU
 * buffer pool): a request is rounded up so that freed blocks of one class serve every request of
 * that class, and a training step's repeated shapes reach a steady state without growth.
 */

/**
 * Rounds `bytes` up to its class: `min` at least, then `perOctave` equal steps between consecutive
 * powers of two, so reuse wastes at most 1/perOctave; every class is a multiple of `min` (a power of two).
 */
export function sizeClass(bytes: number, min: number, perOctave: number): number {
  if (bytes <= min) return min;
  // The power of two at or above bytes: from clz32 for integers up to 2³¹, where it is exactly
  // ceil(log2(bytes)) (every allocation and free asks, and Math.log2 showed in a training step's JS
  // profile); by log2 beyond.
  const pow =
    Number.isInteger(bytes) && bytes <= 2 ** 31
      ? 2 ** (32 - Math.clz32(bytes - 1))
      : 2 ** Math.ceil(Math.log2(bytes));
  const step = Math.max(min, pow / (2 * perOctave));
  return Math.ceil(bytes / step) * step;
}
