/**
 * MC dropout extras of `nn.predict`: predictive entropy = expected entropy + mutual information
 * (checked against a direct computation from the passes), and consistent masks (one mask per pass
 * for every input, the same for any split of the inputs into calls).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ArgumentError,
  DropoutMLP,
  DropoutMLPScratch,
  Generator,
  manualSeed,
  nn,
  noGrad,
  rand,
  tensor,
  tidy,
  type Tensor,
} from '../../../src/index.js';

/** A small book MLP; its layers use the global generator (seeded here), so predict's generator drives the masks. */
const small = (seed = 1): DropoutMLP => {
  manualSeed(seed);
  return new DropoutMLP({ numHiddens1: 32, numHiddens2: 32, dropout1: 0.5, dropout2: 0.5 });
};

function initialised<M extends nn.Module>(model: M, X: Tensor): M {
  noGrad(() => tidy(() => model.eval().forward(X)));
  return model.train();
}

const entropyOf = (p: ArrayLike<number>): number =>
  -Array.from(p).reduce((s, v) => s + (v > 0 ? v * Math.log(v) : 0), 0);

describe('entropy decomposition', () => {
  test('expected entropy is the mean pass entropy; MI = H[p̄] − E H[p_t] ≥ 0, as computed from the passes', () => {
    const X = rand([8, 784], { generator: new Generator(3) }).mul(4);
    const model = initialised(small(), X);
    const passes: Float32Array[] = [];
    const r = nn.predict(model, X, {
      mcSamples: 6,
      generator: new Generator(9),
      onSample: (p) => passes.push(p.slice()),
    });
    const H = r.entropy.dataSync();
    const EH = r.expectedEntropy.dataSync();
    const MI = r.mutualInformation.dataSync();
    assert.deepEqual(r.expectedEntropy.shape, [8]);
    for (let i = 0; i < 8; i++) {
      const expected =
        passes.reduce((s, p) => s + entropyOf(p.subarray(i * 10, i * 10 + 10)), 0) / passes.length;
      assert.ok(Math.abs(EH[i]! - expected) < 1e-5, `row ${i}: ${EH[i]} vs ${expected}`);
      assert.ok(MI[i]! >= 0 && Math.abs(H[i]! - EH[i]! - MI[i]!) < 1e-5, `row ${i}`);
    }
    assert.ok(
      MI.some((v) => v > 1e-4),
      'dropout passes disagree somewhere',
    );
    // One deterministic pass: no disagreement, all entropy is "aleatoric".
    const ws = nn.predict(model, X);
    assert.ok(ws.mutualInformation.dataSync().every((v) => v >= 0 && v < 1e-6));
    const wsH = ws.entropy.dataSync();
    ws.expectedEntropy.dataSync().forEach((v, i) => assert.ok(Math.abs(v - wsH[i]!) < 1e-6));
  });
});

describe('consistent masks', () => {
  test('identical inputs get identical outputs in every pass (and differ without consistent)', () => {
    const row = Array.from({ length: 784 }, (_, i) => Math.sin(i) * 0.5 + 0.5);
    const X = tensor([...row, ...row, ...row], { shape: [3, 784] });
    const model = initialised(small(), X);
    const rowsAgree = (consistent: boolean): boolean => {
      let agree = true;
      nn.predict(model, X, {
        mcSamples: 4,
        consistent,
        generator: new Generator(2),
        onSample: (p) => {
          for (let c = 0; c < 10; c++) agree &&= p[c] === p[10 + c] && p[c] === p[20 + c];
        },
      });
      return agree;
    };
    assert.equal(rowsAgree(true), true);
    assert.equal(rowsAgree(false), false);
    assert.equal(model.training, true, 'modes restored');
    assert.ok(!Object.hasOwn(model.net.layers[2]!, 'forward'), 'the per-instance override is removed');
  });

  test('the same generator gives the same T masks whatever the split of the inputs', () => {
    const X = rand([6, 784], { generator: new Generator(4) });
    const model = initialised(small(5), X);
    const run = (x: Tensor): Float32Array =>
      nn
        .predict(model, x, { mcSamples: 5, consistent: true, generator: new Generator(11) })
        .mutualInformation.dataSync();
    const whole = run(X);
    const halves = [
      ...run(tensor(X.dataSync().slice(0, 3 * 784), { shape: [3, 784] })),
      ...run(tensor(X.dataSync().slice(3 * 784), { shape: [3, 784] })),
    ];
    assert.deepEqual(Array.from(whole), halves);
  });

  test('dropout that cannot share a mask is refused with one clear line', () => {
    const X = rand([2, 784], { generator: new Generator(4) });
    const scratch = initialised(new DropoutMLPScratch({ numHiddens1: 8, numHiddens2: 8 }), X);
    assert.throws(
      () => nn.predict(scratch, X, { mcSamples: 2, consistent: true }),
      (e: unknown) => e instanceof ArgumentError && /consistent masks support nn\.Dropout/.test(e.message),
    );
    assert.equal(scratch.training, true, 'modes restored after the error');
  });
});
