/** Learnable synthetic Fashion-MNIST arrays for fast runs: label k is a bright band of rows over noise. */
import type { FashionMnistArrays } from '../../src/data/fashionMnist.js';

const PIXELS = 784;

function images(n: number, seed: number): { images: Uint8Array; labels: Uint8Array } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const out = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(next() * 10);
    labels[i] = k;
    for (let p = 0; p < PIXELS; p++) {
      const band = Math.floor(p / 28) >= 2 * k + 4 && Math.floor(p / 28) < 2 * k + 7;
      out[i * PIXELS + p] = Math.floor((band ? 150 : 0) + next() * 80);
    }
  }
  return { images: out, labels };
}

/** `nTrain` training and `nTest` test examples, seeded. */
export function synthetic(nTrain: number, nTest: number, seed: number): FashionMnistArrays {
  const train = images(nTrain, seed);
  const test = images(nTest, seed + 1000);
  return {
    trainImages: train.images,
    trainLabels: train.labels,
    testImages: test.images,
    testLabels: test.labels,
  };
}
