/**
 * Convolution layers beyond the op table and the goldens: PyTorch's Conv2d initialisation, parameter
 * names, layer wiring, and the one-line errors of bad geometry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, ShapeError, ArgumentError, nn, tensor, zeros } from '../../../src/index.js';

test('Conv2d: weight [out, in, kH, kW] and bias [out] drawn from U(−1/√fanIn, 1/√fanIn), as torch', () => {
  const conv = new nn.Conv2d(3, 8, [5, 4], { generator: new Generator(1) });
  assert.deepEqual(conv.weight.shape, [8, 3, 5, 4]);
  assert.deepEqual(conv.bias!.shape, [8]);
  assert.deepEqual(
    [...conv.namedParameters()].map(([n]) => n),
    ['weight', 'bias'],
  );
  const bound = 1 / Math.sqrt(3 * 5 * 4);
  const w = conv.weight.dataSync();
  const b = conv.bias!.dataSync();
  for (const v of [...w, ...b]) assert.ok(Math.abs(v) <= bound, `${v} outside ±${bound}`);
  // Spread over the interval, not a constant: the extremes come near the bound.
  assert.ok(Math.max(...w) > 0.9 * bound && Math.min(...w) < -0.9 * bound);
  assert.equal(new nn.Conv2d(1, 2, 3, { bias: false }).bias, null);
});

test('Conv2d → MaxPool2d → AvgPool2d → AdaptiveAvgPool2d → Flatten: shapes of a LeNet-style stack', () => {
  const net = new nn.Sequential(
    new nn.Conv2d(1, 6, 5, { padding: 2 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(6, 16, 5),
    new nn.GELU(),
    new nn.AvgPool2d(2),
    new nn.AdaptiveAvgPool2d(1),
    new nn.Flatten(),
  );
  const y = net.forward(zeros([2, 1, 28, 28]));
  assert.deepEqual(y.shape, [2, 16]);
});

test('bad geometry fails with one line naming the problem', () => {
  assert.throws(() => new nn.Conv2d(0, 2, 3), ArgumentError);
  assert.throws(() => new nn.Conv2d(1, 2, 0), ArgumentError);
  const conv = new nn.Conv2d(2, 3, 3);
  assert.throws(() => conv.forward(zeros([1, 3, 5, 5])), /has 3 channels but the weight expects 2/);
  assert.throws(() => conv.forward(zeros([1, 2, 2, 2])), /does not fit input/);
  assert.throws(() => conv.forward(zeros([2, 5, 5])), ShapeError);
  assert.throws(() => new nn.MaxPool2d(2, { padding: 2 }).forward(zeros([1, 1, 6, 6])), /at most half/);
  assert.throws(() => new nn.AdaptiveAvgPool2d(4).forward(zeros([1, 1, 6, 6])), /not a multiple/);
  assert.throws(() => new nn.AvgPool2d(2, { stride: 0 }).forward(zeros([1, 1, 6, 6])), /stride must be/);
});

test('GELU: 0 at 0, x for large x, −0 side small, Φ(1)·1 at 1', () => {
  const y = new nn.GELU().forward(tensor([0, 1, -1, 6, -6])).dataSync();
  assert.equal(y[0], 0);
  assert.ok(Math.abs(y[1]! - 0.8413447460685429) < 1e-6);
  assert.ok(Math.abs(y[2]! + 0.15865525393145707) < 1e-6);
  assert.ok(Math.abs(y[3]! - 6) < 1e-6);
  assert.ok(Math.abs(y[4]!) < 1e-6);
});

test('patch embedding: a Conv2d whose stride is its kernel cuts 28×28 into 16 non-overlapping 7×7 patches', () => {
  const x = tensor(
    Array.from({ length: 2 * 784 }, (_, i) => Math.sin(i)),
    { shape: [2, 1, 28, 28] },
  );
  const embed = new nn.Conv2d(1, 8, 7, { stride: 7, generator: new Generator(2) });
  const y = embed.forward(x);
  assert.deepEqual(y.shape, [2, 8, 4, 4]);
  // Token (1, 2) of image 1 is the dot product of its own 7×7 patch with each filter, plus the bias.
  const xs = x.dataSync();
  const w = embed.weight.dataSync();
  const b = embed.bias!.dataSync();
  for (let f = 0; f < 8; f++) {
    let acc = b[f]!;
    for (let i = 0; i < 7; i++)
      for (let j = 0; j < 7; j++) acc += w[f * 49 + i * 7 + j]! * xs[784 + (7 + i) * 28 + (14 + j)]!;
    assert.ok(Math.abs(y.dataSync()[((1 * 8 + f) * 4 + 1) * 4 + 2]! - acc) < 1e-5);
  }
});
