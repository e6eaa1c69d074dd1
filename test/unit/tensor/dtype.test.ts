/**
 * Integer tensors (src/tensor/dtype.ts): int32 where PyTorch uses integers (class labels, indices),
 * float32 the default; creation with { dtype }, torch's truncation toward zero, promotion through
 * ops (integer arithmetic stays int32, division and float constants give float32, views keep the
 * dtype), no gradients on int32, and the data loader's labels.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ArgumentError,
  DataLoader,
  TensorDataset,
  arange,
  cat,
  crossEntropy,
  full,
  ones,
  rand,
  tensor,
  zeros,
} from '../../../src/index.js';

describe('int32 tensors', () => {
  test('float32 is the default; { dtype } and the TF.js form make int32, truncating toward zero as torch does', () => {
    assert.equal(tensor([1, 2]).dtype, 'float32');
    const i = tensor([1.7, -2.5, 3], { dtype: 'int32' });
    assert.equal(i.dtype, 'int32');
    assert.deepEqual(i.toArray(), [1, -2, 3]);
    assert.equal(tensor([1, 2], [2], 'int32').dtype, 'int32');
    assert.equal(zeros([2], { dtype: 'int32' }).dtype, 'int32');
    assert.equal(ones([2], { dtype: 'int32' }).dtype, 'int32');
    assert.deepEqual(full([2], -2.9, { dtype: 'int32' }).toArray(), [-2, -2]);
    assert.equal(arange(4, undefined, 1, { dtype: 'int32' }).dtype, 'int32');
  });

  test('promotion: integer arithmetic stays int32, division and float constants give float32', () => {
    const i = tensor([1, 2, 3], { dtype: 'int32' });
    assert.equal(i.add(1).dtype, 'int32');
    assert.equal(i.mul(i).dtype, 'int32');
    assert.equal(i.sum().dtype, 'int32');
    assert.equal(i.mul(0.5).dtype, 'float32');
    assert.equal(i.div(2).dtype, 'float32');
    assert.equal(i.add(tensor([1, 1, 1])).dtype, 'float32');
    assert.equal(i.exp().dtype, 'float32');
  });

  test('views, copies and indexing keep the dtype; gather takes the values’ dtype', () => {
    const i = arange(6, undefined, 1, { dtype: 'int32' }).reshape(2, 3);
    for (const v of [
      i.t(),
      i.narrow(1, 1, 1),
      i.select(0, 1),
      i.unsqueeze(0),
      i.clone(),
      i.t().contiguous(),
    ]) {
      assert.equal(v.dtype, 'int32');
    }
    assert.equal(cat([i, i], 0).dtype, 'int32');
    const idx = tensor([[2], [0]], { dtype: 'int32' });
    assert.equal(i.gather(1, idx).dtype, 'int32');
    assert.equal(arange(6).reshape(2, 3).gather(1, idx).dtype, 'float32');
  });

  test('to / int / float convert; int32 never requires a gradient', () => {
    const f = tensor([1.9, -1.9]);
    assert.deepEqual(f.int().toArray(), [1, -1]);
    assert.equal(f.int().float().dtype, 'float32');
    assert.equal(f.to('float32'), f);
    assert.throws(
      () => tensor([1], { dtype: 'int32', requiresGrad: true }),
      /only float32 tensors can require gradients/,
    );
    assert.throws(() => tensor([1], { dtype: 'int64' as never }), /dtype must be 'float32' or 'int32'/);
    assert.throws(() => tensor([2 ** 25], { dtype: 'int32' }), ArgumentError);
    assert.throws(() => rand([2], { dtype: 'int32' }), /draws are float32/);
  });

  test('labels: a dataset of int32 labels batches int32 labels, which crossEntropy takes', () => {
    const X = arange(8).reshape(4, 2);
    const y = tensor([0, 1, 1, 0], { dtype: 'int32' });
    const loader = new DataLoader(new TensorDataset(X, y), { batchSize: 2 });
    for (const [xb, yb] of loader) {
      assert.equal(yb!.dtype, 'int32');
      assert.ok(Number.isFinite(crossEntropy(xb!, yb!).item()));
    }
  });
});
