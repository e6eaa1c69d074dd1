/**
 * PyTorch golden values for the nn pieces of issue 25 item 8 (test/fixtures/golden-nn.json, written
 * by scripts/golden_nn.py): Adam with parameter groups, StepLR/CosineAnnealingLR/LinearLR/SequentialLR,
 * clipGradNorm, MSELoss/NLLLoss, BatchNorm2d, Embedding and nn.init's gains and scales; plus the
 * containers, the activation modules and the Dropout2d alias.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Generator, nn, optim, tensor, zeros, type Tensor } from '../../src/index.js';

interface Stored {
  readonly shape: number[];
  readonly data: number[];
}
/** The fixture, read loosely: each test knows its own section's form. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
const golden = JSON.parse(
  readFileSync(new URL('../fixtures/golden-nn.json', import.meta.url), 'utf8'),
) as Loose;

const leaf = (s: Stored, requiresGrad = false): Tensor => tensor(s.data, { shape: s.shape, requiresGrad });

function close(actual: Tensor | null, expected: Stored, what: string, tol = 2e-5): void {
  assert.ok(actual !== null, `${what}: missing`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  expected.data.forEach((e, i) => {
    const d = Math.abs(a[i]! - e);
    if (!(d <= tol * Math.max(1, Math.abs(e)))) assert.fail(`${what}[${i}]: got ${a[i]}, PyTorch ${e}`);
  });
}

test('Adam with two parameter groups matches torch.optim.Adam over 5 steps', () => {
  const g = golden.adam;
  const [X, T] = [leaf(g.X), leaf(g.T)];
  const W = leaf(g.W0, true);
  const b = leaf(g.b0, true);
  const opt = new optim.Adam([{ params: [W], lr: 0.05, weightDecay: 0.1 }, { params: [b] }], {
    lr: 0.02,
    betas: [0.8, 0.99],
  });
  for (let i = 0; i < 5; i++) {
    opt.zeroGrad();
    X.matmul(W, { transB: true }).add(b).sub(T).pow(2).mean().backward();
    opt.step();
  }
  close(W, g.W, 'W', 1e-4);
  close(b, g.b, 'b', 1e-4);
  assert.deepEqual(
    opt.paramGroups.map((p) => p.lr),
    [0.05, 0.02],
  );
});

test('SGD with momentum and two parameter groups matches torch.optim.SGD over 4 steps', () => {
  const g = golden.adam;
  const [X, T] = [leaf(g.X), leaf(g.T)];
  const W = leaf(g.W0, true);
  const b = leaf(g.b0, true);
  const opt = new optim.SGD([{ params: [W], lr: 0.05, weightDecay: 0.1 }, { params: [b] }], {
    lr: 0.2,
    momentum: 0.9,
  });
  for (let i = 0; i < 4; i++) {
    opt.zeroGrad();
    X.matmul(W, { transB: true }).add(b).sub(T).pow(2).mean().backward();
    opt.step();
  }
  close(W, golden.sgd_groups.W, 'W', 1e-4);
  close(b, golden.sgd_groups.b, 'b', 1e-4);
  // A scheduler on a grouped optimiser scales each group from its own initial rate.
  const s = new optim.StepLR(opt, 1, { gamma: 0.5 });
  s.step();
  assert.deepEqual(s.getLastLr(), [0.025, 0.1]);
});

test('AdamW with a no-decay group matches torch.optim.AdamW over 5 steps', () => {
  const g = golden.adam;
  const [X, T] = [leaf(g.X), leaf(g.T)];
  const W = leaf(g.W0, true);
  const b = leaf(g.b0, true);
  const opt = new optim.AdamW(
    [
      { params: [W], lr: 0.05 },
      { params: [b], weightDecay: 0 },
    ],
    {
      lr: 0.02,
      weightDecay: 0.1,
    },
  );
  for (let i = 0; i < 5; i++) {
    opt.zeroGrad();
    X.matmul(W, { transB: true }).add(b).sub(T).pow(2).mean().backward();
    opt.step();
  }
  close(W, golden.adamw_groups.W, 'W', 1e-4);
  close(b, golden.adamw_groups.b, 'b', 1e-4);
});

describe('learning-rate schedulers match torch.optim.lr_scheduler', () => {
  const run = (make: (o: optim.SGD) => optim.LRScheduler): number[] => {
    const o = new optim.SGD([zeros([1], { requiresGrad: true })], { lr: 0.1 });
    const s = make(o);
    const out: number[] = [];
    for (let i = 0; i < 12; i++) {
      out.push(s.getLastLr()[0]!);
      o.step();
      s.step();
    }
    return out;
  };
  const cases: [string, (o: optim.SGD) => optim.LRScheduler][] = [
    ['step', (o) => new optim.StepLR(o, 3, { gamma: 0.5 })],
    ['cosine', (o) => new optim.CosineAnnealingLR(o, 10, { etaMin: 0.01 })],
    ['linear', (o) => new optim.LinearLR(o, { startFactor: 0.25, endFactor: 1, totalIters: 4 })],
    [
      'sequential',
      (o) =>
        new optim.SequentialLR(
          o,
          [
            new optim.LinearLR(o, { startFactor: 0.1, endFactor: 1, totalIters: 3 }),
            new optim.CosineAnnealingLR(o, 7),
          ],
          [3],
        ),
    ],
  ];
  for (const [name, make] of cases) {
    test(name, () => {
      const got = run(make);
      (golden.schedulers[name] as number[]).forEach((e, i) =>
        assert.ok(Math.abs(got[i]! - e) < 1e-12, `${name} epoch ${i}: got ${got[i]}, PyTorch ${e}`),
      );
    });
  }
});

test('clipGradNorm matches clip_grad_norm_ in the 2-norm and the ∞-norm', () => {
  for (const [name, normType] of [
    ['l2', 2],
    ['inf', Infinity],
  ] as const) {
    const c = golden.clip[name];
    const a = zeros(c.ga.shape, { requiresGrad: true });
    const d = zeros(c.gc.shape, { requiresGrad: true });
    a.grad = leaf(c.ga);
    d.grad = leaf(c.gc);
    const total = nn.clipGradNorm([a, d], c.max_norm, { normType });
    assert.ok(Math.abs(total - c.total) < 1e-5 * c.total, `${name}: total ${total} vs ${c.total}`);
    close(a.grad, c.ga_out, `${name} ga`);
    close(d.grad, c.gc_out, `${name} gc`);
  }
});

describe('MSELoss and NLLLoss match PyTorch for every reduction', () => {
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    test(reduction, () => {
      const m = golden.losses[`mse ${reduction}`];
      const x = leaf(m.x, true);
      const out = new nn.MSELoss({ reduction }).forward(x, leaf(m.t));
      close(out, m.out, 'mse');
      out.mul(leaf(m.w)).sum().backward();
      close(x.grad, m.grad, 'mse grad');
      const n = golden.losses[`nll ${reduction}`];
      const lp = leaf(n.x, true);
      const nll = new nn.NLLLoss({ reduction }).forward(lp, tensor(n.labels));
      close(nll, n.out, 'nll');
      nll.mul(leaf(n.w)).sum().backward();
      close(lp.grad, n.grad, 'nll grad');
    });
  }
});

test('BatchNorm2d: output, input gradient and running statistics', () => {
  const g = golden.batchnorm2d;
  const bn = new nn.BatchNorm2d(3);
  const x = leaf(g.x, true);
  const y = bn.forward(x);
  close(y, g.y, 'y', 1e-4);
  y.mul(leaf(g.w)).sum().backward();
  close(x.grad, g.grad, 'grad', 1e-4);
  close(bn.runningMean, g.running_mean, 'running_mean');
  close(bn.runningVar, g.running_var, 'running_var');
});

test('Embedding: looked-up rows and the gradient scattered into the table', () => {
  const g = golden.embedding;
  const emb = new nn.Embedding(5, 3);
  emb.loadStateDict({ weight: leaf(g.table) });
  const out = emb.forward(tensor(g.indices));
  close(out, g.out, 'out');
  out.mul(leaf(g.w)).sum().backward();
  close(emb.weight.grad, g.grad, 'grad');
  assert.equal(String(emb), 'Embedding(5, 3)');
});

test("nn.init: PyTorch's gains, and seeded draws at the right scale", () => {
  const i = golden.init;
  for (const [k, v] of Object.entries(i.gains as Record<string, number>))
    assert.ok(Math.abs(nn.init.calculateGain(k as nn.init.Nonlinearity) - v) < 1e-12, k);
  assert.ok(Math.abs(nn.init.calculateGain('leaky_relu', 0.2) - i['leaky_relu_0.2']) < 1e-12);
  const draw = (f: (t: Tensor) => Tensor): Float32Array => f(zeros(i.shape)).dataSync();
  const std = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
  const maxAbs = (v: Float32Array): number => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  const kn = draw((t) => nn.init.kaimingNormal(t, { nonlinearity: 'relu', generator: new Generator(1) }));
  assert.ok(Math.abs(std(kn) / i.kaiming_normal_std_relu - 1) < 0.01);
  const ku = draw((t) => nn.init.kaimingUniform(t, { a: 0, generator: new Generator(2) }));
  assert.ok(
    maxAbs(ku) <= i.kaiming_uniform_bound_default && maxAbs(ku) > 0.99 * i.kaiming_uniform_bound_default,
  );
  const xu = draw((t) => nn.init.xavierUniform(t, { generator: new Generator(3) }));
  assert.ok(maxAbs(xu) <= i.xavier_uniform_bound && maxAbs(xu) > 0.99 * i.xavier_uniform_bound);
  const xn = draw((t) =>
    nn.init.xavierNormal(t, { gain: nn.init.calculateGain('tanh'), generator: new Generator(4) }),
  );
  assert.ok(Math.abs(std(xn) / i.xavier_normal_std_tanh - 1) < 0.01);
  // Seeded: the same generator state gives the same weights.
  assert.deepEqual(
    draw((t) => nn.init.kaimingNormal(t, { generator: new Generator(9) })),
    draw((t) => nn.init.kaimingNormal(t, { generator: new Generator(9) })),
  );
});

test('containers, activation modules and Dropout2d', () => {
  const list = new nn.ModuleList([new nn.Linear(2, 3), new nn.Tanh()]);
  list.append(new nn.Sigmoid());
  const dict = new nn.ModuleDict({ head: new nn.Linear(3, 1) });
  class Net extends nn.Module {
    blocks = list;
    heads = dict;
    override forward(x: Tensor): Tensor {
      let h = x;
      for (const m of this.blocks) h = m.forward(h);
      return this.heads.get('head').forward(h);
    }
  }
  const net = new Net();
  assert.deepEqual(
    net.namedParameters().map(([n]) => n),
    ['blocks.0.weight', 'blocks.0.bias', 'heads.head.weight', 'heads.head.bias'],
  );
  assert.deepEqual(net.forward(zeros([4, 2])).shape, [4, 1]);
  assert.equal(list.length, 3);
  assert.deepEqual(tensor([0]).sigmoid().toArray(), [0.5]);
  assert.equal(nn.Dropout2d, nn.SpatialDropout);
  assert.throws(() => list.forward(zeros([1])), /ModuleList has no forward/);
});
