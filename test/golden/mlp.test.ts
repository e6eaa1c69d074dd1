/**
 * PyTorch golden values (test/fixtures/golden.json, written by scripts/golden.py with torch in
 * float64 on float32 inputs): log-softmax, cross-entropy, Linear+ReLU, a 2-layer MLP forward and
 * backward, and SGD with momentum and weight decay. The fixture is committed; no Python needed here.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { crossEntropy, logSoftmax, optim, tensor, type Tensor } from '../../src/index.js';
import { linear, linearComposed } from '../../src/ops/linear.js';
import { crossEntropyComposed } from '../../src/ops/loss.js';

interface Stored {
  readonly shape: number[];
  readonly data: number[];
}
type Section = Record<string, Stored> & { labels?: number[] };

const golden = JSON.parse(
  readFileSync(new URL('../fixtures/golden.json', import.meta.url), 'utf8'),
) as Record<string, Section> & { torch: string };

const TOL = 1e-5;

const leaf = (s: Stored, requiresGrad = true): Tensor => tensor(s.data, { shape: s.shape, requiresGrad });

function assertMatches(actual: Tensor | null, expected: Stored, what: string): void {
  assert.ok(actual !== null, `${what}: missing`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  expected.data.forEach((e, i) => {
    const d = Math.abs(a[i]! - e);
    if (d > TOL * Math.max(1, Math.abs(e)))
      assert.fail(`${what}[${i}]: got ${a[i]}, PyTorch ${e} (|Δ| = ${d})`);
  });
}

test('the fixture was produced by PyTorch and has every section', () => {
  assert.match(golden.torch, /^\d+\.\d+/);
  for (const k of ['log_softmax', 'cross_entropy', 'linear_relu', 'mlp', 'sgd_momentum'])
    assert.ok(k in golden, k);
});

test('log_softmax: values and gradient', () => {
  const g = golden.log_softmax!;
  const x = leaf(g.x!);
  const y = logSoftmax(x);
  assertMatches(y, g.out!, 'log_softmax');
  y.mul(leaf(g.weights!, false)).sum().backward();
  assertMatches(x.grad, g.grad_x!, 'grad x');
});

describe('cross_entropy: value and gradient', () => {
  for (const [name, f] of [
    ['fused', crossEntropy],
    ['composed', crossEntropyComposed],
  ] as const) {
    test(name, () => {
      const g = golden.cross_entropy!;
      const z = leaf(g.logits!);
      const loss = f(z, tensor(g.labels!));
      assertMatches(loss.reshape([1]), g.loss!, 'loss');
      loss.backward();
      assertMatches(z.grad, g.grad_logits!, 'grad logits');
    });
  }
});

describe('linear + relu: values and gradients', () => {
  for (const [name, f] of [
    ['fused', linear],
    ['composed', linearComposed],
  ] as const) {
    test(name, () => {
      const g = golden.linear_relu!;
      const [x, w, b] = [leaf(g.x!), leaf(g.weight!), leaf(g.bias!)];
      const y = f(x, w, b, { relu: true });
      assertMatches(y, g.out!, 'out');
      assert.ok(
        y.dataSync().some((v) => v === 0),
        'the fixture exercises the ReLU',
      );
      y.mul(leaf(g.weights!, false)).sum().backward();
      assertMatches(x.grad, g.grad_x!, 'grad x');
      assertMatches(w.grad, g.grad_weight!, 'grad weight');
      assertMatches(b.grad, g.grad_bias!, 'grad bias');
    });
  }
});

test('2-layer MLP: logits, loss and every parameter gradient', () => {
  const g = golden.mlp!;
  const [w1, b1, w2, b2] = [leaf(g.w1!), leaf(g.b1!), leaf(g.w2!), leaf(g.b2!)];
  const logits = linear(linear(leaf(g.x!, false), w1, b1, { relu: true }), w2, b2);
  assertMatches(logits, g.logits!, 'logits');
  const loss = crossEntropy(logits, tensor(g.labels!));
  assertMatches(loss.reshape([1]), g.loss!, 'loss');
  loss.backward();
  assertMatches(w1.grad, g.grad_w1!, 'grad w1');
  assertMatches(b1.grad, g.grad_b1!, 'grad b1');
  assertMatches(w2.grad, g.grad_w2!, 'grad w2');
  assertMatches(b2.grad, g.grad_b2!, 'grad b2');
});

test('SGD with momentum and weight decay: two steps', () => {
  const g = golden.sgd_momentum as unknown as Section & {
    lr: number;
    momentum: number;
    weight_decay: number;
  };
  const p = leaf(g.param!);
  const sgd = new optim.SGD([p], { lr: g.lr, momentum: g.momentum, weightDecay: g.weight_decay });
  for (const [grad, after] of [
    [g.grad1!, g.after1!],
    [g.grad2!, g.after2!],
  ] as const) {
    sgd.zeroGrad();
    p.grad = tensor(grad.data, { shape: grad.shape });
    sgd.step();
    assertMatches(p, after, 'param');
  }
});
