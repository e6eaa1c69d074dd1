/**
 * Dropout variants: noise-shape / spatial dropout, Gaussian dropout, alpha dropout, DropConnect and
 * the max-norm constraint. Statistics on 10^5–10^6 elements with tolerances stated beside each
 * assertion (4σ unless said), the edge cases of p, and float64 gradient checks of every variant.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ArgumentError,
  F,
  Generator,
  ShapeError,
  SELU_ALPHA,
  SELU_SCALE,
  alphaDropoutCoefficients,
  applyMaxNorm,
  dropoutLayer,
  gradcheck,
  nn,
  ones,
  optim,
  rand,
  randn,
  tensor,
  tidy,
  type Tensor,
} from '../../../src/index.js';

const sum = (v: Float32Array): number => v.reduce((s, x) => s + x, 0);
function moments(v: Float32Array): { mean: number; variance: number } {
  const mean = sum(v) / v.length;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  return { mean, variance: ss / v.length };
}
/** Weighted sum so every output element gets a distinct upstream gradient. */
const weighted = (y: Tensor): Tensor =>
  y
    .mul(
      tensor(
        Array.from({ length: y.size }, (_, i) => 0.3 + (i % 5) * 0.17),
        { shape: y.shape },
      ),
    )
    .sum();
/** Values with −0 read as 0 (x·0 keeps the sign of x; the edge cases care about the value). */
const plain = (v: Float32Array): number[] => Array.from(v, (x) => x + 0);
const values = (n: number, k = 0): number[] =>
  Array.from({ length: n }, (_, i) => Math.sin(1.3 * i + k) * 1.5);

describe('broadcastDropout (Keras noise_shape) and nn.SpatialDropout', () => {
  test('channel-wise mask: every channel all kept (×1/(1 − p)) or all zero; keep ratio and E[y] = x within 4σ', () => {
    const [N, C, H, W] = [100, 200, 3, 3];
    const p = 0.3;
    const y = F.broadcastDropout(ones([N, C, H, W]), p, {
      training: true,
      noiseShape: [null, null, 1, 1],
      generator: new Generator(11),
    }).dataSync();
    const scale = Math.fround(1 / (1 - p));
    let kept = 0;
    for (let ch = 0; ch < N * C; ch++) {
      const first = y[ch * H * W]!;
      for (let j = 1; j < H * W; j++)
        if (y[ch * H * W + j] !== first) assert.fail(`channel ${ch} is not uniform`);
      if (first !== 0) {
        assert.equal(first, scale);
        kept++;
      }
    }
    // Channels kept ~ Binomial(N·C, 1 − p): 4σ on the ratio.
    const sigma = Math.sqrt((p * (1 - p)) / (N * C));
    assert.ok(Math.abs(kept / (N * C) - (1 - p)) < 4 * sigma, `keep ratio ${kept / (N * C)}`);
    // mean(y) = (kept/(NC))/(1 − p): E = 1, σ = sigma/(1 − p).
    assert.ok(Math.abs(sum(y) / y.length - 1) < (4 * sigma) / (1 - p));
  });

  test('without a noise shape it is dropout: the same mask as dropoutLayer for the same generator state', () => {
    const x = tensor(values(4096), { shape: [64, 64] });
    const a = F.broadcastDropout(x, 0.4, { training: true, generator: new Generator(3) }).dataSync();
    const b = dropoutLayer(x, 0.4, { generator: new Generator(3) }).dataSync();
    assert.deepEqual(plain(a), plain(b));
  });

  test('edge cases: p = 0 and eval return x itself, p = 1 zeros, bad p / noise shapes / missing training throw', () => {
    const x = tensor(values(24), { shape: [2, 3, 4] });
    assert.equal(F.broadcastDropout(x, 0, { training: true, noiseShape: [null, null, 1] }), x);
    assert.equal(F.broadcastDropout(x, 0.5, { training: false, noiseShape: [null, null, 1] }), x);
    assert.deepEqual(plain(F.broadcastDropout(x, 1, { training: true }).dataSync()), new Array(24).fill(0));
    assert.throws(() => F.broadcastDropout(x, 1.5, { training: true }), ArgumentError);
    assert.throws(() => F.broadcastDropout(x, 0.5, { training: true, noiseShape: [2, 3] }), ShapeError);
    assert.throws(() => F.broadcastDropout(x, 0.5, { training: true, noiseShape: [2, 2, 1] }), ShapeError);
    assert.throws(() => F.broadcastDropout(x, 0.5, {} as never), ArgumentError);
    assert.throws(() => new nn.SpatialDropout(-0.1), ArgumentError);
  });

  test('nn.SpatialDropout follows train()/eval(), drops whole channels by default, draws fresh masks', () => {
    const m = new nn.SpatialDropout(0.5, { generator: new Generator(1) });
    const x = ones([8, 16, 2, 2]);
    const a = m.forward(x).dataSync();
    const b = m.forward(x).dataSync();
    assert.notDeepEqual(a, b, 'a fresh mask every forward');
    for (let ch = 0; ch < 8 * 16; ch++) assert.equal(new Set(a.subarray(ch * 4, ch * 4 + 4)).size, 1);
    assert.equal(m.eval().forward(x), x);
    assert.throws(() => new nn.SpatialDropout(0.5).forward(ones([4])), ArgumentError);
  });
});

