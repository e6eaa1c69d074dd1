/** `dropout-lab demo`: the deck's quick check, X = arange(16).reshape(2, 8) through p = 0, 0.5, 1. */
import { dropoutLayer } from '../ops/dropout.js';
import { manualSeed } from '../random/generator.js';
import { arange } from '../tensor/creation.js';
import { tidy } from '../tensor/engine.js';
import type { NestedArray } from '../tensor/tensor.js';
import { formatTensor } from './format.js';

/** The probabilities the deck shows. */
export const DEMO_PS = [0, 0.5, 1] as const;

/** Runs the quick check; returns the printable text or the `--json` object. */
export function runDemo(seed: number, json: boolean): string {
  manualSeed(seed);
  return tidy(() => {
    const X = arange(16).reshape(2, 8);
    const results = DEMO_PS.map((p) => ({ p, Y: dropoutLayer(X, p).toArray() as NestedArray }));
    if (json) return JSON.stringify({ X: X.toArray(), results });
    return [
      `X = ${formatTensor(X.toArray())}`,
      ...results.map(({ p, Y }) => `dropout_p = ${p}: ${formatTensor(Y)}`),
    ].join('\n');
  });
}
