/**
 * noGrad outside every scope frees what it made once fn returns (issue 25, item 7): evaluating a
 * model ten thousand times with `noGrad(() => F.accuracy(model.forward(X), y))`, without tidy, leaves
 * the backend's buffers and bytes where they were. Before, each call left ~6 buffers to the GC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, Generator, getBackend, nn, noGrad, randn, tensor, tidy, zeros } from '../../../src/index.js';

test('10,000 evaluations under noGrad without tidy do not grow memory', () => {
  const generator = new Generator(7);
  const model = new nn.Sequential(
    new nn.Linear(20, 32, { generator }),
    new nn.ReLU(),
    new nn.Linear(32, 10, { generator }),
  );
  const X = randn([16, 20], { generator });
  const y = tensor(Array.from({ length: 16 }, (_, i) => i % 10));
  model.eval();
  const first = noGrad(() => F.accuracy(model.forward(X), y));
  const before = getBackend().memory();
  let last = first;
  for (let i = 0; i < 10_000; i++) last = noGrad(() => F.accuracy(model.forward(X), y));
  const after = getBackend().memory();
  assert.equal(last, first);
  assert.deepEqual(after, before);
});

test('what noGrad returns survives; parameters made inside survive; nested in tidy it defers to the scope', () => {
  const x = tensor([1, 2, 3]);
  const { doubled, total } = noGrad(() => ({ doubled: x.mul(2), total: x.sum() }));
  assert.deepEqual(doubled.toArray(), [2, 4, 6]);
  assert.equal(total.item(), 6);
  const made = noGrad(() => {
    const w = zeros([2], { requiresGrad: true });
    return [w];
  })[0]!;
  assert.equal(made.isDisposed, false);
  const layer = noGrad(() => new nn.Linear(3, 2));
  assert.equal(layer.weight!.isDisposed, false);
  let inner: ReturnType<typeof tensor> | undefined;
  tidy(() => {
    noGrad(() => {
      inner = x.mul(3);
    });
    assert.equal(inner!.isDisposed, false, 'inside tidy the enclosing scope decides');
  });
  assert.equal(inner!.isDisposed, true);
});
