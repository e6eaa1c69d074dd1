/**
 * Inverted dropout: statistics on 10^6 elements with stated tolerances, the edge cases (p = 0, p = 1,
 * invalid p, eval identity), fused kernel = composed `dropoutLayer` bit for bit, fresh masks, the
 * gradient mask/(1 − p), nn.Dropout following train()/eval(), and the d2l section's quick check.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ArgumentError,
  Generator,
  arange,
  dropout,
  dropoutLayer,
  full,
  getBackend,
  nn,
  rand,
  setBackend,
  tensor,
  tidy,
  type Tensor,
} from '../../../src/index.js';
import { backends } from '../../helpers/backends.js';

const N = 1_000_000;

describe('inverted dropout statistics on 10^6 elements', () => {
  for (const p of [0.2, 0.5, 0.8]) {
    test(`p = ${p}: keep ratio, E[h'] = h, survivors exactly x·float32(1/(1 − p))`, () => {
      // x_i in {1, 2, …, 7}: non-zero, so every zero in the output is a dropped unit.
      const xs = Float32Array.from({ length: N }, (_, i) => 1 + (i % 7));
      const x = tensor(xs);
      const y = dropout(x, p, { training: true, generator: new Generator(31) }).dataSync();
      const scale = Math.fround(1 / (1 - p));
      let kept = 0;
      let sumY = 0;
      let sumX = 0;
      for (let i = 0; i < N; i++) {
        sumX += xs[i]!;
        sumY += y[i]!;
        if (y[i] === 0) continue;
        kept++;
        if (y[i] !== Math.fround(xs[i]! * scale)) assert.fail(`survivor ${i}: ${y[i]} ≠ ${xs[i]}·${scale}`);
      }
      // Keep count ~ Binomial(N, 1 − p): tolerance 4σ = 4·sqrt(p(1 − p)/N) on the ratio.
      const sigma = Math.sqrt((p * (1 - p)) / N);
      assert.ok(
        Math.abs(kept / N - (1 - p)) < 4 * sigma,
        `keep ratio ${kept / N}, expected ${1 - p} ± ${4 * sigma}`,
      );
      // E[h'] = h: mean(y)/mean(x) = 1 within 4σ of the per-element ratio noise,
      // σ ≈ sqrt(p/(1 − p)) · rms(x)/mean(x) / sqrt(N) (rms/mean = sqrt(20)/4 for x in 1…7).
      const ratioSigma = (Math.sqrt(p / (1 - p)) * (Math.sqrt(20) / 4)) / Math.sqrt(N);
      assert.ok(Math.abs(sumY / sumX - 1) < 4 * ratioSigma, `E[h']/h = ${sumY / sumX} ± ${4 * ratioSigma}`);
    });
  }

  test('the mask is independent of x: the same stream drops the same positions for any x', () => {
    const a = dropout(full([4096], 3), 0.5, { training: true, generator: new Generator(5) }).dataSync();
    const b = dropout(arange(1, 4097), 0.5, { training: true, generator: new Generator(5) }).dataSync();
    for (let i = 0; i < a.length; i++) assert.equal(a[i] === 0, b[i] === 0, `position ${i}`);
  });
});

describe('edge cases', () => {
  const x = (): Tensor =>
    tensor([
      [1, -2, 3],
      [4, 5, -6],
    ]);

  test('p = 0 returns the input itself (identity, no mask drawn)', () => {
    const g = new Generator(1);
    const t = x();
    assert.equal(dropout(t, 0, { training: true, generator: g }), t);
    assert.equal(dropoutLayer(t, 0, { generator: g }), t);
    assert.deepEqual(g.getState(), new Generator(1).getState(), 'p = 0 must not consume random numbers');
  });

  test('p = 1 drops everything (zeros, not the input as tfjs does)', () => {
    for (const y of [dropout(x(), 1, { training: true }), dropoutLayer(x(), 1)]) {
      assert.deepEqual(y.shape, [2, 3]);
      assert.ok(y.dataSync().every((v) => v === 0));
    }
  });

  test('training: false is the identity whatever p, and draws nothing', () => {
    const g = new Generator(1);
    const t = x();
    for (const p of [0.1, 0.5, 1]) assert.equal(dropout(t, p, { training: false, generator: g }), t);
    assert.deepEqual(g.getState(), new Generator(1).getState());
  });

  test('invalid p throws ArgumentError mentioning [0, 1]', () => {
    const bad: unknown[] = [-0.1, 1.0001, Number.NaN, Infinity, '0.5', null, undefined];
    for (const p of bad) {
      const isRange = (e: unknown): boolean => e instanceof ArgumentError && e.message.includes('[0, 1]');
      assert.throws(() => dropout(x(), p as number, { training: true }), isRange, `dropout p = ${String(p)}`);
      assert.throws(() => dropout(x(), p as number, { training: false }), isRange, `eval p = ${String(p)}`);
      assert.throws(() => dropoutLayer(x(), p as number), isRange, `dropoutLayer p = ${String(p)}`);
      // undefined takes nn.Dropout's default p = 0.5, as in PyTorch.
      if (p !== undefined)
        assert.throws(() => new nn.Dropout(p as number), isRange, `nn.Dropout p = ${String(p)}`);
    }
  });

  test("nn.Dropout checks p where it enters, the constructor and the setter, so forward needn't", () => {
    const layer = new nn.Dropout(0.5);
    layer.p = 0.25;
    assert.equal(layer.p, 0.25);
    for (const p of [-0.1, 1.5, Number.NaN]) {
      assert.throws(() => (layer.p = p), ArgumentError, `p = ${p}`);
      assert.equal(layer.p, 0.25, 'a refused p leaves the layer as it was');
    }
  });

  test('a missing `training` flag throws (no silent training default, unlike F.dropout)', () => {
    for (const opts of [{}, { training: undefined }, { training: 1 }, undefined]) {
      assert.throws(
        () => dropout(x(), 0.5, opts as unknown as { training: boolean }),
        (e: unknown) => e instanceof ArgumentError && /training/.test(e.message),
      );
    }
  });
});

describe('fused dropout equals the composed dropoutLayer bit for bit', () => {
  for (const entry of backends) {
    test(`${entry.name} backend, several p and odd sizes`, async () => {
      const backend = await entry.create();
      const previous = getBackend();
      setBackend(backend);
      try {
        tidy(() => {
          for (const [p, size] of [
            [0.1, 1],
            [0.3, 37],
            [0.5, 1001],
            [0.7, 4099],
            [0.9, 64],
          ] as const) {
            const xv = rand([size], { generator: new Generator(size) })
              .mul(4)
              .sub(2);
            const fused = dropout(xv, p, { training: true, generator: new Generator(17) }).dataSync();
            const composed = dropoutLayer(xv, p, { generator: new Generator(17) }).dataSync();
            assert.deepEqual(fused, composed, `p = ${p}, size ${size}`);
          }
        });
      } finally {
        setBackend(previous);
      }
    });
  }

  test('every backend draws the same mask for a seed', async () => {
    const results: Float32Array[] = [];
    for (const entry of backends) {
      const backend = await entry.create();
      const t = tensor(
        Float32Array.from({ length: 999 }, (_, i) => i + 1),
        { backend },
      );
      results.push(dropout(t, 0.4, { training: true, generator: new Generator(3) }).dataSync());
    }
    for (const r of results.slice(1)) assert.deepEqual(r, results[0]);
  });

  test('fused and composed agree when p is not a float32 (threshold rounding)', () => {
    // Pick p just above a drawn uniform u (u ≥ 0.5, so float32(p) = u): fused drops it, composed keeps it.
    const u = rand([64], { generator: new Generator(77) }).dataSync();
    const i = u.findIndex((v) => v >= 0.5);
    const p = u[i]! + 2 ** -30;
    assert.equal(Math.fround(p), u[i]);
    const x = full([64], 1);
    const fused = dropout(x, p, { training: true, generator: new Generator(77) }).dataSync();
    const composed = dropoutLayer(x, p, { generator: new Generator(77) }).dataSync();
    assert.deepEqual(fused, composed);
  });
});

describe('masks, gradients and the module', () => {
  test('a fresh mask on successive calls with one generator', () => {
    const g = new Generator(9);
    const x = full([256], 1);
    const a = dropout(x, 0.5, { training: true, generator: g }).dataSync();
    const b = dropout(x, 0.5, { training: true, generator: g }).dataSync();
    const c = dropoutLayer(x, 0.5, { generator: g }).dataSync();
    assert.notDeepEqual(a, b);
    assert.notDeepEqual(b, c);
  });

  for (const [name, f] of [
    ['fused dropout', (x: Tensor, g: Generator) => dropout(x, 0.25, { training: true, generator: g })],
    ['dropoutLayer', (x: Tensor, g: Generator) => dropoutLayer(x, 0.25, { generator: g })],
  ] as const) {
    test(`gradient of ${name} is mask/(1 − p), with the forward's mask`, () => {
      const xs = Float32Array.from({ length: 200 }, (_, i) => 0.5 + (i % 5));
      const x = tensor(xs, { requiresGrad: true });
      const y = f(x, new Generator(21));
      const upstream = tensor(Float32Array.from({ length: 200 }, (_, i) => 1 + (i % 3)));
      y.mul(upstream).sum().backward();
      const out = y.dataSync();
      const grad = x.grad!.dataSync();
      const scale = Math.fround(1 / 0.75);
      let dropped = 0;
      for (let i = 0; i < 200; i++) {
        const kept = out[i] !== 0;
        if (!kept) dropped++;
        assert.equal(grad[i], kept ? Math.fround(upstream.dataSync()[i]! * scale) : 0, `element ${i}`);
      }
      assert.ok(dropped > 20 && dropped < 80, `dropped ${dropped} of 200`);
    });
  }

  test('nn.Dropout follows train()/eval() and starts in training mode', () => {
    const layer = new nn.Dropout(0.5, { generator: new Generator(4) });
    assert.equal(layer.training, true);
    const x = full([1000], 1);
    const yTrain = layer.forward(x).dataSync();
    const zeros = yTrain.filter((v) => v === 0).length;
    assert.ok(zeros > 400 && zeros < 600, `${zeros} zeros`);
    assert.ok(yTrain.every((v) => v === 0 || v === 2));
    assert.equal(layer.eval(), layer);
    assert.equal(layer.forward(x), x);
    layer.train();
    assert.notEqual(layer.forward(x), x);
    layer.train(false);
    assert.equal(layer.forward(x), x);
    assert.equal(layer.p, 0.5);
    assert.equal(new nn.Dropout().p, 0.5);
  });
});

describe("the d2l section's quick check: X = arange(16).reshape(2, 8)", () => {
  const X = (): Tensor => arange(16).reshape(2, 8);
  for (const [name, f] of [
    ['dropoutLayer', (x: Tensor, p: number, g: Generator) => dropoutLayer(x, p, { generator: g })],
    ['dropout', (x: Tensor, p: number, g: Generator) => dropout(x, p, { training: true, generator: g })],
  ] as const) {
    test(name, () => {
      const g = new Generator(0);
      assert.deepEqual(f(X(), 0, g).toArray(), X().toArray());
      const half = f(X(), 0.5, g);
      assert.deepEqual(half.shape, [2, 8]);
      const xs = X().dataSync();
      const hs = half.dataSync();
      hs.forEach((v, i) => assert.ok(v === 0 || v === 2 * xs[i]!, `element ${i}: ${v}`));
      // Some unit besides X[0,0] = 0 is dropped and some kept (probability of failure 2^-15 each, fixed seed).
      assert.ok(hs.some((v, i) => v === 0 && xs[i] !== 0));
      assert.ok(hs.some((v) => v !== 0));
      assert.deepEqual(f(X(), 1, g).toArray(), [new Array(8).fill(0), new Array(8).fill(0)]);
    });
  }
});
