/**
 * Checkpoint, restore and interrupt as plain functions on a live run (src/train/checkpoint/), tested
 * without `fit`: a few steps trained by hand, captured mid-epoch, sent through the file format and
 * restored into a freshly built run give back the same position, weights, optimiser state,
 * generators, metrics and board; the next step then trains to the same loss as the run that never
 * stopped.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DropoutMLP,
  Generator,
  InterruptedError,
  NumericError,
  defaultGenerator,
  manualSeed,
  noGrad,
  optim,
  tidy,
} from '../../../src/index.js';
import { FashionMNIST } from '../../../src/data/fashionMnist.js';
import { ProgressBoard } from '../../../src/train/progressBoard.js';
import { trainStep } from '../../../src/train/trainer.js';
import {
  afterStep,
  captureCheckpoint,
  decodeCheckpoint,
  encodeCheckpoint,
  interrupt,
  nextEpoch,
  restoreCheckpoint,
  runIdentity,
  runStart,
  shuffleGeneratorOf,
  withSeconds,
  type RunPosition,
  type TrainingCheckpoint,
  type TrainingState,
} from '../../../src/train/checkpoint.js';
import { synthetic } from '../../helpers/syntheticFashion.js';

const RAW = synthetic(150, 48, 1);

/** A run as the Trainer builds one: 150 examples in batches of 32 (5 steps), SGD with momentum. */
function liveRun(seed: number): TrainingState {
  manualSeed(seed);
  const model = new DropoutMLP({ numHiddens1: 16, numHiddens2: 16, lr: 0.05, dropout1: 0.3, dropout2: 0.6 });
  const data = new FashionMNIST(RAW, { batchSize: 32, generator: new Generator(seed + 100) });
  // Lazy layers take their shapes from a first forward pass, as the Trainer's preparation does.
  for (const batch of data.valDataloader()) {
    noGrad(() => tidy(() => model.eval().forward(batch.X)));
    break;
  }
  const sgd = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  return {
    model,
    optim: sgd,
    data,
    identity: runIdentity(model, data, sgd, { maxEpochs: 3, stepsPerEpoch: 5 }),
    generator: new Generator(seed + 200),
    dataGenerator: shuffleGeneratorOf(data),
    board: new ProgressBoard(),
    epochs: [],
    maxEpochs: 3,
    stepsPerEpoch: 5,
    batchSize: 32,
    numTrain: 150,
  };
}

/** Trains `steps` steps of the epoch from step `at.step` on, drawing masks from the run's generator. */
async function trainSteps(run: TrainingState, at: RunPosition, steps: number): Promise<RunPosition> {
  run.model.train();
  const from = at.step;
  let i = 0;
  for (const batch of run.data.trainDataloader()) {
    if (i++ < from) continue;
    if (i > from + steps) break;
    // The model draws from the global generator; hand it the run's state and take it back.
    const loss = await withGenerator(run, () => trainStep(run.model, run.optim, batch));
    at = afterStep(at, loss, batch.y.size);
  }
  return at;
}

async function withGenerator<T>(run: TrainingState, f: () => Promise<T>): Promise<T> {
  const saved = defaultGenerator.getState();
  defaultGenerator.setState(run.generator.getState());
  try {
    return await f();
  } finally {
    run.generator.setState(defaultGenerator.getState());
    defaultGenerator.setState(saved);
  }
}

async function values(run: TrainingState): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [n, p] of run.model.namedState()) out[n] = [...(await p.data())];
  return out;
}

function free(run: TrainingState): void {
  for (const [, p] of run.model.namedState()) p.dispose();
}

