/**
 * The variance shift (Li et al. 2019) as varianceShift measures it: with converged running statistics
 * a BatchNorm MLP without dropout sees the same input variance in training and evaluation (shift ≈ 1),
 * while dropout before BatchNorm makes the evaluation variance clearly smaller (shift < 1); the
 * measurement moves no running statistic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { varianceShift } from '../../../src/nn/varianceShift.js';
import { manualSeed } from '../../../src/random/generator.js';
import { buildModel } from '../../../src/run/models.js';
import { DEFAULT_CONFIG } from '../../../src/run/options.js';
import { tensor } from '../../../src/tensor/creation.js';
import { noGrad } from '../../../src/tensor/engine.js';
import type { ModelName } from '../../../src/run/models.js';
import { randomArray } from '../../helpers/testData.js';

function shifts(model: ModelName): { shifts: number[]; stable: boolean } {
  manualSeed(5);
  const m = buildModel({ ...DEFAULT_CONFIG, model, numHiddens1: 64, numHiddens2: 64 });
  const X = tensor(randomArray(128 * 784, 9, 0, 1), { shape: [128, 1, 28, 28] });
  m.eval().forward(X).dispose();
  // Running statistics converge to the training-mode batch statistics of X (0.9^200 ≈ 7e-10 of the initial 1 left).
  m.train();
  for (let i = 0; i < 200; i++) noGrad(() => m.forward(X).dispose());
  const buffers = (): number[][] =>
    m
      .namedState()
      .filter(([n]) => n.includes('running'))
      .map(([, t]) => Array.from(t.dataSync()));
  const before = buffers();
  const v = varianceShift(m, X);
  const stable = JSON.stringify(buffers()) === JSON.stringify(before) && m.training;
  X.dispose();
  return { shifts: v.map((x) => x.shift), stable };
}

test('no dropout: the same variance in training and evaluation', () => {
  const r = shifts('mlp-bn');
  assert.equal(r.shifts.length, 2);
  for (const s of r.shifts) assert.ok(Math.abs(s - 1) < 0.02, `shift ${s}`);
  assert.ok(r.stable, 'running statistics and mode unchanged');
});

test('dropout p = 0.5 before BatchNorm: evaluation sees clearly less variance', () => {
  const r = shifts('dropout-mlp-bn');
  assert.ok(Math.abs(r.shifts[0]! - 1) < 0.02, `layer 1 (no dropout before it): ${r.shifts[0]}`);
  assert.ok(r.shifts[1]! < 0.8, `layer 2 (dropout before it): ${r.shifts[1]}`);
  const after = shifts('dropout-mlp-bn-after');
  for (const s of after.shifts) assert.ok(Math.abs(s - 1) < 0.02, `dropout after the last BatchNorm: ${s}`);
});
