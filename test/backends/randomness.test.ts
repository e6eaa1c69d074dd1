/**
 * Randomness and numerics on every backend, beyond the Philox block function: pinned `rand` values
 * and dropout masks for a seed; independence of the four Philox words, of SIMD lanes and of the masks
 * of different layers and steps (chi-square with stated thresholds, shown to catch a "same word in
 * all lanes" bug); `randperm`; softmax / log-softmax / cross-entropy at extreme logits; MC dropout's
 * mean against a hand average; model-level dropout at p ≠ 0.5.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DropoutMLP,
  Generator,
  crossEntropy,
  defaultGenerator,
  dropout,
  logSoftmax,
  nn,
  noGrad,
  ones,
  rand,
  randperm,
  setBackend,
  softmax,
  tensor,
  tidy,
} from '../../src/index.js';
import type { Backend } from '../../src/internals.js';
import { backends } from '../helpers/backends.js';

/** rand([6]) with Generator(42), as integers u · 2^24 (every uniform is a multiple of 2^-24). */
const PINNED_RAND = [10283760, 7861577, 1228624, 5718707, 16571169, 5487212];
/** dropout(ones(24), 0.3) with Generator(42): 1 = kept (scaled by 1/0.7), 0 = dropped. */
const PINNED_MASK = '110111111111111111101000';

/**
 * Pearson chi-square of the 16 × 16 joint histogram of (x[i], x[i + lag]) over pairs i ≡ start (mod
 * stride), against independence (uniform cells). 255 degrees of freedom: mean 255, sd 22.6.
 */
function pairChiSquare(x: Float32Array, lag: number, stride: number, start: number): number {
  const bins = 16;
  const counts = new Float64Array(bins * bins);
  let n = 0;
  for (let i = start; i + lag < x.length; i += stride) {
    counts[Math.floor(x[i]! * bins) * bins + Math.floor(x[i + lag]! * bins)]!++;
    n++;
  }
  const expected = n / (bins * bins);
  let chi = 0;
  for (const c of counts) chi += (c - expected) ** 2 / expected;
  return chi;
}

/** Threshold for 255 dof: mean + 6 sd ≈ 391 (a false alarm has probability ~1e-7 per statistic). */
const CHI_255_LIMIT = 255 + 6 * Math.sqrt(2 * 255);

/** The worst pair statistic over within-block words (lags 1–3) and across SIMD lanes / blocks (4, 8, 12, 16). */
function worstPairStatistic(x: Float32Array): { lag: number; chi: number } {
  let worst = { lag: 0, chi: 0 };
  for (const lag of [1, 2, 3, 4, 8, 12, 16]) {
    for (let start = 0; start < 4; start++) {
      const chi = pairChiSquare(x, lag, 4, start);
      if (chi > worst.chi) worst = { lag, chi };
    }
  }
  return worst;
}

/** 2 × 2 chi-square of two binary masks against independence (1 dof; 40 ≈ p < 1e-9). */
function maskChiSquare(a: Float32Array, b: Float32Array): number {
  const c = [0, 0, 0, 0];
  for (let i = 0; i < a.length; i++) c[(a[i] !== 0 ? 2 : 0) + (b[i] !== 0 ? 1 : 0)]!++;
  const n = a.length;
  const pa = (c[2]! + c[3]!) / n;
  const pb = (c[1]! + c[3]!) / n;
  let chi = 0;
  for (let k = 0; k < 4; k++) {
    const e = n * (k & 2 ? pa : 1 - pa) * (k & 1 ? pb : 1 - pb);
    chi += (c[k]! - e) ** 2 / e;
  }
  return chi;
}

