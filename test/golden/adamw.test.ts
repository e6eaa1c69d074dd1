/**
 * optim.AdamW against PyTorch (three golden steps from scripts/golden.py, on every backend, and ten
 * with weight decay under warm-up + cosine, whose rates match torch's schedulers), its
 * defaults, its state round trip (a resumed optimiser continues bit for bit), and the warm-up +
 * cosine schedule's values and edge cases.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ArgumentError, getBackend, optim, setBackend, tensor, tidy } from '../../src/index.js';
import { backends } from '../helpers/backends.js';

interface Stored {
  readonly shape: number[];
  readonly data: number[];
}
const golden = (
  JSON.parse(readFileSync(new URL('../fixtures/golden.json', import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >
)['adamw'] as Record<string, Stored> & { lr: number };

for (const entry of backends) {
  describe(`AdamW on the ${entry.name} backend`, async () => {
    const backend = await entry.create();
    test('three steps match torch.optim.AdamW (defaults, lr 0.01)', (t) => {
      const previous = getBackend();
      setBackend(backend);
      try {
        const p = tensor(golden.param.data, { requiresGrad: true });
        const opt = new optim.AdamW([p], { lr: golden.lr });
        let worst = 0;
        for (const k of [1, 2, 3]) {
          p.grad = tensor(golden[`grad${k}`]!.data);
          opt.step();
          const got = p.dataSync();
          golden[`after${k}`]!.data.forEach((e, i) => {
            const d = Math.abs(got[i]! - e) / Math.max(1, Math.abs(e));
            assert.ok(d <= 1e-6, `step ${k}, element ${i}: got ${got[i]}, PyTorch ${e}`);
            worst = Math.max(worst, d);
          });
        }
        assert.equal(opt.stepCount, 3);
        t.diagnostic(`max error vs PyTorch: ${worst.toExponential(1)}`);
        opt.zeroGrad();
        assert.equal(p.grad, null);
      } finally {
        setBackend(previous);
      }
    });
  });
}

const scheduled = (
  JSON.parse(readFileSync(new URL('../fixtures/golden.json', import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >
)['adamw_warmup_cosine'] as Record<'param' | 'grads' | 'after', Stored> & {
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  minLr: number;
  weightDecay: number;
  lrs: number[];
};

test("warm-up + cosine equals torch's SequentialLR(LinearLR, CosineAnnealingLR); AdamW (weight decay 0.05) under it matches PyTorch", (t) => {
  const { lr, warmupSteps, totalSteps, minLr, weightDecay, lrs } = scheduled;
  const o = { lr, warmupSteps, totalSteps, minLr };
  optim.checkWarmupCosine(o);
  lrs.forEach((e, s) => {
    const got = optim.warmupCosine(s, o);
    assert.ok(Math.abs(got - e) <= 1e-15, `step ${s}: lr ${got}, PyTorch ${e}`);
  });
  tidy(() => {
    const n = scheduled.param.shape[0]!;
    const p = tensor(scheduled.param.data, { requiresGrad: true });
    const opt = new optim.AdamW([p], { lr, weightDecay });
    let worst = 0;
    lrs.forEach((_, s) => {
      opt.lr = optim.warmupCosine(s, o);
      p.grad = tensor(scheduled.grads.data.slice(s * n, (s + 1) * n));
      opt.step();
      const got = p.dataSync();
      scheduled.after.data.slice(s * n, (s + 1) * n).forEach((e, i) => {
        const d = Math.abs(got[i]! - e) / Math.max(1, Math.abs(e));
        assert.ok(d <= 1e-6, `step ${s}, element ${i}: got ${got[i]}, PyTorch ${e}`);
        worst = Math.max(worst, d);
      });
    });
    t.diagnostic(`max error vs PyTorch over ${lrs.length} scheduled steps: ${worst.toExponential(1)}`);
  });
});

test("AdamW's defaults are PyTorch's", () => {
  const opt = new optim.AdamW([tensor([1], { requiresGrad: true })]);
  assert.equal(opt.lr, 1e-3);
  assert.deepEqual(opt.betas, [0.9, 0.999]);
  assert.equal(opt.eps, 1e-8);
  assert.equal(opt.weightDecay, 0.01);
});

test('AdamW state round trip: a resumed optimiser continues bit for bit', () => {
  tidy(() => {
    const grads = [
      [0.5, -1, 2],
      [0.25, 0.5, -0.75],
      [-1, 1, 0.125],
      [2, -0.5, 1],
    ];
    const run = (interruptAt: number | null): Float32Array => {
      const p = tensor([0.1, -0.2, 0.3], { requiresGrad: true });
      let opt = new optim.AdamW([p], { lr: 0.05 });
      grads.forEach((g, i) => {
        if (i === interruptAt) {
          const saved = opt.state();
          opt = new optim.AdamW([p], { lr: 0.05 });
          opt.loadState(saved);
        }
        p.grad = tensor(g);
        opt.step();
      });
      return p.dataSync();
    };
    assert.deepEqual(run(2), run(null));
    const opt = new optim.AdamW([tensor([1, 2], { requiresGrad: true })]);
    assert.throws(
      () => opt.loadState({ step: 1, buffers: { exp_avg: [new Float32Array(3)], exp_avg_sq: [null] } }),
      /has 3 values but its parameter has 2/,
    );
  });
});

test('AdamW refuses bad hyperparameters with one line', () => {
  const p = [tensor([1], { requiresGrad: true })];
  assert.throws(() => new optim.AdamW(p, { lr: 0 }), ArgumentError);
  assert.throws(() => new optim.AdamW(p, { betas: [0.9, 1] }), /betas must be in \[0, 1\)/);
  assert.throws(() => new optim.AdamW(p, { weightDecay: -1 }), /weightDecay must be ≥ 0/);
  assert.throws(() => new optim.AdamW([]), /no parameters/);
});

test('warmupCosine: linear warm-up to lr, cosine down to minLr, flat after the end', () => {
  const o = { lr: 1, warmupSteps: 4, totalSteps: 14, minLr: 0.1 };
  optim.checkWarmupCosine(o);
  assert.deepEqual(
    [0, 1, 2, 3].map((s) => optim.warmupCosine(s, o)),
    [0.25, 0.5, 0.75, 1],
  );
  assert.equal(optim.warmupCosine(4, o), 1);
  assert.ok(Math.abs(optim.warmupCosine(9, o) - 0.55) < 1e-12, 'halfway is the mean of lr and minLr');
  assert.ok(Math.abs(optim.warmupCosine(14, o) - 0.1) < 1e-12);
  assert.ok(Math.abs(optim.warmupCosine(100, o) - 0.1) < 1e-12);
  const noWarmup = { lr: 2, warmupSteps: 0, totalSteps: 0 };
  assert.equal(optim.warmupCosine(0, noWarmup), 0, 'no span: already at the floor');
  assert.throws(() => optim.checkWarmupCosine({ lr: 1, warmupSteps: 5, totalSteps: 3 }), /totalSteps/);
  assert.throws(() => optim.checkWarmupCosine({ lr: 1, warmupSteps: 0, totalSteps: 3, minLr: 2 }), /minLr/);
});
