import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sizeClass } from '../../../src/backend/sizeClass.js';

/** The definition: ceil(log2) for the octave, then perOctave steps (never below min). */
function byLog2(bytes: number, min: number, perOctave: number): number {
  if (bytes <= min) return min;
  const pow = 2 ** Math.ceil(Math.log2(bytes));
  const step = Math.max(min, pow / (2 * perOctave));
  return Math.ceil(bytes / step) * step;
}

describe('sizeClass', () => {
  it('takes the octave from clz32 exactly as ceil(log2) does', () => {
    const sizes: number[] = [];
    for (let b = 0; b <= 70000; b++) sizes.push(b);
    for (let e = 1; e <= 33; e++) for (const d of [-3, -1, 0, 1, 3]) sizes.push(2 ** e + d);
    sizes.push(784 * 256 * 4, 2 ** 31 - 64, 3 * 2 ** 30, 1.5, 100.25);
    for (const [min, perOctave] of [
      [64, 4],
      [256, 4],
      [4, 8],
    ] as const) {
      for (const b of sizes) {
        assert.equal(sizeClass(b, min, perOctave), byLog2(b, min, perOctave), `${b} bytes, min ${min}`);
      }
    }
  });
});
