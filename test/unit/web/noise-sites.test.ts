/**
 * The lab's "where the noise fell" view: every stochastic op reports its draw to the noise tap, and
 * the site views recomputed from the reported streams equal the masks the ops actually applied to
 * example 0 (read from the zeros of each op's output on an all-ones input), for per-unit dropout, the
 * book's scratch dropoutLayer, spatial dropout, DropBlock, attention-shaped dropout and DropConnect.
 * The tap only observes: outputs are identical with and without a listener.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, Generator, nn, ones, type Tensor } from '../../../src/index.js';
import { dropoutLayer } from '../../../src/ops/dropout.js';
import { tapNoise, type NoiseDraw } from '../../../src/ops/noiseTap.js';
import { NoiseRecorder } from '../../../src/web/masks.js';
import { hiddenMasks, siteViews, SITE_UNITS, type NoiseSiteView } from '../../../src/web/noiseSites.js';

/** Runs `f` with a recorder attached; returns its output and the views of what it drew. */
function recorded(f: () => Tensor): { y: Float32Array; sites: NoiseSiteView[]; draws: NoiseDraw[] } {
  const rec = new NoiseRecorder();
  try {
    const y = f().dataSync() as Float32Array;
    const draws = rec.take();
    return { y, sites: siteViews(draws), draws };
  } finally {
    rec.dispose();
  }
}

/** Keep bits of example 0 read from an output of an all-ones input (nonzero = kept). */
const kept = (y: Float32Array, n: number): number[] => Array.from(y.subarray(0, n), (v) => (v !== 0 ? 1 : 0));

test('per-unit dropout and the scratch dropoutLayer: the view is example 0’s actual mask', () => {
  for (const f of [
    (x: Tensor) => F.dropout(x, 0.5, { training: true, generator: new Generator(3) }),
    (x: Tensor) => dropoutLayer(x, 0.5, { generator: new Generator(3) }),
  ]) {
    const { y, sites } = recorded(() => f(ones([4, 40])));
    assert.equal(sites.length, 1);
    const s = sites[0]!;
    assert.equal(s.kind, 'units');
    if (s.kind !== 'units') return;
    assert.equal(s.onWeights, false);
    assert.deepEqual(s.keep, kept(y, 40));
    assert.equal(s.dropped, 1 - kept(y, 40).reduce((a, b) => a + b, 0) / 40);
    assert.ok(s.keep.includes(0) && s.keep.includes(1));
  }
  // Wide layers show the first SITE_UNITS units; the share counts them all.
  const { y, sites } = recorded(() =>
    F.dropout(ones([2, 300]), 0.3, { training: true, generator: new Generator(1) }),
  );
  const s = sites[0]!;
  assert.ok(s.kind === 'units' && s.keep.length === SITE_UNITS);
  assert.equal(s.dropped, 1 - kept(y, 300).reduce((a, b) => a + b, 0) / 300);
});

test('spatial dropout: one bit per feature map of example 0', () => {
  const layer = new nn.SpatialDropout(0.5, { generator: new Generator(7) });
  const { y, sites } = recorded(() => layer.forward(ones([3, 12, 4, 4])));
  const s = sites[0]!;
  assert.equal(s.kind, 'maps');
  if (s.kind !== 'maps') return;
  const perMap = Array.from({ length: 12 }, (_, c) => (y[c * 16] !== 0 ? 1 : 0));
  assert.deepEqual(s.keep, perMap);
  // Whole maps: every cell of a map shares its bit.
  for (let c = 0; c < 12; c++)
    for (let i = 0; i < 16; i++) assert.equal(y[c * 16 + i] !== 0 ? 1 : 0, perMap[c]);
});

test('DropBlock: the dropped cells of each map of example 0, blocks included', () => {
  const [c, h, w] = [3, 10, 10];
  const { y, sites } = recorded(() =>
    F.dropBlock(ones([2, c, h, w]), 0.3, { training: true, blockSize: 3, generator: new Generator(11) }),
  );
  const s = sites[0]!;
  assert.equal(s.kind, 'blocks');
  if (s.kind !== 'blocks') return;
  assert.equal(s.maps.length, c);
  for (let m = 0; m < c; m++) assert.deepEqual(s.maps[m], kept(y.subarray(m * h * w), h * w), `map ${m}`);
  assert.ok(s.dropped > 0 && s.dropped < 1, `some but not all cells dropped (${s.dropped})`);
});

test('dropout on [N, heads, T, T]: the share dropped per head of example 0', () => {
  const { y, sites } = recorded(() =>
    F.dropout(ones([2, 4, 5, 5]), 0.25, { training: true, generator: new Generator(5) }),
  );
  const s = sites[0]!;
  assert.equal(s.kind, 'groups');
  if (s.kind !== 'groups') return;
  assert.equal(s.axis, 'head');
  const shares = Array.from(
    { length: 4 },
    (_, g) => 1 - kept(y.subarray(g * 25), 25).reduce((a, b) => a + b, 0) / 25,
  );
  assert.deepEqual(s.shares, shares);
});

test('DropConnect is reported as noise on weights, and the MLP view takes the hidden layers only', () => {
  const model = new nn.Sequential(
    new nn.Linear(6, 5, { generator: new Generator(1), dropConnect: 0.5 }),
    new nn.ReLU(),
    new nn.Dropout(0.5, { generator: new Generator(2) }),
    new nn.Linear(5, 4, { generator: new Generator(3) }),
    new nn.ReLU(),
    new nn.Dropout(0.2, { generator: new Generator(4) }),
  );
  model.train();
  const { sites } = recorded(() => model.forward(ones([2, 6])));
  assert.deepEqual(
    sites.map((s) => (s.kind === 'units' ? s.onWeights : null)),
    [true, false, false],
  );
  const hidden = hiddenMasks(sites, 4);
  assert.deepEqual(hidden.p, [0.5, 0.2]);
  // With one activation dropout it is hidden layer 2 (dropout after the last BatchNorm only).
  const one = hiddenMasks(sites.slice(0, 2), 4);
  assert.deepEqual(one.p, [0, 0.5]);
  assert.deepEqual(one.keep[0], [1, 1, 1, 1]);
});

test('the tap only observes: the same outputs with and without a listener, and none after dispose', () => {
  const block = (): Tensor =>
    F.dropBlock(ones([2, 2, 6, 6]), 0.4, { training: true, blockSize: 3, generator: new Generator(9) });
  const run = (): Float32Array => block().dataSync() as Float32Array;
  const plain = run();
  const { y } = recorded(block);
  assert.deepEqual(y, plain);
  let calls = 0;
  const untap = tapNoise(() => calls++);
  untap();
  run();
  assert.equal(calls, 0);
  // Evaluation draws nothing.
  const { sites } = recorded(() => F.dropout(ones([2, 3]), 0.5, { training: false }));
  assert.equal(sites.length, 0);
});
