/**
 * The run's optimiser and schedule (--optimizer, --beta1/--beta2/--eps, --lr-schedule,
 * --warmup-epochs) as the run layer applies them: explicit settings > a model's registry defaults >
 * AdamW's PyTorch defaults > the table's; the canonical form, the refusals, config.json, a
 * resumed AdamW + cosine run equal to the straight one, and SGD checkpoints written before these
 * rows existed still resuming.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError } from '../../../src/errors.js';
import { MLP } from '../../../src/models/dropoutMlp.js';
import { MODELS, type ModelEntry, type ModelName } from '../../../src/run/models.js';
import {
  ADAMW_DEFAULTS,
  canonicalConfig,
  checkpointIdentity,
  checkRun,
  completeConfig,
  configRecord,
  DEFAULT_CONFIG,
} from '../../../src/run/options.js';
import { checkResumable, runData, runOne, type RunResult } from '../../../src/run/runOne.js';
import type { RunConfig } from '../../../src/run/config.js';
import type { TrainingCheckpoint } from '../../../src/train/checkpoint.js';
import { givenFromFlags } from '../../../src/cli/runOptions.js';
import { synthetic } from '../../helpers/syntheticFashion.js';

const RAW = synthetic(256, 128, 5);

const small = (extra: Partial<RunConfig> = {}): RunConfig =>
  completeConfig({
    model: 'mlp',
    numHiddens1: 32,
    numHiddens2: 16,
    batchSize: 64,
    epochs: 3,
    trainLimit: 256,
    valLimit: 128,
    ...extra,
  });

const numbers = (r: RunResult) => r.epochs.map((e) => [e.trainLoss, e.valLoss, e.valAcc]);

/** A registry entry that exists only in this test: a model declaring its own run defaults. */
function withTestModel<T>(fn: (name: ModelName) => T): T {
  const registry = MODELS as unknown as Record<string, ModelEntry>;
  const name = 'test-defaults-model';
  registry[name] = {
    description: 'a test model with its own defaults',
    hasDropout: false,
    fixed: {},
    defaults: {
      optimizer: 'adamw',
      lr: 0.002,
      weightDecay: 0.05,
      lrSchedule: 'warmup-cosine',
      warmupEpochs: 2,
    },
    build: (c) => new MLP({ numHiddens1: c.numHiddens1, numHiddens2: c.numHiddens2, lr: c.lr }),
  };
  try {
    return fn(name as ModelName);
  } finally {
    delete registry[name];
  }
}

