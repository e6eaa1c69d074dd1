/**
 * DropPath (stochastic depth, timm's drop_path): whole examples are dropped together, at about rate p,
 * survivors scaled by 1/(1 − p) (or not, with scaleByKeep false), the gradient is the same per-example
 * mask, draws repeat per seed and are fresh per call, and the edge cases (eval, p = 0, p = 1, bad p).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError, F, Generator, nn, ones, rand, ShapeError, tensor } from '../../../src/index.js';
import { dropoutKeep } from '../../../src/random/dropoutKeep.js';

const N = 4000;
const SHAPE = [N, 3, 5] as const;

/** Per example: null if it mixes zeros and survivors, else its common value (0 when dropped). */
function perExample(y: Float32Array, size: number): (number | null)[] {
  return Array.from({ length: y.length / size }, (_, i) => {
    const row = y.subarray(i * size, (i + 1) * size);
    return row.every((v) => v === row[0]) ? row[0]! : null;
  });
}

test('whole examples are dropped, at about rate p, survivors scaled by 1/(1 − p)', () => {
  for (const p of [0.1, 0.5]) {
    const y = F.dropPath(ones([...SHAPE]), p, { training: true, generator: new Generator(5) }).dataSync();
    const rows = perExample(y, 15);
    assert.ok(
      rows.every((v) => v !== null),
      'every example is either dropped whole or kept whole',
    );
    const dropped = rows.filter((v) => v === 0).length / N;
    // Binomial(4000, p): 4 standard deviations.
    assert.ok(Math.abs(dropped - p) < 4 * Math.sqrt((p * (1 - p)) / N), `p=${p}: dropped ${dropped}`);
    const scale = Math.fround(1 / (1 - p));
    for (const v of rows) if (v !== 0) assert.equal(v, scale);
  }
});

test('scaleByKeep false leaves survivors unscaled; nn.DropPath passes it on', () => {
  const y = F.dropPath(ones([...SHAPE]), 0.3, {
    training: true,
    scaleByKeep: false,
    generator: new Generator(2),
  }).dataSync();
  assert.ok(y.every((v) => v === 0 || v === 1));
  assert.ok(y.some((v) => v === 0));
  const layer = new nn.DropPath(0.3, { scaleByKeep: false, generator: new Generator(2) });
  assert.deepEqual(layer.forward(ones([...SHAPE])).dataSync(), y);
});

test('the mask is one keep draw per example with dropout’s threshold (the generator’s uniform stream)', () => {
  const p = 0.25;
  const u = rand([N], { generator: new Generator(11) }).dataSync();
  const x = rand([...SHAPE], { generator: new Generator(1) });
  const y = F.dropPath(x, p, { training: true, generator: new Generator(11) }).dataSync();
  const xs = x.dataSync();
  const keep = dropoutKeep(p);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < 15; j++) {
      const want = u[i]! >= keep.uniform ? Math.fround(xs[i * 15 + j]! * Math.fround(keep.scale)) : 0;
      assert.equal(y[i * 15 + j], want, `example ${i}`);
    }
  }
});

test('the gradient is the same per-example mask; draws repeat per seed and are fresh per call', () => {
  const x = ones([64, 7], { requiresGrad: true });
  const y = F.dropPath(x, 0.4, { training: true, generator: new Generator(9) });
  y.sum().backward();
  assert.deepEqual(x.grad!.dataSync(), y.dataSync());
  const again = F.dropPath(ones([64, 7]), 0.4, { training: true, generator: new Generator(9) });
  assert.deepEqual(again.dataSync(), y.dataSync());
  const layer = new nn.DropPath(0.4, { generator: new Generator(9) });
  const first = layer.forward(ones([64, 7])).dataSync();
  const second = layer.forward(ones([64, 7])).dataSync();
  assert.deepEqual(first, y.dataSync());
  assert.notDeepEqual(second, first);
});

test('edge cases: eval and p = 0 return the input, p = 1 zeros, bad p and scalars are clear errors', () => {
  const x = tensor([1, 2, 3, 4], { shape: [2, 2] });
  assert.equal(F.dropPath(x, 0.5, { training: false }), x);
  assert.equal(F.dropPath(x, 0, { training: true }), x);
  assert.deepEqual(Array.from(F.dropPath(x, 1, { training: true }).dataSync()), [0, 0, 0, 0]);
  const layer = new nn.DropPath(0.5);
  assert.equal(layer.eval().forward(x), x);
  assert.equal(layer.trainingOnlySwitchesDropout, true);
  assert.throws(() => new nn.DropPath(1.5), ArgumentError);
  assert.throws(() => F.dropPath(x, -0.1, { training: true }), ArgumentError);
  assert.throws(() => F.dropPath(x, 0.1, undefined as never), ArgumentError);
  assert.throws(() => F.dropPath(tensor(1), 0.1, { training: true }), ShapeError);
});
