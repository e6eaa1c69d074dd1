/**
 * The API where PyTorch and TensorFlow.js users reach first: tensor(values, shape), loadStateDict with
 * tensors, errors that quote what they got and name no CLI flag, and `dropout-lab --version`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ArgumentError, F, nn, optim, ShapeError, tensor, zeros } from '../../../src/index.js';
import { formatValue } from '../../../src/errors.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

test('tensor(values, shape) as in TF.js, tensor(values, { shape }) as before, the same tensor', () => {
  const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] });
  const c = tensor(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3], 'float32');
  const d = tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
  for (const t of [a, b, c, d]) {
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual(t.toArray(), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
  }
  assert.equal(d.requiresGrad, true);
  assert.deepEqual(tensor([[1, 2]]).shape, [1, 2]);
});

test('any other second argument to tensor() is a clear error quoting it', () => {
  const bad: Array<[unknown, unknown, RegExp]> = [
    ['x', undefined, /got "x" \(a string\)/],
    [6, undefined, /got 6\b/],
    [[2, 2.5], undefined, /non-negative integers .* got \[2, 2\.5\] \(an array\)/],
    [[-1, 6], undefined, /got \[-1, 6\]/],
    [{ dtype: 'int64' }, undefined, /dtype must be 'float32' or 'int32', got "int64"/],
    [{ dtypes: 'int32' }, undefined, /unknown option 'dtypes'/],
    [[2, 3], 'int64', /only 'float32', 'int32' .* got "int64" \(a string\)/],
    [{ shape: [2, 3] }, [2, 3], /nothing may follow the options object, got \[2, 3\]/],
  ];
  for (const [second, third, pattern] of bad) {
    assert.throws(
      () => (tensor as (...args: unknown[]) => unknown)([1, 2, 3, 4, 5, 6], second, third),
      (e: unknown) => e instanceof ArgumentError && pattern.test(e.message) && !e.message.includes('\n'),
      `tensor(data, ${formatValue(second)}, ${formatValue(third)})`,
    );
  }
  assert.throws(() => tensor([1, 2, 3], [2, 2]), ShapeError);
  assert.throws(() => tensor('abc' as never), /got "abc" \(a string\)/);
});

test('loadStateDict takes tensors (PyTorch form) and { shape, data }; its errors never contradict themselves', () => {
  const src = new nn.Linear(3, 2);
  const dst = new nn.Linear(3, 2);
  dst.loadStateDict(Object.fromEntries(src.namedParameters()));
  assert.deepEqual(dst.stateDict(), src.stateDict());
  const plain = new nn.Linear(3, 2);
  plain.loadStateDict(src.stateDict());
  assert.deepEqual(plain.stateDict(), src.stateDict());

  const before = dst.stateDict();
  assert.throws(
    () => dst.loadStateDict({ weight: zeros([3, 2]), bias: zeros([2]) }),
    /weight has shape \[3, 2\] in the state dict but \[2, 3\] in the model/,
  );
  assert.throws(
    () => dst.loadStateDict({ weight: { shape: [2, 3], data: new Float32Array(5) }, bias: zeros([2]) }),
    (e: unknown) =>
      e instanceof ShapeError && /weight has shape \[2, 3\] \(6 values\) but holds 5 values/.test(e.message),
  );
  assert.throws(
    () => dst.loadStateDict({ weight: 'w' as never, bias: zeros([2]) }),
    /weight must be a Tensor or \{ shape, data \}.*got "w" \(a string\)/,
  );
  assert.deepEqual(dst.stateDict(), before, 'a refused state dict changes nothing');
});

test('library errors quote the value they got, with its kind when it is not a number', () => {
  assert.equal(formatValue('0.5'), '"0.5" (a string)');
  assert.equal(formatValue(0.5), '0.5');
  assert.equal(formatValue(Number.NaN), 'NaN');
  assert.equal(formatValue(undefined), 'undefined');
  assert.equal(formatValue([2, 3]), '[2, 3] (an array)');
  assert.equal(formatValue({ p: 1 }), '{p} (an object)');
  const x = tensor([1, 2]);
  assert.throws(() => F.dropout(x, '0.5' as never, { training: true }), /got "0.5" \(a string\)/);
  const params = new nn.Linear(2, 2).parameters();
  assert.throws(
    () => new optim.SGD(params, { lr: '0.1' as never }),
    /lr must be a positive number, got "0.1" \(a string\)/,
  );
  assert.throws(() => new optim.SGD(params, { lr: 0.1, momentum: '0.9' as never }), /got "0.9" \(a string\)/);
  assert.throws(() => new nn.Linear(2.5, 2), /got 2\.5/);
});

test('library errors name no CLI flag (the command line adds its own)', () => {
  const allowed = new Set<string>();
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(ROOT, path);
      if (entry.isDirectory()) {
        // The command line and its services (the Node files layer, experiments, the Redis queue) speak in
        // flags on purpose: their messages are what the commands print.
        const cliSide = [
          'src/cli',
          'src/web',
          'src/backend/wasm/assembly',
          'src/node',
          'src/experiments',
          'src/queue',
        ];
        if (!cliSide.includes(rel)) walk(path);
      } else if (rel.endsWith('.ts') && !allowed.has(rel)) {
        readFileSync(path, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            // A flag inside a string or template literal (comments may mention flags).
            if (/^\s*(\/\/|\*)/.test(line)) return;
            if (/['`][^'`]*\s--[a-z][a-z-]+[^'`]*['`]/.test(line))
              offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
          });
      }
    }
  };
  walk(join(ROOT, 'src'));
  assert.deepEqual(offenders, []);
});
