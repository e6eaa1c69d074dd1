/**
 * BatchNorm1d and LayerNorm: PyTorch golden values (forward; gradients of x, weight and bias; the
 * running-statistics update; eval with running statistics) on every backend, float64 gradchecks of
 * the compositions, buffers in state dicts and training checkpoints, and bad arguments.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ArgumentError,
  Generator,
  ShapeError,
  d2l,
  getBackend,
  gradcheck,
  nn,
  setBackend,
  tensor,
  tidy,
  type Tensor,
} from '../../src/index.js';
import { layerNorm } from '../../src/ops/normalization.js';
import { decodeCheckpoint, encodeCheckpoint, type TrainingCheckpoint } from '../../src/train/checkpoint.js';
import { backends } from '../helpers/backends.js';

interface Stored {
  readonly shape: number[];
  readonly data: number[];
}
const golden = JSON.parse(
  readFileSync(new URL('../fixtures/golden.json', import.meta.url), 'utf8'),
) as Record<string, Record<string, Stored> & Record<string, unknown>>;
const section = (name: string): Record<string, Stored> => golden[name] as Record<string, Stored>;

/** Largest |actual − PyTorch| seen per quantity, printed at the end (the closing note's figures). */
const maxErrors = new Map<string, number>();

const TOL = 1e-5;

