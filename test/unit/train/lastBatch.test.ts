/**
 * A last training batch of one example under BatchNorm (issue 29.5): the Trainer leaves it out, as
 * PyTorch's drop_last would, and says so once; other models train on every batch; batches that can
 * never hold two examples are refused before training; and an error of the model once training has
 * begun is a failed run (exit 1 in the CLI), not a usage error (exit 2).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ArgumentError, DropoutLabError, Generator, MLP, d2l, manualSeed } from '../../../src/index.js';
import { FashionMNIST } from '../../../src/data/fashionMnist.js';
import { NormMLP } from '../../../src/models/normMlp.js';
import type { Batch } from '../../../src/data/dataModule.js';
import type { Tensor } from '../../../src/tensor/tensor.js';
import { dropsLastBatch, lastBatchNote, trainStepsPerEpoch } from '../../../src/train/lastBatch.js';
import type { TrainableModule } from '../../../src/train/module.js';
import { synthetic } from '../../helpers/syntheticFashion.js';

const data = (numTrain: number, batchSize: number): FashionMNIST =>
  new FashionMNIST(synthetic(numTrain, 40, 3), { batchSize, generator: new Generator(1) });
const bn = (): NormMLP => new NormMLP({ norm: 'batch', dropout: 'none', numHiddens1: 8, numHiddens2: 8 });
const ln = (): NormMLP => new NormMLP({ norm: 'layer', dropout: 'none', numHiddens1: 8, numHiddens2: 8 });
const mlp = (): MLP => new MLP({ numHiddens1: 8, numHiddens2: 8 });

function free(model: TrainableModule): void {
  for (const [, p] of model.namedState()) p.dispose();
}

describe('steps per epoch', () => {
  test('BatchNorm drops a last batch of one; LayerNorm and the plain MLP keep it', () => {
    manualSeed(0);
    const d = data(33, 16); // batches of 16, 16, 1
    for (const [model, steps, drops] of [
      [bn(), 2, true],
      [ln(), 3, false],
      [mlp(), 3, false],
    ] as const) {
      assert.equal(trainStepsPerEpoch(model, d), steps, model.constructor.name);
      assert.equal(dropsLastBatch(model, d), drops);
      assert.equal(lastBatchNote(model, d) !== null, drops);
      free(model);
    }
    const model = bn();
    assert.equal(trainStepsPerEpoch(model, data(34, 16)), 3, 'a last batch of two is trained');
    assert.match(lastBatchNote(model, d)!, /^note: .* 32 of 33 examples\.$/);
    free(model);
  });

  test('BatchNorm with batches of one, or one example: refused before training', () => {
    const model = bn();
    for (const d of [data(20, 1), data(1, 16)]) {
      assert.throws(
        () => trainStepsPerEpoch(model, d),
        (e: unknown) =>
          e instanceof ArgumentError && /at least 2 examples per training batch/.test(e.message),
      );
    }
    free(model);
  });
});

describe('Trainer.fit with a last batch of one', () => {
  test('a BatchNorm MLP trains 2 steps per epoch, is told once, and plots its half-epochs over the kept steps', async () => {
    manualSeed(0);
    const model = bn();
    const notes: string[] = [];
    const steps: number[] = [];
    const trainer = new d2l.Trainer({
      maxEpochs: 2,
      onNote: (line) => notes.push(line),
      onStep: (info) => steps.push(info.stepsPerEpoch),
    });
    try {
      const { epochs, board } = await trainer.fit(model, data(33, 16));
      assert.equal(notes.length, 1);
      assert.deepEqual(steps, [2, 2, 2, 2]);
      assert.equal(epochs.length, 2);
      for (const e of epochs) assert.ok(Number.isFinite(e.trainLoss));
      // Two train_loss points per epoch, at 0.5 and 1 of it.
      assert.deepEqual(
        board.points.filter((p) => p.metric === 'train_loss').map((p) => p.epoch),
        [0.5, 1, 1.5, 2],
      );
    } finally {
      free(model);
    }
  });

  test("an error of the model's at step 2 is a failed run naming where, not a usage error", async () => {
    manualSeed(0);
    class Faulty extends MLP {
      private calls = 0;
      override trainingStep(batch: Batch): Tensor {
        if (++this.calls === 2) throw new ArgumentError('Linear: something the model refuses.');
        return super.trainingStep(batch);
      }
    }
    const model = new Faulty({ numHiddens1: 8, numHiddens2: 8 });
    try {
      await assert.rejects(
        new d2l.Trainer({ maxEpochs: 1 }).fit(model, data(48, 16)),
        (e: unknown) =>
          e instanceof DropoutLabError &&
          !(e instanceof ArgumentError) &&
          e.message === 'training failed at epoch 1, step 2: Linear: something the model refuses.' &&
          e.cause instanceof ArgumentError,
      );
    } finally {
      free(model);
    }
  });
});
