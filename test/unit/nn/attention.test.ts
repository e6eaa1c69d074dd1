/**
 * nn.MultiheadAttention beyond the PyTorch goldens (test/golden/attention.test.ts): PyTorch's
 * initialisation, attention dropout only while training and drawn from the seeded stream, the
 * batch-first and sequence-first layouts agreeing, per-head weights, and clear errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError, Generator, nn, rand, ShapeError, type Tensor } from '../../../src/index.js';
import { pick } from '../../../src/ops/attention.js';

const E = 8;
const H = 2;

function model(dropout: number, batchFirst = true): nn.MultiheadAttention {
  return new nn.MultiheadAttention(E, H, { dropout, batchFirst, generator: new Generator(4) });
}

test('parameters: PyTorch names and shapes, xavier-uniform in_proj_weight, zero biases', () => {
  const m = model(0);
  assert.deepEqual(
    m.namedParameters().map(([n, t]) => [n, t.shape]),
    [
      ['in_proj_weight', [3 * E, E]],
      ['in_proj_bias', [3 * E]],
      ['out_proj.weight', [E, E]],
      ['out_proj.bias', [E]],
    ],
  );
  const bound = Math.sqrt(6 / (4 * E));
  assert.ok(m.inProjWeight.dataSync().every((v) => Math.abs(v) <= bound));
  assert.ok(m.inProjBias!.dataSync().every((v) => v === 0));
  assert.ok(m.outProj.bias!.dataSync().every((v) => v === 0));
  assert.deepEqual(
    new nn.MultiheadAttention(E, H, { bias: false }).namedParameters().map(([n]) => n),
    ['in_proj_weight', 'out_proj.weight'],
  );
});

test('attention dropout acts only while training, from the seeded stream, fresh per call', () => {
  const x = rand([3, 5, E], { generator: new Generator(1) });
  const plain = model(0).forward(x).dataSync();
  const m = model(0.5);
  assert.equal(m.trainingOnlySwitchesDropout, true);
  assert.equal(model(0).trainingOnlySwitchesDropout, false);
  assert.deepEqual(m.eval().forward(x).dataSync(), plain, 'eval: no dropout');
  m.train();
  const first = m.attend(x, x, x, { averageAttnWeights: false });
  assert.notDeepEqual(first.output.dataSync(), plain, 'training: dropout on');
  const w = first.weights.dataSync();
  assert.ok(
    w.some((v) => v === 0),
    'some attention probabilities are dropped',
  );
  // Survivors of each row sum to 1/(1 − p) times the kept probability mass: at most 2.
  assert.ok(w.every((v) => v >= 0 && v <= 2));
  assert.deepEqual(model(0.5).forward(x).dataSync(), first.output.dataSync(), 'same seed, same masks');
  assert.notDeepEqual(m.forward(x).dataSync(), first.output.dataSync(), 'fresh masks per call');
});

test('sequence-first and batch-first layouts give the same attention; weights are [N, T, S]', () => {
  const x = rand([3, 5, E], { generator: new Generator(2) });
  const bf = model(0, true).attend(x, x, x);
  const sf = model(0, false).attend(x.permute([1, 0, 2]), x.permute([1, 0, 2]), x.permute([1, 0, 2]));
  assert.deepEqual(sf.output.shape, [5, 3, E]);
  assert.deepEqual(bf.weights.shape, [3, 5, 5]);
  const close = (a: Tensor, b: Tensor): void =>
    a.dataSync().forEach((v, i) => assert.ok(Math.abs(v - b.dataSync()[i]!) < 1e-6));
  close(sf.output.permute([1, 0, 2]), bf.output);
  close(sf.weights, bf.weights);
  const skipped = model(0, true).attend(x, x, x, { needWeights: false });
  assert.equal(skipped.weights, null);
  // Without the weights the heads take the fused kernel: the composition's output to float32 rounding.
  close(skipped.output, bf.output);
  // Rows of averaged probabilities sum to 1.
  const rows = bf.weights.sum(-1).dataSync();
  assert.ok(rows.every((v) => Math.abs(v - 1) < 1e-6));
});

test('pick takes one index of an axis, scaled; clear errors for bad shapes and sizes', () => {
  const x = rand([2, 3, 4], { generator: new Generator(3) });
  const xs = x.dataSync();
  const y = pick(x, 1, 2, 0.5).dataSync();
  for (let a = 0; a < 2; a++)
    for (let c = 0; c < 4; c++) assert.equal(y[a * 4 + c], Math.fround(xs[a * 12 + 2 * 4 + c]! * 0.5));
  assert.throws(() => pick(x, 1, 3), ArgumentError);
  assert.throws(() => new nn.MultiheadAttention(10, 3), /divisible/);
  assert.throws(() => new nn.MultiheadAttention(8, 2, { dropout: 2 }), ArgumentError);
  assert.throws(() => model(0).forward(rand([2, 3, E + 1])), ShapeError);
  assert.throws(() => model(0).attend(rand([2, 3, E]), rand([3, 4, E]), rand([3, 4, E])), ShapeError);
});