function assertMatches(actual: Tensor | null, expected: Stored, what: string): void {
  assert.ok(actual !== null, `${what}: missing`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  let worst = 0;
  expected.data.forEach((e, i) => {
    const d = Math.abs(a[i]! - e);
    worst = Math.max(worst, d);
    if (d > TOL * Math.max(1, Math.abs(e)))
      assert.fail(`${what}[${i}]: got ${a[i]}, PyTorch ${e} (|Δ| = ${d})`);
  });
  const key = what.replace(/\d+$/, '');
  maxErrors.set(key, Math.max(maxErrors.get(key) ?? 0, worst));
}

const leaf = (s: Stored, requiresGrad = true): Tensor => tensor(s.data, { shape: s.shape, requiresGrad });

function onBackend<T>(backend: Parameters<typeof setBackend>[0], fn: () => T): T {
  const previous = getBackend();
  setBackend(backend);
  try {
    return fn();
  } finally {
    setBackend(previous);
  }
}

for (const entry of backends) {
  describe(`PyTorch golden values on the ${entry.name} backend`, async () => {
    const backend = await entry.create();

    test('BatchNorm1d [N, C]: two training steps (output, grads, running stats), then eval', () => {
      onBackend(backend, () => {
        const g = section('batch_norm1d');
        const bn = new nn.BatchNorm1d(5);
        bn.weight!.backend.write(bn.weight!.id, g.weight!.data);
        bn.bias!.backend.write(bn.bias!.id, g.bias!.data);
        for (const step of [1, 2]) {
          tidy(() => {
            bn.zeroGrad();
            const x = leaf(g[`x${step}`]!);
            const y = bn.forward(x);
            assertMatches(y, g[`out${step}`]!, `BatchNorm1d forward`);
            y.mul(leaf(g[`weights${step}`]!, false))
              .sum()
              .backward();
            assertMatches(x.grad, g[`grad_x${step}`]!, 'BatchNorm1d grad x');
            assertMatches(bn.weight!.grad, g[`grad_weight${step}`]!, 'BatchNorm1d grad weight');
            assertMatches(bn.bias!.grad, g[`grad_bias${step}`]!, 'BatchNorm1d grad bias');
          });
          assertMatches(bn.runningMean, g[`running_mean${step}`]!, 'BatchNorm1d running_mean');
          assertMatches(bn.runningVar, g[`running_var${step}`]!, 'BatchNorm1d running_var');
          assert.equal(bn.numBatchesTracked.item(), golden['batch_norm1d']![`num_batches_tracked${step}`]);
        }
        bn.eval();
        const before = bn.runningMean.dataSync();
        assertMatches(bn.forward(leaf(g.x_eval!, false)), g.out_eval!, 'BatchNorm1d eval forward');
        assert.deepEqual(bn.runningMean.dataSync(), before, 'eval leaves the running statistics alone');
        assert.equal(bn.numBatchesTracked.item(), 2);
        bn.zeroGrad();
      });
    });

    test('BatchNorm1d [N, C, L] with momentum null (cumulative average)', () => {
      onBackend(backend, () => {
        const g = section('batch_norm1d_3d');
        const bn = new nn.BatchNorm1d(3, { momentum: null });
        tidy(() => {
          const x = leaf(g.x!);
          const y = bn.forward(x);
          assertMatches(y, g.out!, 'BatchNorm1d forward');
          y.mul(leaf(g.weights!, false)).sum().backward();
          assertMatches(x.grad, g.grad_x!, 'BatchNorm1d grad x');
        });
        assertMatches(bn.runningMean, g.running_mean!, 'BatchNorm1d running_mean');
        assertMatches(bn.runningVar, g.running_var!, 'BatchNorm1d running_var');
        bn.zeroGrad();
      });
    });

    test('LayerNorm: output and gradients of x, weight and bias', () => {
      onBackend(backend, () => {
        const g = section('layer_norm');
        const ln = new nn.LayerNorm(6);
        ln.weight!.backend.write(ln.weight!.id, g.weight!.data);
        ln.bias!.backend.write(ln.bias!.id, g.bias!.data);
        tidy(() => {
          const x = leaf(g.x!);
          const y = ln.forward(x);
          assertMatches(y, g.out!, 'LayerNorm forward');
          y.mul(leaf(g.weights!, false)).sum().backward();
          assertMatches(x.grad, g.grad_x!, 'LayerNorm grad x');
          assertMatches(ln.weight!.grad, g.grad_weight!, 'LayerNorm grad weight');
          assertMatches(ln.bias!.grad, g.grad_bias!, 'LayerNorm grad bias');
        });
        ln.zeroGrad();
      });
    });
  });
}

test('report: max |Δ| against PyTorch over every backend', () => {
  for (const [k, v] of [...maxErrors].sort()) console.log(`# golden max|Δ| ${k}: ${v.toExponential(2)}`);
  assert.ok(maxErrors.size >= 10);
});

describe('float64 gradchecks of the compositions', () => {
  const values = (n: number, seed: number): number[] =>
    Array.from({ length: n }, (_, i) => Math.fround(1.5 * Math.sin(1.3 * i + 0.7 * seed + 0.4) + 0.2 * seed));
  const weights = (n: number): number[] =>
    Array.from({ length: n }, (_, i) => 0.5 + 0.25 * Math.cos(0.9 * i));
  const weighted = (y: Tensor): Tensor => y.mul(tensor(weights(y.size), { shape: y.shape })).sum();

  test('BatchNorm1d training [6, 4]: x, weight, bias', () => {
    const r = gradcheck(
      // The affine step written out, so weight and bias are gradcheck inputs.
      (x, w, b) => weighted(new nn.BatchNorm1d(4, { affine: false }).forward(x!).mul(w!).add(b!)),
      [
        { data: values(24, 1), shape: [6, 4] },
        { data: values(4, 2), shape: [4] },
        { data: values(4, 3), shape: [4] },
      ],
    );
    assert.ok(r.ok, JSON.stringify(r));
  });

  test('BatchNorm1d training [3, 2, 4] and eval (running stats are constants)', () => {
    const train = gradcheck(
      (x) => weighted(new nn.BatchNorm1d(2).forward(x!)),
      [{ data: values(24, 4), shape: [3, 2, 4] }],
    );
    assert.ok(train.ok, JSON.stringify(train));
    const evalCheck = gradcheck(
      (x) => weighted(new nn.BatchNorm1d(2).eval().forward(x!)),
      [{ data: values(24, 5), shape: [3, 2, 4] }],
    );
    assert.ok(evalCheck.ok, JSON.stringify(evalCheck));
  });

  test('layerNorm over one and two trailing axes, with weight and bias', () => {
    const r = gradcheck(
      (x, w, b) => weighted(layerNorm(x!, [5], { weight: w!, bias: b! })),
      [
        { data: values(15, 6), shape: [3, 5] },
        { data: values(5, 7), shape: [5] },
        { data: values(5, 8), shape: [5] },
      ],
    );
    assert.ok(r.ok, JSON.stringify(r));
    const two = gradcheck(
      (x) => weighted(layerNorm(x!, [2, 3], { eps: 1e-3 })),
      [{ data: values(12, 9), shape: [2, 2, 3] }],
    );
    assert.ok(two.ok, JSON.stringify(two));
  });
});

describe('BatchNorm1d and LayerNorm modules', () => {
  test('PyTorch names: parameters, buffers and state dict order; buffers get no gradient', () => {
    const net = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4), new nn.LayerNorm(4));
    assert.deepEqual(
      net.namedParameters().map(([n]) => n),
      ['0.weight', '0.bias', '1.weight', '1.bias', '2.weight', '2.bias'],
    );
    assert.deepEqual(Object.keys(net.stateDict()), [
      '0.weight',
      '0.bias',
      '1.weight',
      '1.bias',
      '1.running_mean',
      '1.running_var',
      '1.num_batches_tracked',
      '2.weight',
      '2.bias',
    ]);
    const bn = net.layers[1] as nn.BatchNorm1d;
    assert.deepEqual(bn.runningVar.dataSync(), Float32Array.from([1, 1, 1, 1]));
    assert.equal(bn.runningMean.requiresGrad, false);
    assert.equal(new nn.BatchNorm1d(4, { affine: false }).parameters().length, 0);
    assert.equal(new nn.LayerNorm(4, { elementwiseAffine: false }).parameters().length, 0);
  });

  test('the running statistics round-trip through loadStateDict and a training checkpoint', () => {
    const make = (): nn.Sequential =>
      new nn.Sequential(new nn.Linear(3, 4, { generator: new Generator(1) }), new nn.BatchNorm1d(4));
    const a = make();
    const x = tensor(
      Array.from({ length: 15 }, (_, i) => Math.sin(i)),
      { shape: [5, 3] },
    );
    a.forward(x);
    a.forward(x.mul(2));
    const b = make();
    assert.notDeepEqual(b.stateDict()['1.running_mean']!.data, a.stateDict()['1.running_mean']!.data);
    b.loadStateDict(a.stateDict());
    assert.deepEqual(b.eval().forward(x).dataSync(), a.eval().forward(x).dataSync());
    assert.equal((b.layers[1] as nn.BatchNorm1d).numBatchesTracked.item(), 2);
  });

  test('the Trainer checkpoints and restores the running statistics', async () => {
    class BnNet extends d2l.Classifier {
      readonly net = this.registerModule(
        'net',
        new nn.Sequential(
          new nn.Linear(4, 6, { generator: new Generator(3) }),
          new nn.BatchNorm1d(6),
          new nn.ReLU(),
          new nn.Linear(6, 3, { generator: new Generator(4) }),
        ),
      );
      forward(X: Tensor): Tensor {
        return this.net.forward(X);
      }
    }
    const images = Uint8Array.from({ length: 64 * 784 }, (_, i) => (i * 37) % 251);
    const labels = Uint8Array.from({ length: 64 }, (_, i) => i % 3);
    const data = (): d2l.FashionMNIST =>
      new d2l.FashionMNIST(
        {
          trainImages: images,
          trainLabels: labels,
          testImages: images.slice(0, 16 * 784),
          testLabels: labels.slice(0, 16),
        },
        { batchSize: 16, generator: new Generator(5) },
      );
    // The 784 pixels go through a fixed projection to 4 inputs, so the net stays small.
    class Projected extends BnNet {
      override forward(X: Tensor): Tensor {
        const flat = X.reshape([X.shape[0]!, -1]);
        return this.net.forward(flat.reshape([flat.shape[0]!, 4, 196]).mean(2));
      }
    }
    const saved: TrainingCheckpoint[] = [];
    const model = new Projected();
    await new d2l.Trainer({
      maxEpochs: 2,
      checkpointEvery: 1,
      checkpointer: { save: (c) => void saved.push(decodeCheckpoint(encodeCheckpoint(c))) },
    }).fit(model, data());
    const last = saved[saved.length - 1]!;
    assert.ok('net.1.running_mean' in last.params && 'net.1.num_batches_tracked' in last.params);
    assert.deepEqual(
      last.params['net.1.running_var']!.data,
      (model.net.layers[1] as nn.BatchNorm1d).runningVar.dataSync(),
    );
    assert.equal(last.params['net.1.num_batches_tracked']!.data[0], 8);
    // Resuming from epoch 1 ends exactly where the uninterrupted run ended.
    const resumed = new Projected();
    await new d2l.Trainer({ maxEpochs: 2, resumeFrom: saved[0]! }).fit(resumed, data());
    assert.deepEqual(resumed.stateDict(), model.stateDict());
  });

  test('bad arguments and shapes fail with one clear line', () => {
    assert.throws(() => new nn.BatchNorm1d(0), ArgumentError);
    assert.throws(() => new nn.BatchNorm1d(3, { eps: 0 }), /eps must be a positive number/);
    assert.throws(() => new nn.BatchNorm1d(3, { momentum: 2 }), /momentum must be in \[0, 1\] or null/);
    assert.throws(() => new nn.LayerNorm([]), ArgumentError);
    const bn = new nn.BatchNorm1d(3);
    assert.throws(() => bn.forward(tensor([1, 2, 3])), ShapeError);
    assert.throws(() => bn.forward(tensor([[1, 2, 3, 4]])), /expects \[batch, 3\]/);
    assert.throws(() => bn.forward(tensor([[1, 2, 3]])), /more than 1 value per channel when training/);
    assert.doesNotThrow(() => bn.eval().forward(tensor([[1, 2, 3]])));
    assert.throws(
      () => new nn.LayerNorm(4).forward(tensor([[1, 2, 3]])),
      /does not end in normalizedShape \[4\]/,
    );
  });
});