describe('Gaussian dropout: y = x·ε, ε ~ N(1, p/(1 − p))', () => {
  for (const p of [0.2, 0.5]) {
    test(`p = ${p}: multiplier mean 1 and variance p/(1 − p) on 10^6 elements`, () => {
      const N = 1_000_000;
      const y = F.gaussianDropout(ones([N]), p, { training: true, generator: new Generator(5) }).dataSync();
      const { mean, variance } = moments(y);
      const s2 = p / (1 - p);
      // Sample mean: σ = √(s²/N). Sample variance of a normal: σ = s²·√(2/N).
      assert.ok(Math.abs(mean - 1) < 4 * Math.sqrt(s2 / N), `mean ${mean}`);
      assert.ok(Math.abs(variance - s2) < 4 * s2 * Math.sqrt(2 / N), `variance ${variance} vs ${s2}`);
    });
  }
  test('edge cases: p = 0 and eval are the identity; p = 1 and p outside [0, 1] throw', () => {
    const x = tensor(values(6));
    assert.equal(F.gaussianDropout(x, 0, { training: true }), x);
    assert.equal(F.gaussianDropout(x, 0.5, { training: false }), x);
    assert.throws(() => F.gaussianDropout(x, 1, { training: true }), ArgumentError);
    assert.throws(() => new nn.GaussianDropout(1), ArgumentError);
    assert.throws(() => new nn.GaussianDropout(2), ArgumentError);
    const m = new nn.GaussianDropout(0.5);
    assert.equal(m.eval().forward(x), x);
  });
});

