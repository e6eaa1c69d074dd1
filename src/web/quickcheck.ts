/**
 * The deck's quick check as an interactive matrix: X = arange(16).reshape(2, 8) through the book's
 * dropoutLayer with probability p and a seed, on the main thread (a 16-element op on the reference
 * backend takes microseconds). Dropped entries are greyed out; survivors are scaled by 1/(1 − p).
 * The greyed cells come from the mask itself (recomputed from the draw's stream), so X[0][0] = 0
 * shows as dropped or kept correctly.
 */
import { arange, dropoutLayer, Generator, tidy } from '../index.js';
import { keepMask } from './masks.js';

/** Y = dropoutLayer(arange(16).reshape(2, 8), p) with a fresh generator seeded with `seed`. */
export function quickCheck(p: number, seed: number): number[][] {
  return tidy(() => {
    const X = arange(16).reshape(2, 8);
    return dropoutLayer(X, p, { generator: new Generator(seed) }).toArray() as number[][];
  });
}

/** The keep mask that draw used: a fresh generator's first uniform stream (see masks.ts). */
export function quickCheckMask(p: number, seed: number): number[] {
  return keepMask(new Generator(seed).next('uniform', 16), p, 0, 16);
}

/**
 * The mean of Y over `draws` fresh draws (seeds seed … seed + draws − 1): the demonstration that the
 * expectation of inverted dropout is X, since survivors are scaled by 1/(1 − p).
 */
export function quickAverage(p: number, seed: number, draws: number): number[] {
  const sum = new Array<number>(16).fill(0);
  for (let d = 0; d < draws; d++)
    quickCheck(p, seed + d)
      .flat()
      .forEach((v, i) => (sum[i]! += v));
  return sum.map((v) => v / draws);
}

/** Fills `table` with the X row, the Y rows for p and seed, and (when given) the mean of many draws. */
export function renderQuickCheck(
  table: HTMLTableElement,
  p: number,
  seed: number,
  average?: { readonly draws: number; readonly mean: readonly number[] },
): void {
  const Y = quickCheck(p, seed);
  const keep = quickCheckMask(p, seed);
  const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(2));
  const rows: string[] = [];
  const head = Array.from({ length: 8 }, (_, j) => `<th scope="col">${j}</th>`).join('');
  rows.push(`<thead><tr><th scope="col"></th>${head}</tr></thead><tbody>`);
  for (let i = 0; i < 2; i++) {
    const xs = Array.from({ length: 8 }, (_, j) => `<td class="xcell">${i * 8 + j}</td>`).join('');
    rows.push(`<tr class="xrow"><th scope="row">X[${i}]</th>${xs}</tr>`);
  }
  for (let i = 0; i < 2; i++) {
    const cells = Y[i]!.map((v, j) => {
      const x = i * 8 + j;
      const dropped = keep[x] === 0;
      return `<td class="${dropped ? 'cell dropped' : 'cell'}" title="X=${x}${dropped ? ', dropped' : ''}">${fmt(v)}</td>`;
    }).join('');
    rows.push(`<tr><th scope="row">Y[${i}]</th>${cells}</tr>`);
  }
  if (average !== undefined) {
    for (let i = 0; i < 2; i++) {
      const cells = average.mean
        .slice(i * 8, i * 8 + 8)
        .map((v) => `<td class="mcell">${v.toFixed(2)}</td>`)
        .join('');
      rows.push(`<tr class="avgrow"><th scope="row">mean[${i}]</th>${cells}</tr>`);
    }
  }
  rows.push('</tbody>');
  table.innerHTML = rows.join('');
  const dropped = keep.filter((k) => k === 0).length;
  table.dataset['dropped'] = String(dropped);
}