for (const entry of backends) {
  describe(`randomness on the ${entry.name} backend`, () => {
    let backend: Backend;
    const use = async (): Promise<void> => {
      backend ??= await entry.create();
      setBackend(backend);
    };

    test('rand and dropout masks for seed 42 are the pinned values', async () => {
      await use();
      const u = rand([6], { generator: new Generator(42) }).dataSync();
      assert.deepEqual(
        Array.from(u, (v) => v * 2 ** 24),
        PINNED_RAND,
      );
      const y = dropout(ones([24]), 0.3, { training: true, generator: new Generator(42) }).dataSync();
      assert.equal(Array.from(y, (v) => (v === 0 ? '0' : '1')).join(''), PINNED_MASK);
      for (const v of y) if (v !== 0) assert.equal(v, Math.fround(1 / 0.7));
    });

    test('Philox words and SIMD lanes are independent (pair chi-square, 16 × 16 bins, limit 391)', async () => {
      await use();
      const x = rand([1 << 20], { generator: new Generator(2024) }).dataSync();
      const good = worstPairStatistic(x);
      // The same check on a deliberately broken stream (word 0 copied into all four lanes) must fail.
      const broken = Float32Array.from(x, (_, i) => x[i - (i % 4)]!);
      const bad = worstPairStatistic(broken);
      process.stdout.write(
        `# ${entry.name}: worst pair chi-square ${good.chi.toFixed(1)} (lag ${good.lag}); ` +
          `broken "same word in all lanes" stream ${bad.chi.toFixed(0)} (lag ${bad.lag}); limit ${CHI_255_LIMIT.toFixed(0)}\n`,
      );
      assert.ok(good.chi < CHI_255_LIMIT, `lag ${good.lag}: chi-square ${good.chi}`);
      assert.ok(bad.chi > CHI_255_LIMIT);
    });

    test('masks of different layers and steps are independent (2 × 2 chi-square < 40)', async () => {
      await use();
      const g = new Generator(5);
      const x = ones([1 << 16]);
      const step1layer1 = dropout(x, 0.3, { training: true, generator: g }).dataSync();
      const step1layer2 = dropout(x, 0.3, { training: true, generator: g }).dataSync();
      const step2layer1 = dropout(x, 0.3, { training: true, generator: g }).dataSync();
      for (const [a, b] of [
        [step1layer1, step1layer2],
        [step1layer1, step2layer1],
        [step1layer2, step2layer1],
      ] as const) {
        assert.ok(maskChiSquare(a, b) < 40, `chi-square ${maskChiSquare(a, b)}`);
      }
      // A generator that hands out the same offset twice (a frozen mask) is caught.
      const frozen = dropout(x, 0.3, { training: true, generator: new Generator(5) }).dataSync();
      assert.ok(maskChiSquare(step1layer1, frozen) > 1000);
    });

    test('softmax, log-softmax and cross-entropy stay finite and exact at logits of ±1e4', async () => {
      await use();
      const logits = tensor([
        [1e4, 0, -1e4],
        [-1e4, -1e4, -1e4],
        [1e4, 1e4, -1e4],
        [-1e4, 1e4, 0],
      ]);
      const labels = tensor([0, 1, 2, 0]);
      noGrad(() =>
        tidy(() => {
          const p = softmax(logits).dataSync();
          const lp = logSoftmax(logits).dataSync();
          const ce = crossEntropy(logits, labels).item();
          const expectP = [1, 0, 0, 1 / 3, 1 / 3, 1 / 3, 0.5, 0.5, 0, 0, 1, 0];
          const expectLp = [
            0,
            -1e4,
            -2e4,
            -Math.log(3),
            -Math.log(3),
            -Math.log(3),
            -Math.LN2,
            -Math.LN2,
            -2e4 - Math.LN2,
            -2e4,
            0,
            -1e4,
          ];
          expectP.forEach((e, i) => assert.ok(Math.abs(p[i]! - e) < 1e-6, `softmax[${i}] = ${p[i]}`));
          expectLp.forEach((e, i) =>
            assert.ok(Math.abs(lp[i]! - e) <= 1e-6 * Math.max(1, Math.abs(e)), `logSoftmax[${i}] = ${lp[i]}`),
          );
          // CE = mean of −logSoftmax at the labels: (0 + ln 3 + 2e4 + ln 2 + 2e4) / 4.
          const expectCe = (Math.log(3) + 2e4 + Math.LN2 + 2e4) / 4;
          assert.ok(Number.isFinite(ce) && Math.abs(ce - expectCe) < 1e-6 * expectCe, `cross-entropy ${ce}`);
        }),
      );
    });
  });
}