describe('alpha dropout (Klambauer et al. 2017)', () => {
  test('coefficients match the paper: a = (q + α′²q(1 − q))^−½, b = −a·α′(1 − q)', () => {
    const p = 0.1;
    const q = 1 - p;
    const ap = -SELU_SCALE * SELU_ALPHA;
    const { a, b, alphaPrime } = alphaDropoutCoefficients(p);
    assert.equal(alphaPrime, ap);
    assert.ok(Math.abs(a - (q + ap * ap * q * (1 - q)) ** -0.5) < 1e-15);
    assert.ok(Math.abs(b + a * ap * (1 - q)) < 1e-15);
  });

  for (const p of [0.05, 0.2, 0.5]) {
    test(`p = ${p}: keeps mean 0 and variance 1 of SELU-normalised inputs (10^6 elements)`, () => {
      const N = 1_000_000;
      const y = tidy(() => {
        // x ~ N(0, 1): the fixed point SELU maps to itself; the paper's derivation assumes it.
        const x = randn([N], { generator: new Generator(8) });
        return F.alphaDropout(x, p, { training: true, generator: new Generator(9) }).dataSync();
      });
      const { mean, variance } = moments(y);
      // The output is a mixture with kurtosis near that of a normal; 5/√N on both moments (≈ 4σ).
      assert.ok(Math.abs(mean) < 5 / Math.sqrt(N), `mean ${mean}`);
      assert.ok(Math.abs(variance - 1) < 5 * Math.sqrt(3 / N), `variance ${variance}`);
      const { a, b, alphaPrime } = alphaDropoutCoefficients(p);
      const droppedValue = Math.fround(a * alphaPrime + b);
      const dropped = y.filter((v) => v === droppedValue).length;
      assert.ok(Math.abs(dropped / N - p) < 4 * Math.sqrt((p * (1 - p)) / N), `drop ratio ${dropped / N}`);
    });
  }

  test('after a SELU layer: mean and variance of the SELU outputs are preserved', () => {
    const N = 500_000;
    const [before, after] = tidy(() => {
      const z = randn([N], { generator: new Generator(2) });
      const selu = z
        .gt(0)
        .mul(z)
        .add(z.lt(0).mul(z.exp().sub(1).mul(SELU_ALPHA)))
        .mul(SELU_SCALE);
      return [
        selu.dataSync(),
        F.alphaDropout(selu, 0.1, { training: true, generator: new Generator(4) }).dataSync(),
      ];
    });
    const m0 = moments(before);
    const m1 = moments(after);
    assert.ok(Math.abs(m1.mean - m0.mean) < 6 / Math.sqrt(N), `${m1.mean} vs ${m0.mean}`);
    assert.ok(Math.abs(m1.variance - m0.variance) < 6 * Math.sqrt(3 / N), `${m1.variance} vs ${m0.variance}`);
  });

  test('edge cases: p = 0 and eval return x, p = 1 zeros (as PyTorch), invalid p throws', () => {
    const x = tensor(values(5));
    assert.equal(F.alphaDropout(x, 0, { training: true }), x);
    assert.equal(F.alphaDropout(x, 0.3, { training: false }), x);
    assert.deepEqual(plain(F.alphaDropout(x, 1, { training: true }).dataSync()), [0, 0, 0, 0, 0]);
    assert.throws(() => new nn.AlphaDropout(-1), ArgumentError);
    assert.equal(new nn.AlphaDropout(0.2).eval().forward(x), x);
  });
});

describe('DropConnect (Linear dropConnect option)', () => {
  test('training draws a fresh weight mask; the mean output over masks is the eval output (±4σ)', () => {
    const lin = new nn.Linear(20, 3, { dropConnect: 0.5, generator: new Generator(1) });
    const x = tensor(values(20), { shape: [1, 20] });
    const evalOut = lin.eval().forward(x).dataSync();
    lin.train();
    const T = 4000;
    const acc = new Float64Array(3);
    const acc2 = new Float64Array(3);
    let previous: Float32Array | null = null;
    for (let t = 0; t < T; t++) {
      const y = tidy(() => lin.forward(x).dataSync());
      if (previous !== null && t === 1) assert.notDeepEqual(y, previous);
      previous = y;
      for (let j = 0; j < 3; j++) {
        acc[j]! += y[j]!;
        acc2[j]! += y[j]! ** 2;
      }
    }
    for (let j = 0; j < 3; j++) {
      const mean = acc[j]! / T;
      const sd = Math.sqrt(acc2[j]! / T - mean * mean);
      assert.ok(
        Math.abs(mean - evalOut[j]!) < (4 * sd) / Math.sqrt(T),
        `unit ${j}: ${mean} vs ${evalOut[j]}`,
      );
    }
  });

  test('the gradient reaches only the kept weights, scaled by 1/(1 − p)', () => {
    const lin = new nn.Linear(6, 4, { dropConnect: 0.5, generator: new Generator(2), bias: false });
    const x = ones([1, 6]);
    lin.forward(x).sum().backward();
    const g = lin.weight!.grad!.dataSync();
    const zeros = g.filter((v) => v === 0).length;
    assert.ok(zeros > 0 && zeros < 24, `some weights dropped, some kept (${zeros} of 24 zero)`);
    for (const v of g) assert.ok(v === 0 || v === 2, `grad ${v} must be 0 or 1/(1 − p) = 2`);
    assert.throws(() => new nn.Linear(2, 2, { dropConnect: 1.2 }), ArgumentError);
  });
});

