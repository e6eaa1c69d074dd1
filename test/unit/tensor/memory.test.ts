/**
 * Memory that frees itself (src/tensor/engine.ts): the naive PyTorch-style loop stays flat with no
 * tidy and no dispose, backward releases its graph (retainGraph keeps it), tidy frees on throw and
 * refuses async functions, `using` works, data loaders own their batches, and out-of-memory is a
 * DropoutLabError with advice.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ArgumentError,
  DataLoader,
  DropoutLabError,
  F,
  Generator,
  TensorDataset,
  keep,
  manualSeed,
  nn,
  optim,
  randn,
  randperm,
  setBackend,
  tensor,
  tidy,
  zeros,
  type Tensor,
} from '../../../src/index.js';
import { backends } from '../../helpers/backends.js';
import { randomArray } from '../../helpers/testData.js';

function labels(n: number, classes: number): Tensor {
  return tensor(Float32Array.from({ length: n }, (_, i) => (i * 7) % classes));
}

for (const { name, create } of backends) {
  describe(`memory on the ${name} backend`, () => {
    test('the naive loop (no tidy, no dispose, batches from a DataLoader) keeps memory flat', async () => {
      const backend = await create();
      setBackend(backend);
      manualSeed(0);
      const X = tensor(randomArray(96 * 12, 1), { shape: [96, 3, 4] });
      const y = labels(96, 5);
      const loader = new DataLoader(new TensorDataset(X, y), { batchSize: 16, shuffle: true });
      const net = new nn.Sequential(
        new nn.Flatten(),
        new nn.Linear(12, 32),
        new nn.ReLU(),
        new nn.Dropout(0.5),
        new nn.Linear(32, 5),
      );
      const opt = new optim.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
      const samples: string[] = [];
      let first = 0;
      let last = 0;
      for (let epoch = 0; epoch < 6; epoch++) {
        for (const [Xb, yb] of loader) {
          const h = Xb!.reshape([Xb!.shape[0]!, -1]).reshape([-1, 3, 4]); // a view of a batch, as users write
          const loss = F.crossEntropy(net.forward(h), yb!);
          opt.zeroGrad();
          loss.backward();
          opt.step();
          last = loss.item();
          if (epoch === 0 && first === 0) first = last;
        }
        samples.push(JSON.stringify(backend.memory()));
      }
      // After the first epoch (momentum buffers and gradients now exist) nothing grows.
      assert.deepEqual(new Set(samples.slice(1)).size, 1, samples.join(' '));
      assert.ok(last < first, `the loss falls (${first} → ${last})`);
    });

    test('backward frees saved intermediates; a second backward names retainGraph; retainGraph keeps them', async () => {
      setBackend(await create());
      const w = tensor([1, 2, 3]);
      w.requiresGrad = true;
      const logits = w.reshape([1, 3]);
      const loss = F.crossEntropy(logits, tensor([2]));
      loss.backward({ retainGraph: true });
      const once = [...w.grad!.dataSync()];
      loss.backward();
      assert.deepEqual(
        [...w.grad!.dataSync()],
        once.map((g) => 2 * g),
        'retained: gradients accumulate',
      );
      assert.throws(
        () => loss.backward(),
        (e: unknown) =>
          e instanceof DropoutLabError && e.code === 'ERR_GRAPH_RELEASED' && /retainGraph/.test(e.message),
      );
      assert.deepEqual(
        [...w.grad!.dataSync()],
        once.map((g) => 2 * g),
        'the refused pass changed nothing',
      );
      assert.equal(loss.item() > 0, true, 'the loss itself is still readable after backward');
    });

    test('graph tensors live until the backward after their own; keep() holds one longer', async () => {
      setBackend(await create());
      const w = randn([4, 2]);
      w.requiresGrad = true;
      const x = zeros([3, 4]).add(1);
      const step = (): Tensor => {
        const out = x.matmul(w).sum();
        out.backward();
        return out;
      };
      const a = step();
      assert.ok(!a.isDisposed, 'readable after its own backward');
      const held = keep(step());
      assert.ok(a.isDisposed, 'released by the next backward');
      step();
      assert.throws(() => a.add(1), /released by the second backward|keep\(t\)/);
      assert.ok(!held.isDisposed);
      assert.equal(Number.isFinite(held.item()), true);
      held.dispose();
      x.dispose();
      w.dispose();
    });

    test('tidy frees its scope when fn throws, and refuses async functions and Promises', async () => {
      const backend = await create();
      setBackend(backend);
      const before = backend.memory().buffers;
      for (let i = 0; i < 20; i++) {
        assert.throws(() =>
          tidy(() => {
            zeros([8]).add(1);
            throw new Error('boom');
          }),
        );
      }
      assert.equal(backend.memory().buffers, before);
      assert.throws(
        () => tidy((async () => zeros([2])) as unknown as () => Tensor),
        (e: unknown) =>
          e instanceof ArgumentError && e.code === 'ERR_ASYNC_TIDY' && /synchronous/.test(e.message),
      );
      assert.throws(
        () => tidy(() => Promise.resolve(zeros([2]))),
        (e: unknown) => e instanceof ArgumentError && e.code === 'ERR_ASYNC_TIDY',
      );
      assert.equal(backend.memory().buffers, before);
    });

    test('`using` disposes tensors and batches', async () => {
      const backend = await create();
      setBackend(backend);
      const before = backend.memory().buffers;
      let seen: Tensor | null = null;
      {
        using t = zeros([4]);
        seen = t;
        assert.ok(!t.isDisposed);
      }
      assert.ok(seen.isDisposed);
      const ds = new TensorDataset(zeros([4, 2]), zeros([4]));
      const batch = ds.gather([0, 2]);
      batch[Symbol.dispose]();
      assert.ok(batch.every((t) => t.isDisposed));
      assert.equal(backend.memory().buffers, before + 0 /* ds copied its tensors to the host */ + 2);
    });

    test('out of memory is a DropoutLabError that says what to do', async () => {
      setBackend(await create());
      assert.throws(
        () => zeros([2 ** 31 - 1, 4]),
        (e: unknown) =>
          e instanceof DropoutLabError && e.code === 'ERR_OUT_OF_MEMORY' && /dispose\(\)/.test(e.message),
      );
    });
  });
}