describe('completing a run config', () => {
  test("the existing models' defaults stay SGD at a constant rate (every earlier result unchanged)", () => {
    // The ViTs bring their own recipe (AdamW, warm-up + cosine): checked below.
    for (const model of (Object.keys(MODELS) as ModelName[]).filter((m) => !m.startsWith('vit'))) {
      const c = completeConfig({ model });
      assert.deepEqual([c.optimizer, c.lrSchedule, c.lr, c.weightDecay], ['sgd', 'constant', 0.1, 0]);
      assert.deepEqual(c, { ...DEFAULT_CONFIG, model });
    }
  });

  test('the ViTs default to AdamW (lr 1e-3, weight decay 0.05) with one warm-up epoch then cosine; flags win', () => {
    for (const model of ['vit', 'vit-dropout'] as const) {
      const c = completeConfig({ model });
      assert.deepEqual(
        [c.optimizer, c.lr, c.weightDecay, c.lrSchedule, c.warmupEpochs],
        ['adamw', 1e-3, 0.05, 'warmup-cosine', 1],
      );
    }
    assert.deepEqual(
      [completeConfig({ model: 'vit-dropout' }).dropout1, completeConfig({ model: 'vit-dropout' }).dropout2],
      [0.1, 0.1],
      "the Transformer's rates",
    );
    const given = completeConfig({ model: 'vit', optimizer: 'sgd', lr: 0.05 });
    assert.deepEqual([given.optimizer, given.lr, given.lrSchedule], ['sgd', 0.05, 'warmup-cosine']);
  });

  test("--optimizer adamw takes torch.optim.AdamW's defaults unless given", () => {
    const c = completeConfig({ optimizer: 'adamw' });
    assert.deepEqual([c.lr, c.weightDecay, c.beta1, c.beta2, c.eps], [1e-3, 0.01, 0.9, 0.999, 1e-8]);
    assert.deepEqual(ADAMW_DEFAULTS, { lr: 1e-3, weightDecay: 0.01 });
    const given = completeConfig({ optimizer: 'adamw', lr: 0.005, weightDecay: 0 });
    assert.deepEqual([given.lr, given.weightDecay], [0.005, 0]);
  });

  test("a registry entry's defaults fill what is not given; explicit settings (flags) win", () => {
    withTestModel((model) => {
      const c = completeConfig({ model });
      assert.deepEqual(
        [c.optimizer, c.lr, c.weightDecay, c.lrSchedule, c.warmupEpochs, c.batchSize],
        ['adamw', 0.002, 0.05, 'warmup-cosine', 2, 256],
      );
      const flags = completeConfig(givenFromFlags({ model, lr: 0.01, optimizer: 'sgd', other: 'ignored' }));
      assert.deepEqual([flags.optimizer, flags.lr, flags.weightDecay], ['sgd', 0.01, 0.05]);
      // Commander leaves an unset flag undefined: it does not hide the model's default.
      const unset = completeConfig(givenFromFlags({ model, lr: undefined }));
      assert.equal(unset.lr, 0.002);
    });
  });

  test('the canonical form: SGD has no betas or ε, a constant rate no warm-up', () => {
    const c = canonicalConfig(small({ beta1: 0.5, eps: 0.1, warmupEpochs: 2 }));
    assert.deepEqual([c.beta1, c.eps, c.warmupEpochs], [0.9, 1e-8, 0]);
    const a = canonicalConfig(
      small({ optimizer: 'adamw', beta1: 0.5, lrSchedule: 'warmup-cosine', warmupEpochs: 2 }),
    );
    assert.deepEqual([a.beta1, a.warmupEpochs], [0.5, 2]);
  });

  test('refusals: SGD-only settings with AdamW, a warm-up longer than the run (one line each)', () => {
    const oneLine = (re: RegExp) => (e: unknown) =>
      e instanceof ArgumentError && re.test(e.message) && !e.message.includes('\n');
    assert.throws(() => checkRun(small({ optimizer: 'adamw', momentum: 0.9 })), oneLine(/momentum is SGD's/));
    assert.throws(() => checkRun(small({ optimizer: 'adamw', maxNorm: 3 })), oneLine(/maxNorm is SGD's/));
    assert.throws(
      () => checkRun(small({ lrSchedule: 'warmup-cosine', warmupEpochs: 4 })),
      oneLine(/warmupEpochs 4 exceeds the run's 3 epochs/),
    );
    assert.throws(
      () => checkRun({ ...small(), optimizer: 'adam' } as unknown as RunConfig),
      /optimizer must be one of sgd, adamw/,
    );
  });

  test('config.json and the checkpoint identity record the optimiser and the schedule', () => {
    const c = small({ optimizer: 'adamw', lrSchedule: 'warmup-cosine', warmupEpochs: 1 });
    const rec = configRecord(c);
    assert.deepEqual(
      [rec['optimizer'], rec['beta1'], rec['beta2'], rec['eps'], rec['lr_schedule'], rec['warmup_epochs']],
      ['adamw', 0.9, 0.999, 1e-8, 'warmup-cosine', 1],
    );
    const id = checkpointIdentity(c);
    assert.deepEqual([id['optimizer'], id['lrSchedule'], id['warmupEpochs']], ['adamw', 'warmup-cosine', 1]);
  });
});

describe('AdamW + warm-up/cosine runs', () => {
  const c = small({ optimizer: 'adamw', lrSchedule: 'warmup-cosine', warmupEpochs: 1 });

  test('a run trains with AdamW and the schedule (not the model’s SGD), and resumes bit for bit', async () => {
    const straight = await runOne(c, runData(RAW, c));
    const sgd = await runOne(small(), runData(RAW, c));
    assert.notDeepEqual(numbers(straight), numbers(sgd));
    const saved: TrainingCheckpoint[] = [];
    await runOne(c, runData(RAW, c), {
      checkpointEvery: 1,
      checkpointer: { save: (k) => void saved.push(k) },
      onEpochEnd: (m) => {
        if (m.epoch === 2) throw new Error('stop after epoch 2');
      },
    }).catch((e: unknown) => assert.match(String(e), /stop after epoch 2/));
    const ckpt = saved[0]!;
    assert.equal(ckpt.optimizer.name, 'AdamW');
    assert.equal(ckpt.lrSchedule?.step, 4);
    const data = runData(RAW, c);
    checkResumable(c, ckpt, data);
    const resumed = await runOne(c, data, { resumeFrom: ckpt });
    assert.deepEqual(numbers(resumed), numbers(straight));
  });

  test("an SGD run's checkpoint is refused for an AdamW run with one line", async () => {
    const saved: TrainingCheckpoint[] = [];
    const s = small({ epochs: 1 });
    await runOne(s, runData(RAW, s), {
      checkpointEvery: 1,
      checkpointer: { save: (k) => void saved.push(k) },
    });
    assert.throws(
      () => checkResumable(c, saved[0]!, runData(RAW, c)),
      (e: unknown) =>
        e instanceof ArgumentError && /trained with SGD but this run uses AdamW/.test(e.message),
    );
  });

  test('an SGD checkpoint written before the optimiser rows existed still resumes', async () => {
    const s = small();
    const straight = await runOne(s, runData(RAW, s));
    const saved: TrainingCheckpoint[] = [];
    await runOne({ ...s, epochs: 1 }, runData(RAW, s), {
      checkpointEvery: 1,
      checkpointer: { save: (k) => void saved.push(k) },
    });
    const {
      optimizer: _o,
      beta1: _b1,
      beta2: _b2,
      eps: _e,
      lrSchedule: _l,
      warmupEpochs: _w,
      ...old
    } = saved[0]!.config;
    const legacy = { ...saved[0]!, config: old };
    checkResumable(s, legacy, runData(RAW, s));
    const resumed = await runOne(s, runData(RAW, s), { resumeFrom: legacy });
    assert.deepEqual(numbers(resumed), numbers(straight));
  });
});