describe('capture → file format → restore, without fit', () => {
  test('a mid-epoch checkpoint restores position, weights, optimiser, generators, metrics and board', async () => {
    const a = liveRun(7);
    const b = liveRun(8); // another seed: every restored value must come from the checkpoint
    try {
      // Epoch 1 done (by hand), then 2 steps of epoch 2.
      let at = await trainSteps(a, runStart(5), 5);
      a.epochs.push({
        epoch: 1,
        trainLoss: 1,
        valLoss: 1,
        valAcc: 0.5,
        epochSeconds: 1,
        samplesPerSecond: 1,
      });
      a.board.draw('val_acc', 1, 0.5);
      at = nextEpoch(at);
      const epochData = a.dataGenerator!.getState();
      at = withSeconds(await trainSteps(a, at, 2), 0.75);
      const bytes = encodeCheckpoint(await captureCheckpoint(a, at, epochData));
      const ckpt: TrainingCheckpoint = decodeCheckpoint(bytes);
      assert.deepEqual([ckpt.epoch, ckpt.stepInEpoch, ckpt.data.position], [1, 2, 64]);

      const restored = restoreCheckpoint(ckpt, b);
      assert.deepEqual(restored, at);
      assert.deepEqual(await values(b), await values(a));
      assert.deepEqual(b.optim.state(), a.optim.state());
      assert.deepEqual(b.generator.getState(), a.generator.getState());
      // The data generator is back where epoch 2 started, so the same permutation is drawn again.
      assert.deepEqual(b.dataGenerator!.getState(), epochData);
      assert.deepEqual(b.epochs, a.epochs);
      assert.deepEqual(b.board.points, a.board.points);

      // The next step: the restored run (redrawing epoch 2's order) trains to the same loss and weights.
      a.dataGenerator!.setState(epochData);
      const nextA = await trainSteps(a, at, 1);
      const nextB = await trainSteps(b, restored, 1);
      assert.deepEqual(nextB.sums, nextA.sums);
      assert.deepEqual(await values(b), await values(a));
    } finally {
      free(a);
      free(b);
    }
  });

  test("restore refuses another run's checkpoint before loading anything", async () => {
    const a = liveRun(7);
    try {
      a.epochs.push({
        epoch: 1,
        trainLoss: 1,
        valLoss: 1,
        valAcc: 0.5,
        epochSeconds: 1,
        samplesPerSecond: 1,
      });
      const ckpt = await captureCheckpoint(a, nextEpoch(runStart(5)), a.dataGenerator!.getState());
      const wider = liveRun(7);
      const other: TrainingState = {
        ...wider,
        identity: { ...wider.identity, data: { ...wider.identity.data, batchSize: 16 } },
      };
      const before = await values(other);
      assert.throws(
        () => restoreCheckpoint(ckpt, other),
        /data batchSize is 32 in the checkpoint but 16 here/,
      );
      assert.deepEqual(await values(other), before);
      assert.throws(
        () => restoreCheckpoint(ckpt, { ...a, dataGenerator: null }),
        /one has a data shuffle generator and the other does not/,
      );
      assert.throws(() => restoreCheckpoint(ckpt, { ...a, maxEpochs: 0 }), /beyond this run's 0 epochs/);
      free(wider);
    } finally {
      free(a);
    }
  });

  test('capture refuses non-finite weights, naming the position', async () => {
    const a = liveRun(7);
    try {
      const state = Object.fromEntries(
        await Promise.all(
          a.model
            .namedState()
            .map(async ([n, p]) => [n, { shape: [...p.shape], data: await p.data() }] as const),
        ),
      );
      state[a.model.namedState()[0]![0]]!.data[0] = Number.NaN;
      a.model.loadStateDict(state);
      const at = afterStep(afterStep(runStart(5), 1, 32), 1, 32);
      await assert.rejects(
        captureCheckpoint(a, at, null),
        (e: unknown) =>
          e instanceof NumericError && /holds non-finite values at epoch 1, step 2/.test(e.message),
      );
    } finally {
      free(a);
    }
  });
});

describe('interrupt', () => {
  test('mid-epoch: saves the checkpoint of that step, then rejects naming it and the signal', async () => {
    const a = liveRun(7);
    try {
      const saved: TrainingCheckpoint[] = [];
      const at = withSeconds(afterStep(afterStep(afterStep(nextEpoch(runStart(5)), 1, 32), 1, 32), 1, 32), 2);
      await assert.rejects(
        interrupt(a, at, a.dataGenerator!.getState(), 'SIGTERM', { save: (c) => void saved.push(c) }),
        (e: unknown) =>
          e instanceof InterruptedError &&
          e.message === 'interrupted at epoch 2, step 3' &&
          e.signal === 'SIGTERM' &&
          e.exitCode === 143 &&
          e.checkpointSaved,
      );
      assert.equal(saved.length, 1);
      assert.deepEqual([saved[0]!.epoch, saved[0]!.stepInEpoch, saved[0]!.partial?.seconds], [1, 3, 2]);
    } finally {
      free(a);
    }
  });

  test('at a boundary without a checkpointer: nothing saved, and the error says so', async () => {
    const a = liveRun(7);
    try {
      await assert.rejects(
        interrupt(a, nextEpoch(nextEpoch(runStart(5))), null, 'SIGINT', undefined),
        (e: unknown) =>
          e instanceof InterruptedError &&
          e.message === 'interrupted after epoch 2' &&
          e.exitCode === 130 &&
          !e.checkpointSaved,
      );
    } finally {
      free(a);
    }
  });
});
