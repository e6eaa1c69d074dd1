/**
 * R-Drop's loss against PyTorch (value and gradients of both passes' logits, on every backend) and
 * in float64 gradchecks; the dropout schedules of Liu et al. (2023) as a pure function, and applied
 * per epoch to a model's nn.Dropout layers through the Trainer's onEpochStart hook.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ArgumentError,
  DropoutMLP,
  DropoutMLPScratch,
  F,
  Generator,
  d2l,
  getBackend,
  gradcheck,
  nn,
  setBackend,
  tensor,
  tidy,
} from '../../../src/index.js';
import { backends } from '../../helpers/backends.js';

interface Stored {
  readonly shape: number[];
  readonly data: number[];
}
const g = (
  JSON.parse(readFileSync(new URL('../../fixtures/golden.json', import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >
)['rdrop'] as Record<string, Stored> & { labels: number[]; alpha: number };

function maxAbs(actual: Float32Array, expected: Stored): number {
  return Math.max(...expected.data.map((e, i) => Math.abs(actual[i]! - e)));
}

for (const entry of backends) {
  test(`rdropLoss matches PyTorch (loss, KL, both gradients) on the ${entry.name} backend`, async () => {
    const backend = await entry.create();
    const previous = getBackend();
    setBackend(backend);
    try {
      tidy(() => {
        const z1 = tensor(g.logits1.data, { shape: g.logits1.shape, requiresGrad: true });
        const z2 = tensor(g.logits2.data, { shape: g.logits2.shape, requiresGrad: true });
        const kl = F.symmetricKl(z1, z2);
        const loss = F.rdropLoss(z1, z2, tensor(g.labels), g.alpha);
        loss.backward();
        const errors = {
          loss: maxAbs(loss.dataSync(), g.loss),
          kl: maxAbs(kl.dataSync(), g.kl),
          grad1: maxAbs(z1.grad!.dataSync(), g.grad_logits1),
          grad2: maxAbs(z2.grad!.dataSync(), g.grad_logits2),
        };
        console.log(`# rdrop max|Δ| vs PyTorch on ${entry.name}: ${JSON.stringify(errors)}`);
        for (const [k, v] of Object.entries(errors)) assert.ok(v < 1e-5, `${k}: |Δ| = ${v}`);
      });
    } finally {
      setBackend(previous);
    }
  });
}

describe('R-Drop loss', () => {
  test('float64 gradcheck through both logits; α = 0 is the mean CE; identical passes have KL 0', () => {
    const labels = [1, 0, 2];
    const r = gradcheck(
      (a, b) => F.rdropLoss(a!, b!, tensor(labels), 0.8),
      [
        { data: Array.from({ length: 12 }, (_, i) => Math.sin(i)), shape: [3, 4] },
        { data: Array.from({ length: 12 }, (_, i) => Math.cos(1.7 * i)), shape: [3, 4] },
      ],
    );
    assert.ok(r.ok, JSON.stringify(r));
    const z1 = tensor([
      [1, 2, 0],
      [0.5, -1, 3],
    ]);
    const z2 = tensor([
      [0, 1, 1],
      [2, 2, -1],
    ]);
    const y = tensor([1, 2]);
    const ce = F.crossEntropy(z1, y).add(F.crossEntropy(z2, y)).mul(0.5).item();
    assert.ok(Math.abs(F.rdropLoss(z1, z2, y, 0).item() - ce) < 1e-6);
    assert.ok(F.rdropLoss(z1, z2, y, 1).item() > ce);
    assert.ok(Math.abs(F.symmetricKl(z1, z1).item()) < 1e-7);
    assert.throws(() => F.rdropLoss(z1, z2, y, -1), ArgumentError);
    assert.throws(() => F.symmetricKl(z1, tensor([[1, 2, 3]])), /must both be \[N, C\]/);
  });
});

describe('dropout schedules (Liu et al. 2023)', () => {
  const at = (mode: d2l.DropMode, schedule: d2l.DropSchedule, cutoffEpoch: number): number[] =>
    Array.from({ length: 6 }, (_, e) => d2l.dropRateAt(0.5, e, { mode, schedule, cutoffEpoch }));

  test('standard, early, late, and early-linear (NumPy linspace(p, 0, cutoff)) per epoch', () => {
    assert.deepEqual(
      Array.from({ length: 3 }, (_, e) => d2l.dropRateAt(0.3, e, { mode: 'standard' })),
      [0.3, 0.3, 0.3],
    );
    assert.deepEqual(at('early', 'constant', 2), [0.5, 0.5, 0, 0, 0, 0]);
    assert.deepEqual(at('late', 'constant', 2), [0, 0, 0.5, 0.5, 0.5, 0.5]);
    assert.deepEqual(at('early', 'linear', 5), [0.5, 0.375, 0.25, 0.125, 0, 0]);
    assert.deepEqual(at('early', 'linear', 1), [0.5, 0, 0, 0, 0, 0]);
    assert.deepEqual(at('early', 'constant', 0), [0, 0, 0, 0, 0, 0]);
  });

  test('inconsistent schedules are refused with one clear line', () => {
    assert.throws(() => d2l.dropRateAt(0.5, 0, { mode: 'early' }), /needs cutoffEpoch/);
    assert.throws(
      () => d2l.dropRateAt(0.5, 0, { mode: 'late', schedule: 'linear', cutoffEpoch: 2 }),
      /early dropout only/,
    );
    assert.throws(
      () => d2l.dropRateAt(0.5, 0, { mode: 'sometimes' as d2l.DropMode }),
      /standard, early or late/,
    );
    assert.throws(
      () => d2l.dropRateAt(0.5, -1, { mode: 'standard' }),
      /epoch must be a non-negative integer/,
    );
    assert.throws(
      () => d2l.dropoutScheduler(new DropoutMLPScratch(), { mode: 'early', cutoffEpoch: 1 }),
      /applies dropout another way/,
    );
  });

  test("the Trainer's onEpochStart hook sets every nn.Dropout's p each epoch (early dropout)", async () => {
    const model = new DropoutMLP({
      numHiddens1: 8,
      numHiddens2: 8,
      dropout1: 0.2,
      dropout2: 0.5,
      generator: new Generator(1),
    });
    const drops = model.net.layers.filter((l): l is nn.Dropout => l instanceof nn.Dropout);
    assert.equal(drops.length, 2);
    const images = Uint8Array.from({ length: 32 * 784 }, (_, i) => (i * 37) % 251);
    const labels = Uint8Array.from({ length: 32 }, (_, i) => i % 10);
    const data = new d2l.FashionMNIST(
      { trainImages: images, trainLabels: labels, testImages: images, testLabels: labels },
      { batchSize: 16, generator: new Generator(2) },
    );
    const seen: number[][] = [];
    const schedule = d2l.dropoutScheduler(model, { mode: 'early', schedule: 'linear', cutoffEpoch: 3 });
    await new d2l.Trainer({
      maxEpochs: 4,
      onEpochStart: schedule,
      onEpochEnd: () => seen.push(drops.map((d) => d.p)),
    }).fit(model, data);
    assert.deepEqual(seen, [
      [0.2, 0.5],
      [0.1, 0.25],
      [0, 0],
      [0, 0],
    ]);
  });
});
