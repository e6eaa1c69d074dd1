/**
 * The counter-based RNG: Philox4x32-10 known-answer vectors from Random123 (kat_vectors), uniform and
 * normal statistics on 10^6 draws with stated tolerances, and the Generator's seeding and state.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError, Generator, defaultGenerator, manualSeed, rand, randn } from '../../../src/index.js';
import { philox4x32 } from '../../../src/internals.js';

const hex = (words: Uint32Array): string[] => [...words].map((w) => w.toString(16).padStart(8, '0'));

describe('Philox4x32-10 known-answer vectors (Random123 kat_vectors)', () => {
  const cases: [string, number[], number[], string[]][] = [
    ['zero counter, zero key', [0, 0, 0, 0], [0, 0], ['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']],
    [
      'all ones',
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      ['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd'],
    ],
    [
      'digits of pi',
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      [0xa4093822, 0x299f31d0],
      ['d16cfe09', '94fdcceb', '5001e420', '24126ea1'],
    ],
  ];
  for (const [name, c, k, expected] of cases) {
    test(name, () => {
      const out = new Uint32Array(4);
      philox4x32(c[0]!, c[1]!, c[2]!, c[3]!, k[0]!, k[1]!, out);
      assert.deepEqual(hex(out), expected);
    });
  }
});

function moments(values: Float32Array): { mean: number; variance: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return { mean, variance: sq / values.length };
}

const N = 1_000_000;

describe('distributions on 10^6 draws', () => {
  test('uniform: in [0, 1), mean 0.5 ± 0.002 (≈7σ), variance 1/12 ± 5e-4 (≈7σ)', () => {
    const u = rand([N], { generator: new Generator(2024) }).dataSync();
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of u) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    assert.ok(lo >= 0 && hi < 1, `range [${lo}, ${hi}]`);
    assert.ok(lo < 1e-4 && hi > 1 - 1e-4, 'draws should cover the interval');
    const { mean, variance } = moments(u);
    assert.ok(Math.abs(mean - 0.5) < 0.002, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1 / 12) < 5e-4, `variance ${variance}`);
    // Every value is a multiple of 2^-24 (24-bit mantissa, exact in float32).
    for (let i = 0; i < 1000; i++) assert.equal(Number.isInteger(u[i]! * 2 ** 24), true);
  });

  test('uniform: each tenth of [0, 1) holds 10% ± 0.2% (≈7σ) of the draws', () => {
    const u = rand([N], { generator: new Generator(99) }).dataSync();
    const bins = new Array<number>(10).fill(0);
    for (const v of u) bins[Math.floor(v * 10)]!++;
    for (const b of bins) assert.ok(Math.abs(b / N - 0.1) < 0.002, `bin fraction ${b / N}`);
  });

  test('normal: mean 0 ± 0.005 (5σ), variance 1 ± 0.01 (≈7σ), 68.3% within 1σ ± 0.5%', () => {
    const z = randn([N], { generator: new Generator(7) }).dataSync();
    const { mean, variance } = moments(z);
    assert.ok(Math.abs(mean) < 0.005, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.01, `variance ${variance}`);
    let within = 0;
    for (const v of z) if (Math.abs(v) < 1) within++;
    assert.ok(Math.abs(within / N - 0.6827) < 0.005, `fraction within 1σ ${within / N}`);
    assert.ok(z.every(Number.isFinite));
  });
});

describe('Generator', () => {
  test('the same seed gives the same draws; a different seed different ones', () => {
    const a = rand([1000], { generator: new Generator(5) }).dataSync();
    const b = rand([1000], { generator: new Generator(5) }).dataSync();
    const c = rand([1000], { generator: new Generator(6) }).dataSync();
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  test('successive draws differ (fresh counter blocks every call)', () => {
    const g = new Generator(5);
    const a = rand([1000], { generator: g }).dataSync();
    const b = rand([1000], { generator: g }).dataSync();
    assert.notDeepEqual(a, b);
    // Not merely shifted: no overlap of the counter range (an odd size must not reuse a block's tail).
    const g2 = new Generator(5);
    const odd1 = rand([3], { generator: g2 }).dataSync();
    const odd2 = rand([3], { generator: g2 }).dataSync();
    const whole = rand([8], { generator: new Generator(5) }).dataSync();
    assert.deepEqual([...odd1], [...whole.subarray(0, 3)]);
    assert.deepEqual([...odd2], [...whole.subarray(4, 7)]);
  });

  test('getState/setState resumes the exact sequence', () => {
    const g = new Generator(11);
    rand([10], { generator: g });
    const state = g.getState();
    const next = rand([50], { generator: g }).dataSync();
    const afterNormal = randn([5], { generator: g }).dataSync();
    g.setState(state);
    assert.deepEqual(rand([50], { generator: g }).dataSync(), next);
    assert.deepEqual(randn([5], { generator: g }).dataSync(), afterNormal);
    // A state restored into a different generator resumes too.
    const other = new Generator(999).setState(state);
    assert.deepEqual(rand([50], { generator: other }).dataSync(), next);
    // getState returns a copy, not a live view.
    const snapshot = g.getState();
    rand([4], { generator: g });
    assert.notDeepEqual(g.getState(), snapshot);
  });

  test('manualSeed rewinds and reseeds, like torch.manual_seed', () => {
    const g = new Generator(3);
    const first = rand([20], { generator: g }).dataSync();
    rand([20], { generator: g });
    assert.equal(g.manualSeed(3), g);
    assert.deepEqual(rand([20], { generator: g }).dataSync(), first);
    assert.equal(g.seed, 3);

    const global = manualSeed(42);
    assert.equal(global, defaultGenerator);
    const x = rand([20]).dataSync();
    manualSeed(42);
    assert.deepEqual(rand([20]).dataSync(), x);
    assert.deepEqual(rand([20], { generator: new Generator(42) }).dataSync(), x);
  });

  test('large seeds use both key words (seeds differing above 2^32 differ)', () => {
    const a = rand([16], { generator: new Generator(1) }).dataSync();
    const b = rand([16], { generator: new Generator(2 ** 32 + 1) }).dataSync();
    assert.notDeepEqual(a, b);
  });

  test('fork gives an independent, reproducible child', () => {
    const childA = new Generator(8).fork();
    const childB = new Generator(8).fork();
    const a = rand([16], { generator: childA }).dataSync();
    assert.deepEqual(rand([16], { generator: childB }).dataSync(), a);
    assert.notDeepEqual(rand([16], { generator: new Generator(8) }).dataSync(), a);
  });

  test('invalid seeds and states throw ArgumentError', () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 53]) {
      assert.throws(() => new Generator(bad), ArgumentError, `seed ${bad}`);
      assert.throws(() => new Generator(0).manualSeed(bad), ArgumentError, `manualSeed ${bad}`);
    }
    assert.throws(() => new Generator(0).setState({ seed: 1, offset: -1 }), ArgumentError);
    assert.throws(() => new Generator(0).setState({ seed: -3, offset: 0 }), ArgumentError);
    assert.doesNotThrow(() => new Generator(2 ** 53 - 1));
  });
});
