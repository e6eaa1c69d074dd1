/**
 * Wrong argument forms and unknown options, as a JavaScript caller writes them, get one
 * DropoutLabError (an ArgumentError) that names the fix, instead of a raw TypeError or an option
 * silently ignored (issue 25, item 6).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError, F, nn, optim, ones, rand, randn, tensor, zeros } from '../../../src/index.js';

/** Calls fn as untyped JavaScript would and expects an ArgumentError whose message matches. */
function refuses(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ArgumentError, `expected an ArgumentError, got ${String(e)}`);
    assert.match(e.message, message);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const js = (f: unknown): any => f;

test('a shape spread into numbers names the array form', () => {
  refuses(() => js(zeros)(2, 3), /zeros\(\[2, 3\]\)/);
  refuses(() => js(ones)(4), /ones\(\[4\]\)/);
  refuses(() => js(rand)(2, 3), /rand\(\[2, 3\]\)/);
  refuses(() => js(randn)('2'), /array of non-negative integers/);
  assert.deepEqual(zeros([2, 3]).shape, [2, 3]);
});

test('view(3, 2) points to reshape', () => {
  refuses(() => js(tensor([1, 2, 3, 4, 5, 6])).view(3, 2), /reshape\(3, 2\)/);
});

test('Sequential([a, b]) names the spread form', () => {
  refuses(
    () => new (js(nn.Sequential))([new nn.Linear(2, 2), new nn.ReLU()]),
    /new Sequential\(\.\.\.list\)/,
  );
  refuses(() => new (js(nn.Sequential))(new nn.Linear(2, 2), 3), /argument 1 is 3, not a Module/);
});

test('SGD refuses a misspelt option and says what nesterov needs', () => {
  const params = [zeros([2], { requiresGrad: true })];
  refuses(() => new optim.SGD(params, js({ lr: 0.1, momentun: 0.9 })), /did you mean 'momentum'/);
  refuses(() => new optim.SGD(params, js({ lr: 0.1, nesterov: true, momentum: 0.9 })), /nesterov/);
  refuses(() => new optim.SGD(params, js({ momentum: 0.9 })), /learning rate/);
  refuses(() => new optim.AdamW(params, js({ weight_decay: 0.1 })), /weightDecay/);
});

test('functional options: unknown keys and bad values are refused', () => {
  const z = tensor([[1, 2, 3]]);
  const y = tensor([2]);
  refuses(
    () => F.crossEntropy(z, y, js({ reduce: 'sum' })),
    /unknown option 'reduce'; did you mean 'reduction'/,
  );
  refuses(() => F.crossEntropy(z, y, js({ reduction: 'avg' })), /'mean', 'sum' or 'none'/);
  refuses(() => F.crossEntropy(z, y, { labelSmoothing: 2 }), /\[0, 1\]/);
  refuses(() => F.dropout(z, 0.5, js({ training: true, seed: 1 })), /unknown option 'seed'/);
  refuses(() => zeros([2], js({ requiresgrad: true })), /did you mean 'requiresGrad'/);
});

test("crossEntropy's reduction and labelSmoothing change the loss", () => {
  const z = tensor([
    [2, 0, -1],
    [0.5, 1.5, 0],
  ]);
  const y = tensor([0, 1]);
  const none = F.crossEntropy(z, y, { reduction: 'none' });
  assert.deepEqual(none.shape, [2]);
  const [a, b] = none.dataSync();
  assert.ok(Math.abs(F.crossEntropy(z, y, { reduction: 'sum' }).item() - (a! + b!)) < 1e-6);
  assert.ok(Math.abs(F.crossEntropy(z, y).item() - (a! + b!) / 2) < 1e-6);
  assert.ok(F.crossEntropy(z, y, { labelSmoothing: 0.1 }).item() > F.crossEntropy(z, y).item());
});
