/**
 * The run's dropout schedule (--drop-mode/--drop-schedule/--cutoff-epoch) and R-Drop (--rdrop-alpha),
 * as runOne applies them: early dropout with cutoff 1 trains epoch 2 exactly as a p = 0 run resumed
 * from the standard run's epoch-1 checkpoint; late dropout's first epoch is the p = 0 run's; the
 * R-Drop training step matches a hand computation; the fields reach config.json and the identity.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed } from '../../../src/random/generator.js';
import { tensor } from '../../../src/tensor/creation.js';
import { buildModel } from '../../../src/run/models.js';
import { checkpointIdentity, checkRun, configRecord, DEFAULT_CONFIG } from '../../../src/run/options.js';
import { useRDrop } from '../../../src/run/rdrop.js';
import { runData, runOne, type RunResult } from '../../../src/run/runOne.js';
import type { RunConfig } from '../../../src/run/config.js';
import type { TrainingCheckpoint } from '../../../src/train/checkpoint.js';
import { synthetic } from '../../helpers/syntheticFashion.js';

const RAW = synthetic(256, 128, 11);

function small(extra: Partial<RunConfig> = {}): RunConfig {
  return {
    ...DEFAULT_CONFIG,
    numHiddens1: 32,
    numHiddens2: 16,
    batchSize: 64,
    epochs: 2,
    trainLimit: 256,
    valLimit: 128,
    ...extra,
  };
}

const numbers = (r: RunResult) => r.epochs.map((e) => [e.trainLoss, e.valLoss, e.valAcc]);

async function checkpointAfterEpoch1(c: RunConfig): Promise<TrainingCheckpoint> {
  const saved: TrainingCheckpoint[] = [];
  await runOne({ ...c, epochs: 1 }, runData(RAW, c), {
    checkpointEvery: 1,
    checkpointer: { save: (ck) => void saved.push(ck) },
  });
  return saved[0]!;
}

describe('dropout schedules in a run', () => {
  test('early dropout, cutoff 1: epoch 1 is standard dropout, epoch 2 is p = 0 from that checkpoint', async () => {
    const early = await runOne(small({ dropMode: 'early', cutoffEpoch: 1 }), runData(RAW, small()));
    const standard = await runOne(small(), runData(RAW, small()));
    assert.deepEqual(numbers(early)[0], numbers(standard)[0]);
    assert.notDeepEqual(numbers(early)[1], numbers(standard)[1]);
    // The standard run's epoch-1 checkpoint, continued without dropout (its identity relabelled p = 0).
    const p0 = small({ dropout1: 0, dropout2: 0 });
    const ck = await checkpointAfterEpoch1(small());
    const resumed = await runOne(p0, runData(RAW, p0), {
      resumeFrom: { ...ck, config: checkpointIdentity(p0) },
    });
    assert.deepEqual(numbers(early), numbers(resumed));
  });

  test('late dropout, cutoff 1: epoch 1 is the p = 0 run, epoch 2 has dropout', async () => {
    const late = await runOne(small({ dropMode: 'late', cutoffEpoch: 1 }), runData(RAW, small()));
    const p0 = await runOne(small({ dropout1: 0, dropout2: 0 }), runData(RAW, small()));
    assert.deepEqual(numbers(late)[0], numbers(p0)[0]);
    assert.notDeepEqual(numbers(late)[1], numbers(p0)[1]);
  });

  test('a resumed early run picks up its schedule at the epoch it resumes in', async () => {
    const c = small({ dropMode: 'early', cutoffEpoch: 1 });
    const straight = await runOne(c, runData(RAW, c));
    const resumed = await runOne(c, runData(RAW, c), { resumeFrom: await checkpointAfterEpoch1(c) });
    assert.deepEqual(numbers(resumed), numbers(straight));
  });

  test('config.json and the checkpoint identity record the schedule; bad ones are refused', () => {
    const c = small({ dropMode: 'early', dropSchedule: 'linear', cutoffEpoch: 3, rdropAlpha: 0.5 });
    const rec = configRecord(c);
    assert.equal(rec['drop_mode'], 'early');
    assert.equal(rec['drop_schedule'], 'linear');
    assert.equal(rec['cutoff_epoch'], 3);
    assert.equal(rec['rdrop_alpha'], 0.5);
    assert.notDeepEqual(checkpointIdentity(c), checkpointIdentity(small()));
    // Standard dropout has no schedule: a cutoff changes nothing, and the plain MLP has no noise at all.
    assert.deepEqual(checkpointIdentity(small({ cutoffEpoch: 4 })), checkpointIdentity(small()));
    assert.equal(checkpointIdentity(small({ model: 'mlp', rdropAlpha: 1 }))['rdropAlpha'], 0);
    assert.throws(() => checkRun(small({ dropSchedule: 'linear' })), /linear drop schedule applies to early/);
    assert.throws(
      () => checkRun(small({ dropMode: 'late', cutoffEpoch: 1, variant: 'gaussian' })),
      /drop mode late schedules nn\.Dropout's p only/,
    );
    assert.throws(
      () => checkRun(small({ model: 'dropout-mlp-scratch', dropMode: 'early', cutoffEpoch: 1 })),
      /dropout-mlp-scratch applies only/,
    );
  });
});

/** log-softmax of one row, in float64. */
function logSoftmax(z: number[]): number[] {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}

