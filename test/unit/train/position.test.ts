/**
 * A run's position as a value (src/train/checkpoint/position.ts), tested without a model or `fit`:
 * steps advance it, the board's points fall at the half-epoch and the end, and a position saved
 * mid-epoch and read back continues exactly as if it had never stopped.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ArgumentError } from '../../../src/errors.js';
import {
  afterStep,
  checkPosition,
  globalStep,
  isMidEpoch,
  nextEpoch,
  partialEpoch,
  positionOf,
  runStart,
  trainLossPoint,
  windowCleared,
  withSeconds,
  type RunPosition,
  type TrainingCheckpoint,
} from '../../../src/train/checkpoint.js';

/** Deterministic, non-round losses and batch sizes (the last batch of an epoch smaller). */
const lossAt = (epoch: number, step: number): number => 2.3 / (1 + 0.137 * (epoch * 5 + step)) + 1e-3 * step;
const sizeAt = (step: number, steps: number): number => (step === steps - 1 ? 22 : 32);

/** Steps the loop as the Trainer does, from `at` to the end of the run; returns the points drawn and where it ended. */
function play(
  at: RunPosition,
  maxEpochs: number,
  stopAt?: { epoch: number; step: number },
): { points: [number, number][]; trainLoss: number[]; at: RunPosition } {
  const points: [number, number][] = [];
  const trainLoss: number[] = [];
  while (at.epoch < maxEpochs) {
    while (at.step < at.stepsPerEpoch) {
      at = afterStep(at, lossAt(at.epoch, at.step), sizeAt(at.step, at.stepsPerEpoch));
      const p = trainLossPoint(at);
      if (p !== null) {
        points.push([p.x, p.y]);
        at = windowCleared(at);
      }
      if (stopAt !== undefined && at.epoch === stopAt.epoch && at.step === stopAt.step) {
        return { points, trainLoss, at };
      }
    }
    trainLoss.push(at.sums.epochSum / at.sums.epochCount);
    at = nextEpoch(at);
  }
  return { points, trainLoss, at };
}

/** The fields of a checkpoint that a position reads and checks; the rest do not matter here. */
function checkpointAt(
  at: RunPosition,
  o: { batchSize?: number; numTrain?: number; epochsOfMetrics?: number; lrStep?: number } = {},
): TrainingCheckpoint {
  const batchSize = o.batchSize ?? 32;
  const numTrain = o.numTrain ?? 150;
  return {
    epoch: at.epoch,
    stepInEpoch: at.step,
    ...(at.step === 0 ? {} : { partial: partialEpoch(at) }),
    ...(o.lrStep === undefined ? {} : { lrSchedule: { step: o.lrStep } }),
    data: { batchSize, numTrain, numVal: 48, position: Math.min(at.step * batchSize, numTrain) },
    metrics: { epochs: Array.from({ length: o.epochsOfMetrics ?? at.epoch }, () => ({})), board: [] },
  } as unknown as TrainingCheckpoint;
}

const SHAPE = { maxEpochs: 3, stepsPerEpoch: 5, batchSize: 32, numTrain: 150 };

describe('RunPosition', () => {
  test('steps advance the position, the sums and the global step; an epoch boundary resets them', () => {
    let at = runStart(5);
    assert.deepEqual([at.epoch, at.step, globalStep(at), isMidEpoch(at)], [0, 0, 0, false]);
    at = afterStep(at, 2, 32);
    at = afterStep(at, 1, 22);
    assert.deepEqual(at.sums, { sum: 86, count: 54, epochSum: 86, epochCount: 54 });
    assert.deepEqual([at.step, globalStep(at), isMidEpoch(at)], [2, 2, true]);
    const next = nextEpoch(at);
    assert.deepEqual([next.epoch, next.step, globalStep(next), next.sums.epochCount], [1, 0, 5, 0]);
    assert.equal(globalStep({ ...next, step: 3 }), 8);
  });

  test("the board's train_loss points: the half-epoch (ceil) and the end, each the mean since the last", () => {
    const { points, trainLoss } = play(runStart(5), 1);
    assert.deepEqual(
      points.map(([x]) => x),
      [0.6, 1],
    );
    const l = [0, 1, 2, 3, 4].map((s) => lossAt(0, s));
    assert.equal(points[0]![1], (l[0]! * 32 + l[1]! * 32 + l[2]! * 32) / 96);
    assert.equal(points[1]![1], (l[3]! * 32 + l[4]! * 22) / 54);
    assert.equal(trainLoss[0], (l[0]! * 32 + l[1]! * 32 + l[2]! * 32 + l[3]! * 32 + l[4]! * 22) / 150);
    // A one-step epoch draws one point, at its end.
    assert.deepEqual(play(runStart(1), 1).points.length, 1);
  });

  for (const stop of [
    { epoch: 0, step: 1 },
    { epoch: 1, step: 3 },
    { epoch: 2, step: 4 },
  ]) {
    test(`saved at epoch ${stop.epoch + 1}, step ${stop.step} and read back, the run ends bit for bit as an unbroken one`, () => {
      const whole = play(runStart(5), 3);
      const first = play(runStart(5), 3, stop);
      const saved = checkpointAt(withSeconds(first.at, 1.25));
      checkPosition(saved, SHAPE);
      const resumed = positionOf(saved, 5);
      assert.deepEqual(resumed, { ...first.at, seconds: 1.25 });
      const rest = play(resumed, 3);
      assert.deepEqual([...first.points, ...rest.points], whole.points);
      assert.deepEqual([...first.trainLoss, ...rest.trainLoss], whole.trainLoss);
      assert.deepEqual(rest.at, whole.at);
    });
  }

  test('a boundary checkpoint holds no partial sums and resumes at step 0 of the next epoch', () => {
    const at = nextEpoch(play(runStart(5), 1).at);
    const saved = checkpointAt(at);
    assert.equal(saved.partial, undefined);
    assert.deepEqual(positionOf(saved, 5), { ...at, seconds: 0 });
  });
});

describe('checkPosition refuses a checkpoint outside the run or at odds with itself', () => {
  const mid = afterStep(afterStep(nextEpoch(runStart(5)), 1, 32), 1, 32); // epoch 2, step 2
  const cases: [string, TrainingCheckpoint, Partial<typeof SHAPE>, RegExp][] = [
    [
      'beyond the run',
      checkpointAt(mid),
      { maxEpochs: 1 },
      /beyond this run's 1 epochs; resume it with 2 or more/,
    ],
    ['at a step past the epoch', checkpointAt(mid), { stepsPerEpoch: 2 }, /step 2 of an epoch of 2 steps/],
    ['data position', checkpointAt(mid, { batchSize: 16 }), {}, /data position 32 does not match its step 2/],
    [
      'schedule step',
      checkpointAt(mid, { lrStep: 6 }),
      {},
      /schedule is at step 6 but its position is step 7/,
    ],
    ['metrics', checkpointAt(mid, { epochsOfMetrics: 2 }), {}, /at epoch 1 but holds metrics of 2 epochs/],
  ];
  for (const [what, ckpt, shape, message] of cases) {
    test(what, () => {
      assert.throws(
        () => checkPosition(ckpt, { ...SHAPE, ...shape }),
        (e: unknown) => e instanceof ArgumentError && message.test(e.message),
      );
    });
  }
  test('a consistent one passes, schedule included', () => {
    checkPosition(checkpointAt(mid, { lrStep: 7 }), SHAPE);
  });
});
