/**
 * Philox4x32-10, the counter-based generator of Salmon et al., "Parallel Random Numbers: As Easy as
 * 1, 2, 3" (SC 2011, https://doi.org/10.1145/2063384.2063405). A pure function of (key, counter): no
 * sequential state, so element i of a random tensor is the same whichever thread or kernel computes it.
 *
 * Stream layout shared by every backend (see RandomStream in stream.ts):
 * - uniform element i: block b = offset + floor(i / 4), counter [b mod 2^32, floor(b / 2^32), 0, 0],
 *   word i % 4, mapped to [0, 1) as (u >>> 8) · 2^-24 (exact in float32).
 * - normal element i: block b = offset + floor(i / 2), words 2(i % 2) and 2(i % 2) + 1 as u1, u2,
 *   Box–Muller z = sqrt(-2 ln(1 - u1)) · cos(2π u2).
 */

import type { RandomDist } from './stream.js';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO32 = 4294967296;

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers. */
function mulhi(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const lolo = aLo * bLo;
  const hilo = aHi * bLo;
  const lohi = aLo * bHi;
  const hihi = aHi * bHi;
  // Sum the middle terms with the carry out of the low half; all partial sums stay below 2^53.
  const mid = (lolo >>> 16) + (hilo & 0xffff) + (lohi & 0xffff);
  return (hihi + (hilo >>> 16) + (lohi >>> 16) + Math.floor(mid / 65536)) >>> 0;
}

/**
 * One Philox4x32-10 block: 4 counter words and 2 key words in, 4 random words out (written to `out`).
 * Verified against the Random123 known-answer vectors in test/unit/random/generator.test.ts.
 */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
): void {
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

const UNIFORM_SCALE = 1 / 16777216; // 2^-24

/** Maps a random 32-bit word to a float in [0, 1) with 24 bits of precision (exact in float32). */
export function wordToUniform(u: number): number {
  return (u >>> 8) * UNIFORM_SCALE;
}

/** Fills `out` with uniform [0, 1) draws of the stream (key, offset); see the file comment for layout. */
export function fillUniform(
  key: readonly [number, number],
  offset: number,
  out: Float32Array | Float64Array,
): void {
  const words = new Uint32Array(4);
  const n = out.length;
  for (let i = 0, b = offset; i < n; i += 4, b++) {
    philox4x32((b % TWO32) >>> 0, Math.floor(b / TWO32) >>> 0, 0, 0, key[0], key[1], words);
    const m = Math.min(4, n - i);
    for (let j = 0; j < m; j++) out[i + j] = wordToUniform(words[j]!);
  }
}

/** Fills `out` with standard normal draws (Box–Muller) of the stream (key, offset). */
export function fillNormal(
  key: readonly [number, number],
  offset: number,
  out: Float32Array | Float64Array,
): void {
  const words = new Uint32Array(4);
  const n = out.length;
  for (let i = 0, b = offset; i < n; i += 2, b++) {
    philox4x32((b % TWO32) >>> 0, Math.floor(b / TWO32) >>> 0, 0, 0, key[0], key[1], words);
    for (let j = 0; j < 2 && i + j < n; j++) {
      const u1 = wordToUniform(words[2 * j]!);
      const u2 = wordToUniform(words[2 * j + 1]!);
      out[i + j] = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
  }
}

/** Number of 128-bit blocks a draw of `size` elements consumes. */
export function blocksFor(dist: RandomDist, size: number): number {
  return dist === 'uniform' ? Math.ceil(size / 4) : Math.ceil(size / 2);
}