describe('gradient checks (float64 central differences)', () => {
  const cases: [string, (x: Tensor) => Tensor, number[]][] = [
    [
      'broadcastDropout noiseShape [N, 1, C]',
      (x) =>
        F.broadcastDropout(x, 0.4, {
          training: true,
          noiseShape: [null, 1, null],
          generator: new Generator(7),
        }),
      [3, 2, 4],
    ],
    [
      'gaussianDropout',
      (x) => F.gaussianDropout(x, 0.3, { training: true, generator: new Generator(7) }),
      [4, 5],
    ],
    ['alphaDropout', (x) => F.alphaDropout(x, 0.3, { training: true, generator: new Generator(7) }), [4, 5]],
  ];
  for (const [name, fn, shape] of cases) {
    test(name, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const r = gradcheck((x) => weighted(fn(x)), [{ data: values(n), shape }]);
      assert.ok(r.ok && r.maxAbsError < 1e-6, `max abs error ${r.maxAbsError}`);
    });
  }
  test('DropConnect: y = x·dropout(W)ᵀ + b, gradients for x, W and b', () => {
    const fn = (x: Tensor, w: Tensor, b: Tensor): Tensor =>
      weighted(F.linear(x, F.dropout(w, 0.5, { training: true, generator: new Generator(7) }), b));
    const r = gradcheck(fn, [
      { data: values(6), shape: [2, 3] },
      { data: values(12, 1), shape: [4, 3] },
      { data: values(4, 2), shape: [4] },
    ]);
    assert.ok(r.ok && r.maxAbsError < 1e-6, `max abs error ${r.maxAbsError}`);
  });
});

describe('max-norm constraint', () => {
  test('rows above c are scaled to norm c, rows below are untouched, 1-D tensors are skipped', () => {
    const w = tensor([
      [3, 4, 0],
      [0.3, 0.4, 0],
      [0, 0, 0],
    ]);
    const b = tensor([10, 10, 10]);
    applyMaxNorm([w, b], 2);
    const v = w.dataSync();
    assert.ok(Math.abs(Math.hypot(v[0]!, v[1]!, v[2]!) - 2) < 1e-6);
    assert.ok(Math.abs(v[0]! / v[1]! - 0.75) < 1e-6, 'direction kept');
    assert.deepEqual([...v.subarray(3)], [Math.fround(0.3), Math.fround(0.4), 0, 0, 0, 0]);
    assert.deepEqual([...b.dataSync()], [10, 10, 10]);
    assert.throws(() => applyMaxNorm([w], 0), ArgumentError);
  });

  test('SGD with maxNorm keeps every weight row within c after each step (momentum and weight decay on)', () => {
    const w = rand([8, 5], { generator: new Generator(3), requiresGrad: true });
    const sgd = new optim.SGD([w], { lr: 5, momentum: 0.9, weightDecay: 1e-3, maxNorm: 0.5 });
    for (let step = 0; step < 3; step++) {
      sgd.zeroGrad();
      tidy(() => w.mul(-1).sum().backward());
      sgd.step();
      const v = w.dataSync();
      for (let r = 0; r < 8; r++) {
        const norm = Math.hypot(...v.subarray(r * 5, r * 5 + 5));
        assert.ok(norm <= 0.5 * (1 + 1e-6), `row ${r} norm ${norm}`);
      }
    }
    assert.throws(() => new optim.SGD([w], { lr: 0.1, maxNorm: -1 }), ArgumentError);
  });
});
