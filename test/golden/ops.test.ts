/**
 * PyTorch golden values for the everyday ops (src/tensor/math.ts and their primitives): values and
 * gradients from test/fixtures/golden-ops.json (written by scripts/golden_ops.py, torch in float64 on
 * float32 inputs), checked on every backend (test/backends.ts). The gradient of each case is that of
 * Σ out·w with the fixture's weights. The fixture is committed; no Python is needed here.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { F, getBackend, setBackend, tensor, tidy, where, type Tensor } from '../../src/index.js';
import { backends } from '../helpers/backends.js';

interface Stored {
  readonly shape: number[];
  readonly data: number[];
}
interface Case {
  readonly inputs: Stored[];
  readonly outputs: Stored[];
  readonly weights?: Stored;
  readonly grads?: (Stored | null)[];
}

const golden = JSON.parse(readFileSync(new URL('../fixtures/golden-ops.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: Record<string, Case>;
};

type Out = Tensor | { values: Tensor; indices: Tensor };
const mm = (r: Out): Tensor[] => ('values' in r ? [r.values, r.indices] : [r]);

/** Each fixture case in dropout-lab's words. */
const ops: Record<string, (...xs: Tensor[]) => Tensor[]> = {
  sqrt: (x) => [x!.sqrt()],
  rsqrt: (x) => [x!.rsqrt()],
  'pow 3': (x) => [x!.pow(3)],
  'pow -2': (x) => [x!.pow(-2)],
  'pow 1.5': (x) => [x!.pow(1.5)],
  'pow 0.5': (x) => [x!.pow(0.5)],
  'pow 0': (x) => [x!.pow(0)],
  'pow tensor': (x, e) => [x!.pow(e!)],
  abs: (x) => [x!.abs()],
  sign: (x) => [x!.sign()],
  sigmoid: (x) => [x!.sigmoid()],
  tanh: (x) => [x!.tanh()],
  'clamp both': (x) => [x!.clamp(-0.5, 0.8)],
  'clamp min': (x) => [x!.clamp(0.1)],
  'clamp max at the bound': (x) => [x!.clamp(null, 1)],
  'maximum broadcast': (a, b) => [a!.maximum(b!)],
  'minimum broadcast': (a, b) => [a!.minimum(b!)],
  'maximum ties': (a, b) => [a!.maximum(b!)],
  'max dim 1': (x) => mm(x!.max(1)),
  'max dim 0 keepdim': (x) => mm(x!.max(0, true)),
  'min dim -1': (x) => mm(x!.min(-1)),
  'max all': (x) => [x!.max()],
  'min all': (x) => [x!.min()],
  'amax dims': (x) => [x!.amax([0, 2])],
  'amin dim 1': (x) => [x!.amin(1)],
  'argmax dim 0': (x) => [x!.argmax(0)],
  'argmax flat': (x) => [x!.argmax()],
  'argmax ties': (x) => [x!.argmax(1)],
  'argmin dim 1 keepdim': (x) => [x!.argmin(1, true)],
  'var dim 1': (x) => [x!.var(1)],
  'var correction 0 keepdim': (x) => [x!.var([0, 2], { correction: 0, keepDim: true })],
  'var all': (x) => [x!.var()],
  'std dim 0': (x) => [x!.std(0)],
  'std correction 2': (x) => [x!.std(1, { correction: 2 })],
  'logsumexp dim 1': (x) => [x!.logsumexp(1)],
  'logsumexp large': (x) => [x!.logsumexp([0, 1], true)],
  'cumsum dim 0': (x) => [x!.cumsum(0)],
  'cumsum dim -1': (x) => [x!.cumsum(-1)],
  'softmax dim 0': (x) => [x!.softmax(0)],
  'softmax dim -1': (x) => [x!.softmax(-1)],
  'log_softmax dim 1': (x) => [x!.logSoftmax(1)],
  eq: (a, b) => [a!.eq(b!)],
  ne: (a, b) => [a!.ne(b!)],
  lt: (a, b) => [a!.lt(b!)],
  le: (a, b) => [a!.le(b!)],
  gt: (a, b) => [a!.gt(b!)],
  ge: (a, b) => [a!.ge(b!)],
  where: (c, a, b) => [where(c!.gt(0), a!, b!)],
  ...Object.fromEntries(
    (['none', 'sum', 'mean'] as const).flatMap((reduction) =>
      [0, 0.1].map((labelSmoothing) => [
        `cross_entropy ${reduction} smoothing ${labelSmoothing.toFixed(1)}`,
        (z: Tensor, y: Tensor) => [F.crossEntropy(z, y, { reduction, labelSmoothing })],
      ]),
    ),
  ),
};

const TOL = 2e-5;

function assertClose(actual: Tensor | null, expected: Stored, what: string): void {
  assert.ok(actual !== null, `${what}: missing`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  expected.data.forEach((e, i) => {
    const d = Math.abs(a[i]! - e);
    if (!(d <= TOL * Math.max(1, Math.abs(e))))
      assert.fail(`${what}[${i}]: got ${a[i]}, PyTorch ${e} (|Δ| = ${d})`);
  });
}

test('the fixture was produced by PyTorch and every case has an op here', () => {
  assert.match(golden.torch, /^\d+\.\d+/);
  assert.deepEqual(Object.keys(golden.cases).sort(), Object.keys(ops).sort());
});

for (const entry of backends) {
  describe(`everyday ops against PyTorch on the ${entry.name} backend`, async () => {
    const backend = await entry.create();
    for (const [name, c] of Object.entries(golden.cases)) {
      test(name, () => {
        const previous = getBackend();
        setBackend(backend);
        try {
          tidy(() => {
            const grad = c.grads !== undefined;
            const xs = c.inputs.map((s) => tensor(s.data, { shape: s.shape, requiresGrad: grad }));
            const outs = ops[name]!(...xs);
            outs.forEach((o, i) => assertClose(o, c.outputs[i]!, `${name} output ${i}`));
            if (!grad) return;
            outs[0]!
              .mul(tensor(c.weights!.data, { shape: c.weights!.shape }))
              .sum()
              .backward();
            c.grads!.forEach((g, i) => {
              // A piecewise-constant op (sign) leaves no gradient here where PyTorch stores zeros.
              if (g === null || (xs[i]!.grad === null && g.data.every((v) => v === 0)))
                assert.equal(xs[i]!.grad, null, `${name}: input ${i} has no gradient`);
              else assertClose(xs[i]!.grad, g, `${name} grad ${i}`);
            });
          });
        } finally {
          setBackend(previous);
        }
      });
    }
  });
}