describe('TensorDataset and DataLoader', () => {
  test('batches in order, shuffled with the generator as randperm, and dropLast', () => {
    const X = tensor(
      Float32Array.from({ length: 10 }, (_, i) => i),
      { shape: [10, 1] },
    );
    const y = tensor(Float32Array.from({ length: 10 }, (_, i) => 100 + i));
    const ds = new TensorDataset(X, y);
    assert.equal(ds.length, 10);
    const plain = new DataLoader(ds, { batchSize: 4 });
    assert.equal(plain.length, 3);
    const ys: number[][] = [];
    for (const [, yb] of plain) ys.push([...yb!.dataSync()]);
    assert.deepEqual(ys, [
      [100, 101, 102, 103],
      [104, 105, 106, 107],
      [108, 109],
    ]);
    const dropped = new DataLoader(ds, { batchSize: 4, dropLast: true });
    assert.equal(dropped.length, 2);
    const shuffled = new DataLoader(ds, { batchSize: 5, shuffle: true, generator: new Generator(3) });
    const order = [...randperm(10, new Generator(3))];
    const seen: number[] = [];
    for (const [Xb, yb] of shuffled) {
      seen.push(...Xb!.dataSync());
      assert.deepEqual(
        [...yb!.dataSync()],
        [...Xb!.dataSync()].map((v) => 100 + v),
      );
      assert.deepEqual(Xb!.shape, [5, 1]);
    }
    assert.deepEqual(seen, order);
  });

  test('a batch is freed when the loader moves on or the loop ends', () => {
    const ds = new TensorDataset(zeros([6, 2]));
    const held: Tensor[] = [];
    for (const [Xb] of new DataLoader(ds, { batchSize: 2 })) {
      for (const h of held) assert.ok(h.isDisposed);
      held.push(Xb!);
      assert.ok(!Xb!.isDisposed);
    }
    assert.ok(held.every((t) => t.isDisposed));
    for (const [Xb] of new DataLoader(ds, { batchSize: 2 })) {
      held.push(Xb!);
      break;
    }
    assert.ok(held.at(-1)!.isDisposed, 'break frees the current batch');
  });

  test('bad arguments name the problem', () => {
    assert.throws(() => new TensorDataset(zeros([3, 2]), zeros([4])), /same first dimension/);
    assert.throws(() => new DataLoader(new TensorDataset(zeros([3])), { batchSize: 0 }), /batchSize/);
  });
});
