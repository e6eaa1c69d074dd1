import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ShapeError } from '../../../src/errors.js';
import { resolveReshape } from '../../../src/tensor/shape.js';

describe('resolveReshape', () => {
  it('infers the one -1 and keeps the other dims', () => {
    assert.deepEqual(resolveReshape([2, 3, 4], [-1, 4]), [6, 4]);
    assert.deepEqual(resolveReshape([2, 3, 4], [2, -1, 1]), [2, 12, 1]);
    assert.deepEqual(resolveReshape([2, 3], [6]), [6]);
    assert.deepEqual(resolveReshape([], [1, -1]), [1, 1]);
    assert.deepEqual(resolveReshape([0, 3], [-1, 3]), [0, 3]);
    assert.deepEqual(resolveReshape([0, 3], [0, -1]), [0, 0]);
  });

  it('rejects invalid targets and mismatched sizes with the same messages', () => {
    const invalid = (to: number[]): RegExp =>
      new RegExp(
        `^reshape: invalid target shape \\[${to.join(', ')}\\]; use non-negative integers and at most one -1\\.$`,
      );
    for (const to of [[-1, -1], [2, -2], [1.5, 4], [Number.NaN]]) {
      assert.throws(
        () => resolveReshape([2, 3], to),
        (e: unknown) => e instanceof ShapeError && invalid(to).test(e.message),
      );
    }
    for (const to of [[4, 2], [-1, 4], [0, -1], [5]]) {
      assert.throws(
        () => resolveReshape([2, 3], to),
        (e: unknown) =>
          e instanceof ShapeError && /^reshape: cannot view \[2, 3\] \(6 elements\) as /.test(e.message),
      );
    }
  });
});
