/**
 * Layer arguments are checked in the constructor, with one clear line (issue 29, item 7): Conv2d's
 * stride 0 and padding −1 used to be refused only at the first forward, dilation 0 was ignored, and
 * MultiheadAttention on an empty sequence failed inside an internal op.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError, nn, ShapeError, zeros } from '../../../src/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const js = (o: unknown): any => o;

function refuses(fn: () => unknown, kind: typeof ArgumentError | typeof ShapeError, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof kind, `expected ${kind.name}, got ${String(e)}`);
    assert.match(e.message, message);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
}

test('Conv2d refuses a bad stride, padding or unsupported option when it is built', () => {
  refuses(
    () => new nn.Conv2d(1, 4, 3, { stride: 0 }),
    ArgumentError,
    /Conv2d: stride must be an integer ≥ 1/,
  );
  refuses(
    () => new nn.Conv2d(1, 4, 3, { padding: -1 }),
    ArgumentError,
    /Conv2d: padding must be an integer ≥ 0/,
  );
  refuses(() => new nn.Conv2d(1, 4, 3, js({ dilation: 0 })), ArgumentError, /dilation 1/);
  refuses(() => new nn.Conv2d(1, 4, 3, js({ dilation: 2 })), ArgumentError, /dilation 1/);
  refuses(() => new nn.Conv2d(1, 4, 3, js({ strides: 2 })), ArgumentError, /did you mean 'stride'/);
  refuses(() => new nn.Conv2d(1, 4, 3, { stride: js([1, 2, 3]) }), ArgumentError, /pair/);
  refuses(() => new nn.MaxPool2d(2, { stride: 0 }), ArgumentError, /MaxPool2d: stride/);
  refuses(() => new nn.AvgPool2d(0), ArgumentError, /AvgPool2d: kernelSize/);
  // dilation 1 and groups 1 are PyTorch's defaults: accepted.
  const conv = new nn.Conv2d(1, 4, 3, js({ dilation: 1, groups: 1, padding: 1 }));
  assert.deepEqual(conv.forward(zeros([2, 1, 5, 5])).shape, [2, 4, 5, 5]);
  assert.equal(String(conv), 'Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))');
});

test('MultiheadAttention refuses unknown options when built and an empty sequence in one line', () => {
  refuses(() => new nn.MultiheadAttention(8, 2, js({ batch_first: true })), ArgumentError, /batchFirst/);
  const mha = new nn.MultiheadAttention(8, 2, { batchFirst: true });
  refuses(
    () => mha.forward(zeros([2, 0, 8])),
    ShapeError,
    /MultiheadAttention: empty input .*query length 0/,
  );
  assert.deepEqual(mha.forward(zeros([2, 3, 8])).shape, [2, 3, 8]);
});