describe('randperm', () => {
  test('is a permutation for every n from 1 to 300', () => {
    const g = new Generator(3);
    for (let n = 1; n <= 300; n++) {
      const p = Array.from(randperm(n, g)).sort((a, b) => a - b);
      assert.deepEqual(
        p,
        Array.from({ length: n }, (_, i) => i),
      );
    }
  });

  test('is uniform over the 24 permutations of 4 (chi-square, 23 dof, limit 80)', () => {
    const g = new Generator(11);
    const counts = new Map<string, number>();
    const N = 48_000;
    for (let i = 0; i < N; i++) {
      const key = randperm(4, g).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.equal(counts.size, 24);
    const e = N / 24;
    let chi = 0;
    for (const c of counts.values()) chi += (c - e) ** 2 / e;
    // mean 23, sd 6.8: 80 is mean + 8 sd.
    assert.ok(chi < 80, `chi-square ${chi}`);
  });
});

describe('MC dropout and model-level dropout at p ≠ 0.5', () => {
  test('predict with mcSamples T is the hand average of T training-mode passes', () => {
    const model = new DropoutMLP({ numHiddens1: 32, numHiddens2: 32, dropout1: 0.2, dropout2: 0.7 });
    const X = rand([5, 1, 28, 28], { generator: new Generator(8) });
    model.eval().forward(X).dispose(); // materialise the lazy layers
    const T = 7;
    const mc = nn.predict(model, X, { mcSamples: T, seed: 31 });
    const mean = mc.probs.dataSync();
    // predict with `seed` draws its masks from Generator(seed) in place of the global generator.
    const before = defaultGenerator.getState();
    defaultGenerator.setState(new Generator(31).getState());
    const sum = new Float64Array(mean.length);
    model.eval();
    for (const [, m] of model.net.namedChildren()) if (m instanceof nn.Dropout) m.training = true;
    for (let t = 0; t < T; t++) {
      const p = noGrad(() => tidy(() => softmax(model.forward(X)).dataSync()));
      p.forEach((v, i) => (sum[i]! += v));
    }
    model.eval();
    defaultGenerator.setState(before);
    sum.forEach((s, i) => assert.ok(Math.abs(s / T - mean[i]!) < 1e-7, `element ${i}`));
    // The T passes differ (fresh masks every pass), so the average is not one pass.
    assert.ok(mc.variance.dataSync().some((v) => v > 0));
  });

  for (const p of [0.2, 0.7]) {
    test(`the DropoutMLP's Dropout(${p}) drops a fraction ${p} and scales survivors by 1/(1 − ${p})`, () => {
      const model = new DropoutMLP({ numHiddens1: 4096, numHiddens2: 8, dropout1: p, dropout2: p });
      const layer = model.net.namedChildren().map(([, m]) => m)[3]!;
      assert.ok(layer instanceof nn.Dropout);
      const h = rand([16, 4096], { generator: new Generator(1) }).add(0.5); // all positive
      const hv = h.dataSync();
      const y = noGrad(() => layer.train().forward(h)).dataSync();
      let zeros = 0;
      for (let i = 0; i < y.length; i++) {
        if (y[i] === 0) zeros++;
        else assert.equal(y[i], Math.fround(hv[i]! * Math.fround(1 / (1 - p))));
      }
      const n = y.length;
      const sd = Math.sqrt((p * (1 - p)) / n);
      assert.ok(Math.abs(zeros / n - p) < 6 * sd, `dropped ${zeros / n}, expected ${p}`);
      // Eval mode is the identity.
      assert.deepEqual(noGrad(() => layer.eval().forward(h)).dataSync(), hv);
    });
  }
});
