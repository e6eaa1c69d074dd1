/**
 * The normalised MLPs of the registry (mlp-bn, dropout-mlp-bn, dropout-mlp-bn-after, mlp-ln,
 * dropout-mlp-ln): each trains through runOne, where dropout sits in each, and a run resumed from its
 * epoch-1 checkpoint ends bit for bit like an uninterrupted one (BatchNorm's running statistics are
 * buffers, so they travel in the checkpoint).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchNorm1d, Dropout, LayerNorm } from '../../../src/nn/index.js';
import { buildModel, type ModelName } from '../../../src/run/models.js';
import { DEFAULT_CONFIG } from '../../../src/run/options.js';
import { runData, runOne } from '../../../src/run/runOne.js';
import type { RunConfig } from '../../../src/run/config.js';
import type { TrainingCheckpoint } from '../../../src/train/checkpoint.js';
import type { Module } from '../../../src/nn/module.js';
import { synthetic } from '../../helpers/syntheticFashion.js';

const RAW = synthetic(256, 128, 7);

/** A small run of `model`: 32/16 hidden units, 2 epochs of 4 batches. */
function small(model: ModelName, extra: Partial<RunConfig> = {}): RunConfig {
  return {
    ...DEFAULT_CONFIG,
    model,
    numHiddens1: 32,
    numHiddens2: 16,
    batchSize: 64,
    epochs: 2,
    trainLimit: 256,
    valLimit: 128,
    ...extra,
  };
}

/** The layer kinds of a model's Sequential, in order (e.g. Linear BatchNorm1d ReLU Dropout …). */
function layerKinds(m: Module): string[] {
  const net = (m as unknown as { net: { layers: Module[] } }).net;
  return net.layers.map((l) => l.constructor.name.replace('LazyLinear', 'Linear'));
}

describe('normalised MLPs', () => {
  test('each places its normalisation and dropout as named', () => {
    const kinds = (name: ModelName): string =>
      layerKinds(buildModel({ ...small(name), model: name })).join(' ');
    assert.equal(kinds('mlp-bn'), 'Flatten Linear BatchNorm1d ReLU Linear BatchNorm1d ReLU Linear');
    assert.equal(
      kinds('dropout-mlp-bn'),
      'Flatten Linear BatchNorm1d ReLU Dropout Linear BatchNorm1d ReLU Dropout Linear',
    );
    assert.equal(
      kinds('dropout-mlp-bn-after'),
      'Flatten Linear BatchNorm1d ReLU Linear BatchNorm1d ReLU Dropout Linear',
    );
    assert.equal(kinds('mlp-ln'), 'Flatten Linear LayerNorm ReLU Linear LayerNorm ReLU Linear');
    assert.equal(
      kinds('dropout-mlp-ln'),
      'Flatten Linear LayerNorm ReLU Dropout Linear LayerNorm ReLU Dropout Linear',
    );
    const m = buildModel(small('dropout-mlp-bn', { dropout1: 0.3, dropout2: 0.2 }));
    const net = (m as unknown as { net: { layers: Module[] } }).net.layers;
    assert.deepEqual(
      net.filter((l) => l instanceof Dropout).map((l) => (l as Dropout).p),
      [0.3, 0.2],
    );
    assert.ok(net.some((l) => l instanceof BatchNorm1d) && !net.some((l) => l instanceof LayerNorm));
  });

  for (const model of [
    'mlp-bn',
    'dropout-mlp-bn',
    'dropout-mlp-bn-after',
    'mlp-ln',
    'dropout-mlp-ln',
  ] as const) {
    test(`${model} trains and resumes bit for bit`, async () => {
      const c = small(model);
      const straight = await runOne(c, runData(RAW, c), { keepModel: true });
      const saved: TrainingCheckpoint[] = [];
      await runOne({ ...c, epochs: 1 }, runData(RAW, c), {
        checkpointEvery: 1,
        checkpointer: { save: (ck) => void saved.push(ck) },
      });
      assert.equal(saved.length, 1);
      const resumed = await runOne(c, runData(RAW, c), { resumeFrom: saved[0]!, keepModel: true });
      assert.ok(Number.isFinite(straight.summary.trainLoss));
      assert.ok(straight.summary.valAcc > 0.1, `${model} learns: val_acc ${straight.summary.valAcc}`);
      assert.deepEqual(
        resumed.epochs.map((e) => [e.trainLoss, e.valLoss, e.valAcc]),
        straight.epochs.map((e) => [e.trainLoss, e.valLoss, e.valAcc]),
      );
      const state = (r: typeof straight) =>
        r.model!.namedState().map(([name, t]) => [name, Array.from(t.dataSync())] as const);
      const a = state(straight);
      assert.deepEqual(state(resumed), a);
      if (model.includes('bn')) {
        // The running statistics moved off their initial 0 / 1 and came back from the checkpoint.
        const mean = a.find(([n]) => n.endsWith('running_mean'))![1];
        assert.ok(mean.some((v) => v !== 0));
      }
      for (const r of [straight, resumed]) for (const [, t] of r.model!.namedState()) t.dispose();
    });
  }
});