describe('R-Drop in a run', () => {
  test('the training step is mean CE of two passes + α · symmetric KL, by hand', () => {
    const alpha = 0.7;
    manualSeed(3);
    const model = buildModel(small({ numHiddens1: 8, numHiddens2: 6 }));
    const X = tensor(
      Float32Array.from({ length: 4 * 784 }, (_, i) => ((i * 37) % 101) / 101),
      {
        shape: [4, 1, 28, 28],
      },
    );
    const y = tensor(Float32Array.from([3, 0, 9, 3]));
    // The lazy layers draw their weights on the first forward: materialise them before the seeded passes.
    model.eval().forward(X).dispose();
    model.train();
    manualSeed(42);
    const rows = (t: { dataSync(): Float32Array }): number[][] => {
      const d = Array.from(t.dataSync());
      return [0, 1, 2, 3].map((i) => d.slice(i * 10, i * 10 + 10));
    };
    const z1 = rows(model.forward(X));
    const z2 = rows(model.forward(X));
    assert.notDeepEqual(z1, z2, 'the two passes draw different masks');
    let ce = 0;
    let kl = 0;
    for (let i = 0; i < 4; i++) {
      const l1 = logSoftmax(z1[i]!);
      const l2 = logSoftmax(z2[i]!);
      const label = [3, 0, 9, 3][i]!;
      ce += -(l1[label]! + l2[label]!) / 2 / 4;
      for (let k = 0; k < 10; k++) kl += ((Math.exp(l1[k]!) - Math.exp(l2[k]!)) * (l1[k]! - l2[k]!)) / 2 / 4;
    }
    const expected = ce + alpha * kl;
    useRDrop(model, alpha);
    manualSeed(42);
    const got = model.trainingStep({ X, y }).item();
    assert.ok(Math.abs(got - expected) < 1e-5, `R-Drop loss ${got}, by hand ${expected}`);
    assert.ok(kl > 1e-4, 'the KL term is not trivially 0');
  });

  test('--rdrop-alpha changes the run and is a pure function of the seed', async () => {
    const c = small({ rdropAlpha: 1 });
    const a = await runOne(c, runData(RAW, c));
    const b = await runOne(c, runData(RAW, c));
    const plain = await runOne(small(), runData(RAW, c));
    assert.deepEqual(numbers(a), numbers(b));
    assert.notDeepEqual(numbers(a), numbers(plain));
  });
});
