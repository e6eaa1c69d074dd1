/**
 * The CNN models of the registry (cnn, cnn-dropout, cnn-dropblock): their layers, their refusals, and a run that is
 * checkpointed after one epoch and resumed is bit-identical to the uninterrupted run (registry path,
 * synthetic images, SGD with momentum so the velocity buffers must round-trip too).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nn } from '../../../src/index.js';
import { activationStats } from '../../../src/nn/activationStats.js';
import { LeNetCNN } from '../../../src/models/cnn.js';
import { ArgumentError } from '../../../src/errors.js';
import type { RunConfig } from '../../../src/run/config.js';
import { buildModel } from '../../../src/run/models.js';
import { checkRun, DEFAULT_CONFIG } from '../../../src/run/options.js';
import { resolveRuns } from '../../../src/run/resolve.js';
import { runData, runOne } from '../../../src/run/runOne.js';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  type TrainingCheckpoint,
} from '../../../src/train/checkpoint.js';
import type { EpochMetrics } from '../../../src/train/trainer.js';
import { synthetic } from '../../helpers/syntheticFashion.js';

const raw = synthetic(96, 32, 1);

const run = (model: 'cnn' | 'cnn-dropout' | 'cnn-dropblock', epochs: number): RunConfig => ({
  ...DEFAULT_CONFIG,
  model,
  epochs,
  batchSize: 32,
  numHiddens1: 16,
  numHiddens2: 12,
  dropout1: 0.2,
  dropout2: 0.3,
  lr: 0.05,
  momentum: 0.9,
  seed: 5,
});

const withoutTiming = (epochs: readonly EpochMetrics[]): unknown[] =>
  epochs.map(({ epochSeconds: _a, samplesPerSecond: _b, ...rest }) => rest);

test('cnn has no dropout layers; cnn-dropout has spatial dropout p₁ after each conv block and dropout p₂ in the head', () => {
  const plain = buildModel(run('cnn', 1)) as LeNetCNN;
  const dropped = buildModel(run('cnn-dropout', 1)) as LeNetCNN;
  const blocked = buildModel(run('cnn-dropblock', 1)) as LeNetCNN;
  const kinds = (m: LeNetCNN): string[] =>
    m
      .modules()
      .filter((x) => x instanceof nn.SpatialDropout || x instanceof nn.Dropout || x instanceof nn.DropBlock2d)
      .map((x) => `${x.constructor.name}(${(x as nn.Dropout).p})`);
  assert.deepEqual(kinds(blocked), ['DropBlock2d(0.2)', 'DropBlock2d(0.2)', 'Dropout(0.3)', 'Dropout(0.3)']);
  assert.deepEqual(kinds(plain), []);
  assert.deepEqual(kinds(dropped), [
    'SpatialDropout(0.2)',
    'SpatialDropout(0.2)',
    'Dropout(0.3)',
    'Dropout(0.3)',
  ]);
  assert.deepEqual(
    plain.namedParameters().map(([n, p]) => `${n} ${p.shape.join('×')}`),
    [
      'net.0.weight 6×1×5×5',
      'net.0.bias 6',
      'net.3.weight 16×6×5×5',
      'net.3.bias 16',
      'net.7.weight 16×400',
      'net.7.bias 16',
      'net.9.weight 12×16',
      'net.9.bias 12',
      'net.11.weight 10×12',
      'net.11.bias 10',
    ],
  );
});

test("the experiments' activation statistics walk the CNN: its four ReLUs, conv maps included", () => {
  const model = buildModel(run('cnn-dropout', 1));
  const X = runData(raw, run('cnn', 1)).valDataloader()[Symbol.iterator]().next().value!.X;
  assert.deepEqual(
    activationStats(model, X).map((s) => s.layer),
    [1, 2, 3, 4],
  );
});

test('the CNNs refuse noise they do not apply', () => {
  // Refused where the run is resolved, before any training (runOne trusts resolved configs).
  assert.throws(
    () => resolveRuns({ ...run('cnn-dropout', 1), variant: 'gaussian' }),
    /cnn-dropout applies only Bernoulli/,
  );
  assert.throws(() => new LeNetCNN({ spatialDropout: 0.1, dropBlock: 0.1 }), /not both/);
  assert.throws(() => new LeNetCNN({ dropout: 1.5 }), /dropout/);
});

test('a drop mode on a CNN with p₁ > 0 is refused where the config enters, in one line', () => {
  for (const [model, layer] of [
    ['cnn-dropout', 'spatial dropout'],
    ['cnn-dropblock', 'DropBlock'],
  ] as const) {
    for (const dropMode of ['early', 'late'] as const) {
      const c: RunConfig = { ...run(model, 2), dropMode, cutoffEpoch: 1 };
      assert.throws(
        () => checkRun(c),
        (e: unknown) =>
          e instanceof ArgumentError &&
          !e.message.includes('\n') &&
          e.message.includes(`drop mode ${dropMode} schedules nn.Dropout only, not ${model}'s ${layer}`) &&
          /use drop mode standard, or dropout1 0/.test(e.message),
      );
      // Without p₁ only the head's nn.Dropout is left, which a schedule can set.
      checkRun({ ...c, dropout1: 0 });
    }
    checkRun(run(model, 2));
  }
  checkRun({ ...run('cnn', 2), dropMode: 'early', cutoffEpoch: 1 });
});

describe('a CNN run checkpointed after epoch 1 and resumed equals the uninterrupted run, bit for bit', () => {
  for (const model of ['cnn', 'cnn-dropout', 'cnn-dropblock'] as const) {
    test(model, async () => {
      const straight = await runOne(run(model, 2), runData(raw, run(model, 2)), { keepModel: true });
      const saved: TrainingCheckpoint[] = [];
      await runOne(run(model, 1), runData(raw, run(model, 1)), {
        checkpointEvery: 1,
        checkpointer: { save: (c) => void saved.push(decodeCheckpoint(encodeCheckpoint(c))) },
      });
      assert.equal(saved.length, 1);
      assert.ok(Object.keys(saved[0]!.momentum).includes('net.0.weight'), 'momentum buffers are saved');
      const resumed = await runOne(run(model, 2), runData(raw, run(model, 2)), {
        resumeFrom: saved[0]!,
        keepModel: true,
      });
      assert.deepEqual(resumed.model!.stateDict(), straight.model!.stateDict());
      assert.deepEqual(withoutTiming(resumed.epochs), withoutTiming(straight.epochs));
      assert.deepEqual(resumed.points, straight.points);
      assert.ok(straight.summary.trainLoss < 2.3, `it learns: train_loss ${straight.summary.trainLoss}`);
    });
  }
});
