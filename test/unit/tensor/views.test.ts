/**
 * Views and indexing (src/tensor/views.ts, the view rows of src/autograd/primitives.ts): views share
 * their input's storage until a kernel needs contiguous memory, PyTorch's strides and offsets, reshape
 * copying only when the layout forbids a view, and the errors users meet. Values and gradients against
 * PyTorch are in test/golden/views.test.ts; gradchecks and backend parity in the op table.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ArgumentError,
  ReferenceBackend,
  ShapeError,
  Tensor,
  arange,
  cat,
  getBackend,
  keep,
  setBackend,
  stack,
  tensor,
  tidy,
} from '../../../src/index.js';

/** Runs fn on a fresh reference backend and returns how many buffers it left allocated. */
function buffersAfter(fn: () => void): number {
  const previous = getBackend();
  const backend = new ReferenceBackend();
  setBackend(backend);
  try {
    fn();
    return backend.memory().buffers;
  } finally {
    setBackend(previous);
  }
}

describe('views share storage', () => {
  test('narrow, select, slice, permute, transpose, expand, unsqueeze, squeeze, split allocate nothing', () => {
    const views: Tensor[] = [];
    const count = buffersAfter(() => {
      const x = arange(24).reshape(2, 3, 4);
      views.push(
        x.narrow(1, 1, 2),
        x.select(2, -1),
        x.slice(2, 1, undefined, 2),
        x.permute(2, 0, 1),
        x.transpose(0, 2),
        x.narrow(0, 1, 1).expand(5, 3, 4),
        x.unsqueeze(1).squeeze(1),
        ...x.split(1, 1),
        ...x.chunk(2, 2),
        x.transpose(0, 1).unsqueeze(0).squeeze(),
      );
    });
    // arange's storage and the reshape view of it: one buffer for everything.
    assert.equal(count, 1);
    assert.deepEqual(views[0]!.toArray(), [
      [
        [4, 5, 6, 7],
        [8, 9, 10, 11],
      ],
      [
        [16, 17, 18, 19],
        [20, 21, 22, 23],
      ],
    ]);
  });

  test("strides and storage offsets are PyTorch's", () => {
    const x = arange(24).reshape(2, 3, 4);
    assert.deepEqual(x.stride(), [12, 4, 1]);
    assert.deepEqual(x.transpose(0, 2).stride(), [1, 4, 12]);
    const s = x.select(1, 2);
    assert.deepEqual([s.shape, s.stride(), s.storageOffset()], [[2, 4], [12, 1], 8]);
    const sl = x.slice(2, 1, undefined, 2);
    assert.deepEqual([sl.shape, sl.stride(), sl.storageOffset()], [[2, 3, 2], [12, 4, 2], 1]);
    assert.deepEqual(x.narrow(2, 0, 1).expand(2, 3, 5).stride(), [12, 4, 0]);
    assert.equal(x.isContiguous(), true);
    assert.equal(x.t === undefined, false);
    assert.equal(x.narrow(0, 1, 1).isContiguous(), false, 'an offset needs a copy for the kernels');
  });

  test('contiguous() is the tensor itself when already contiguous, a copy of a view otherwise', () => {
    const x = arange(6).reshape(2, 3);
    assert.equal(x.contiguous(), x);
    const t = x.t().contiguous();
    assert.equal(t.isContiguous(), true);
    assert.deepEqual(t.toArray(), [
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    assert.notEqual(x.clone(), x);
  });

  test('reshape is a view when the layout allows and a copy when it does not', () => {
    const unsqueezed = buffersAfter(() => void arange(24).reshape(2, 3, 4).permute(2, 0, 1).flatten(1));
    assert.equal(
      unsqueezed,
      1,
      'flattening the two trailing dims of [4, 2, 3] with strides [1, 12, 4] is a view',
    );
    const copied = buffersAfter(() => void arange(12).reshape(3, 4).t().flatten());
    assert.equal(copied, 2, 'flattening a transposed matrix copies');
  });

  test('a kept view outlives its base: storage is freed with the last owner', () => {
    const backend = new ReferenceBackend();
    const x = tensor([1, 2, 3, 4], { backend });
    // Made outside every scope, a view goes with its base (as a reshape of a batch does) unless kept.
    const gone = x.narrow(0, 0, 1);
    const v = keep(x.narrow(0, 2, 2));
    x.dispose();
    assert.equal(gone.isDisposed, true);
    assert.deepEqual(v.toArray(), [3, 4]);
    v.dispose();
    assert.equal(backend.memory().buffers, 0);
  });

  test('a view inside tidy is freed with the scope', () => {
    const backend = new ReferenceBackend();
    const previous = getBackend();
    setBackend(backend);
    try {
      tidy(() => void arange(6).reshape(2, 3).t().select(0, 1).mul(2));
      assert.equal(backend.memory().buffers, 0);
    } finally {
      setBackend(previous);
    }
  });
});

/** Runs fn on a fresh reference backend, counting its strided copies (the materialisation of views). */
function copiesDuring(fn: () => void): number {
  const backend = new ReferenceBackend();
  let copies = 0;
  const copy = backend.copyStrided.bind(backend);
  backend.copyStrided = (...args) => {
    copies++;
    copy(...args);
  };
  const previous = getBackend();
  setBackend(backend);
  try {
    fn();
    return copies;
  } finally {
    setBackend(previous);
  }
}

describe('kernels that read views as stored', () => {
  test('elementwise ops read transposed and expanded views through their strides; an offset is copied', () => {
    const x = () => arange(12).reshape(3, 4);
    assert.equal(
      copiesDuring(() => void x().t().mul(2).add(x().t())),
      0,
    );
    assert.equal(
      copiesDuring(() => void x().narrow(0, 0, 1).expand(5, 4).exp()),
      0,
    );
    assert.equal(
      copiesDuring(() => void x().narrow(0, 1, 2).neg()),
      1,
      'offset views are copied',
    );
    assert.equal(
      copiesDuring(() => void x().t().sum(0)),
      1,
      'reductions read contiguous storage',
    );
  });

  test('matmul of a transposed view flips its transpose flag instead of copying', () => {
    const backend = new ReferenceBackend();
    let copies = 0;
    const copy = backend.copyStrided.bind(backend);
    backend.copyStrided = (...args) => {
      copies++;
      copy(...args);
    };
    const previous = getBackend();
    setBackend(backend);
    try {
      const a = arange(12).reshape(3, 4);
      const b = arange(15).reshape(5, 3);
      const y = a.t().matmul(b.t());
      assert.equal(copies, 0);
      assert.deepEqual(y.toArray(), a.t().contiguous().matmul(b.t().contiguous()).toArray());
      assert.equal(copies, 2, 'contiguous() copies');
    } finally {
      setBackend(previous);
    }
  });
});

describe('indexing', () => {
  test('cat, stack and indexSelect read views in place and match PyTorch', () => {
    const x = arange(6).reshape(2, 3);
    assert.deepEqual(cat([x, x.slice(1, 0, 1)], 1).toArray(), [
      [0, 1, 2, 0],
      [3, 4, 5, 3],
    ]);
    assert.deepEqual(stack([x.select(0, 0), x.select(0, 1)], 1).shape, [3, 2]);
    assert.deepEqual(x.indexSelect(1, tensor([2, 2, 0])).toArray(), [
      [2, 2, 0],
      [5, 5, 3],
    ]);
    assert.deepEqual(Tensor.cat([x], 0).toArray(), x.toArray());
  });

  test('gather gradients sum over repeated indices', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.gather(0, tensor([2, 2, 0, 2]))
      .sum()
      .backward();
    assert.deepEqual(x.grad!.toArray(), [1, 0, 3]);
  });

  test('slice clamps like Python and takes negative bounds', () => {
    const x = arange(10);
    assert.deepEqual(x.slice(0, -3).toArray(), [7, 8, 9]);
    assert.deepEqual(x.slice(0, 8, 100).toArray(), [8, 9]);
    assert.deepEqual(x.slice(0, 5, 2).toArray(), []);
    assert.deepEqual(x.slice(0, undefined, undefined, 4).toArray(), [0, 4, 8]);
  });
});

describe('errors name the fix', () => {
  const x = arange(6).reshape(2, 3);
  test('transpose takes two dims; the old all-axes order is permute', () => {
    assert.throws(() => (x.transpose as unknown as (p: number[]) => Tensor)([1, 0]), /use permute/);
    assert.deepEqual(x.transpose(0, 1).shape, [3, 2]);
  });
  test('out-of-range dims, starts and indices', () => {
    assert.throws(() => x.narrow(1, 2, 2), ArgumentError);
    assert.throws(() => x.select(0, 2), /out of range for dim 0 of size 2/);
    assert.throws(() => x.unsqueeze(4), /dim 4 is out of range/);
    assert.throws(() => x.gather(1, tensor([[3], [0]])), /index 3 is out of range/);
    assert.throws(() => x.gather(1, tensor([0, 1])), /as many dims/);
    assert.throws(() => x.slice(1, 0, 2, 0), /step must be a positive integer/);
    assert.throws(() => x.permute(0, 0), /not a permutation/);
  });
  test('cat and expand shape mismatches', () => {
    assert.throws(() => cat([x, arange(4).reshape(2, 2)], 0), ShapeError);
    assert.throws(() => cat([], 0), /non-empty array/);
    assert.throws(() => x.expand(4, 3), /only size-1 dims grow/);
    // The fix it names exists (there is no repeat yet): cat repeats the values.
    assert.throws(() => x.expand(4, 3), /cat\(\[x, x, …\], dim\) repeats/);
  });
});
