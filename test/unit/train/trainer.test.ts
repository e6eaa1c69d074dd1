/**
 * Training the d2l dropout MLPs on a small synthetic Fashion-MNIST-like DataModule: units are dropped
 * during `fit` and never in evaluation, the Trainer flips modes at the right moments, a seed
 * reproduces a run exactly, the model learns, memory stays flat, and divergence is reported.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DropoutMLP,
  DropoutMLPScratch,
  Generator,
  NumericError,
  d2l,
  getBackend,
  nn,
  noGrad,
  tidy,
  type DropoutMLPConfig,
  type Tensor,
} from '../../../src/index.js';

const PIXELS = 784;

/** Images whose label k is written as a bright band of rows 2k+4…2k+6 over low noise: learnable by an MLP. */
function synthetic(n: number, seed: number): { images: Uint8Array; labels: Uint8Array } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const images = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(next() * 10);
    labels[i] = k;
    for (let p = 0; p < PIXELS; p++) {
      const row = Math.floor(p / 28);
      const band = row >= 2 * k + 4 && row < 2 * k + 7;
      images[i * PIXELS + p] = Math.floor((band ? 150 : 0) + next() * 80);
    }
  }
  return { images, labels };
}

function dataModule(numTrain: number, numVal: number, batchSize: number, seed = 1): d2l.FashionMNIST {
  const train = synthetic(numTrain, seed);
  const val = synthetic(numVal, seed + 1000);
  return new d2l.FashionMNIST(
    { trainImages: train.images, trainLabels: train.labels, testImages: val.images, testLabels: val.labels },
    { batchSize, generator: new Generator(seed) },
  );
}

const small = (seed: number, extra: Partial<DropoutMLPConfig> = {}): DropoutMLPConfig => ({
  numHiddens1: 32,
  numHiddens2: 32,
  lr: 0.1,
  generator: new Generator(seed),
  ...extra,
});

type ModelKind = 'DropoutMLPScratch' | 'DropoutMLP';
const kinds: ModelKind[] = ['DropoutMLPScratch', 'DropoutMLP'];
const create = (kind: ModelKind, config: DropoutMLPConfig): DropoutMLPScratch | DropoutMLP =>
  kind === 'DropoutMLP' ? new DropoutMLP(config) : new DropoutMLPScratch(config);

interface DropEvent {
  readonly training: boolean;
  readonly before: Float32Array;
  readonly after: Float32Array;
}

/**
 * Spies on each dropout site of `model`, recording the hidden activations just before and just after
 * it. DropoutMLP: the nn.Dropout layers' inputs and outputs. DropoutMLPScratch: the ReLU outputs
 * (before) and the next Linear's input (after).
 */
function spyDropout(model: DropoutMLPScratch | DropoutMLP): DropEvent[] {
  const events: DropEvent[] = [];
  if (model instanceof DropoutMLP) {
    for (const layer of model.net.layers) {
      if (!(layer instanceof nn.Dropout)) continue;
      const forward = layer.forward.bind(layer);
      layer.forward = (X: Tensor): Tensor => {
        const y = forward(X);
        events.push({ training: layer.training, before: X.dataSync(), after: y.dataSync() });
        return y;
      };
    }
  } else {
    const pending: Float32Array[] = [];
    const relu = model.relu.forward.bind(model.relu);
    model.relu.forward = (X: Tensor): Tensor => {
      const y = relu(X);
      pending.push(y.dataSync());
      return y;
    };
    for (const lin of [model.lin2, model.lin3]) {
      const forward = lin.forward.bind(lin);
      lin.forward = (X: Tensor, opts?: { relu?: boolean }): Tensor => {
        events.push({ training: model.training, before: pending.shift()!, after: X.dataSync() });
        return forward(X, opts);
      };
    }
  }
  return events;
}

/** Checks one dropout site: survivors exactly 2x (p = 0.5), and the share of dropped units. */
function droppedShare(e: DropEvent): number {
  assert.equal(e.after.length, e.before.length);
  let active = 0;
  let dropped = 0;
  e.before.forEach((v, i) => {
    const a = e.after[i]!;
    if (v === 0) {
      assert.equal(a, 0);
      return;
    }
    active++;
    if (a === 0) dropped++;
    else assert.equal(a, Math.fround(v * 2), 'a survivor is scaled by 1/(1 − p) = 2');
  });
  return active === 0 ? 0 : dropped / active;
}

for (const kind of kinds) {
  describe(`${kind} on synthetic Fashion-MNIST`, () => {
    test('units are dropped in every training step, never in validation; eval is deterministic', async () => {
      const data = dataModule(512, 256, 64);
      const gen = new Generator(10);
      const model = create(kind, small(10, { generator: gen }));
      // Materialise the lazy layers before spying, so every recorded event comes from fit.
      noGrad(() => tidy(() => model.eval().forward(data.valDataloader()[Symbol.iterator]().next().value!.X)));
      model.train();
      const events = spyDropout(model);
      await new d2l.Trainer({ maxEpochs: 1 }).fit(model, data);

      const train = events.filter((e) => e.training);
      const val = events.filter((e) => !e.training);
      // Two dropout sites per forward: 8 training batches and 4 validation batches.
      assert.equal(train.length, 2 * 8);
      assert.equal(val.length, 2 * 4);
      let total = 0;
      for (const e of train) {
        const share = droppedShare(e);
        assert.ok(share > 0.3 && share < 0.7, `dropped share ${share} with p = 0.5`);
        total += share;
      }
      assert.ok(Math.abs(total / train.length - 0.5) < 0.05, `mean dropped share ${total / train.length}`);
      for (const e of val) assert.deepEqual(e.after, e.before, 'no unit dropped in validation');

      // Eval mode: two evaluations are identical and draw no random numbers.
      model.eval();
      const batch = data.valDataloader()[Symbol.iterator]().next().value!;
      const state = gen.getState();
      const a = noGrad(() => model.forward(batch.X).dataSync());
      const b = noGrad(() => model.forward(batch.X).dataSync());
      assert.deepEqual(a, b);
      assert.deepEqual(gen.getState(), state, 'evaluation consumed random numbers');
      // …whereas two training-mode forwards differ (fresh masks).
      model.train();
      const c = noGrad(() => model.forward(batch.X).dataSync());
      const d = noGrad(() => model.forward(batch.X).dataSync());
      assert.notDeepEqual(c, d);
      assert.notDeepEqual(c, a);
    });

    test('the Trainer calls train() before the steps and eval() before validation', async () => {
      const log: string[] = [];
      // Both models share the constructor signature; typing Base as the scratch class keeps `extends` concrete.
      const Base: typeof DropoutMLPScratch =
        kind === 'DropoutMLP' ? (DropoutMLP as unknown as typeof DropoutMLPScratch) : DropoutMLPScratch;
      const modes = (m: d2l.Module): boolean[] => [
        m.training,
        ...m.namedChildren().flatMap(([, c]) => modes(c as d2l.Module)),
      ];
      class Spy extends Base {
        override trainingStep(batch: d2l.Batch): Tensor {
          log.push(modes(this).every((t) => t) ? 'T' : 'T?');
          return super.trainingStep(batch);
        }
        override validationStep(batch: d2l.Batch): d2l.ValidationResult {
          log.push(modes(this).every((t) => !t) ? 'V' : 'V?');
          return super.validationStep(batch);
        }
      }
      const model = new Spy(small(3));
      // Start in eval mode: the Trainer, not the model's initial state, must switch to training.
      model.eval();
      await new d2l.Trainer({ maxEpochs: 2 }).fit(model, dataModule(128, 64, 32));
      assert.deepEqual(log, ['T', 'T', 'T', 'T', 'V', 'V', 'T', 'T', 'T', 'T', 'V', 'V']);
    });

    test('the same seed gives an identical FitResult', async () => {
      const run = async (): Promise<unknown> => {
        const result = await new d2l.Trainer({ maxEpochs: 2 }).fit(
          create(kind, small(21)),
          dataModule(256, 128, 64, 5),
        );
        // Timings differ from run to run; everything else must not.
        return {
          epochs: result.epochs.map(({ epoch, trainLoss, valLoss, valAcc }) => ({
            epoch,
            trainLoss,
            valLoss,
            valAcc,
          })),
          board: result.board.points,
        };
      };
      const a = await run();
      const b = await run();
      assert.deepEqual(a, b);
      const other = await new d2l.Trainer({ maxEpochs: 1 }).fit(
        create(kind, small(22)),
        dataModule(256, 128, 64, 5),
      );
      assert.notEqual(
        other.epochs[0]!.trainLoss,
        (a as { epochs: { trainLoss: number }[] }).epochs[0]!.trainLoss,
      );
    });

    test('the MLP learns: the loss falls and validation accuracy beats chance', async () => {
      const steps: number[] = [];
      const result = await new d2l.Trainer({ maxEpochs: 5, onStep: (s) => steps.push(s.loss) }).fit(
        create(kind, small(7, { lr: 0.2 })),
        dataModule(512, 256, 64),
      );
      assert.equal(result.epochs.length, 5);
      assert.equal(steps.length, 5 * 8);
      const first = result.epochs[0]!;
      const last = result.epochs[4]!;
      assert.ok(last.trainLoss < 0.7 * first.trainLoss, `train loss ${first.trainLoss} → ${last.trainLoss}`);
      assert.ok(last.valLoss < first.valLoss, `val loss ${first.valLoss} → ${last.valLoss}`);
      assert.ok(last.valAcc > 0.8, `val accuracy ${last.valAcc}`);
      assert.ok(steps[0]! > 2, 'the first step starts near log(10)');
      // Two train_loss points per epoch, one val_loss and val_acc.
      assert.equal(result.board.series('train_loss').length, 10);
      assert.equal(result.board.series('val_acc').length, 5);
    });

    test('memory after epoch 20 equals memory after epoch 2', async () => {
      const memory: { buffers: number; bytes: number }[] = [];
      const backend = getBackend();
      await new d2l.Trainer({ maxEpochs: 20, onEpochEnd: () => memory.push(backend.memory()) }).fit(
        create(kind, small(4, { numHiddens1: 8, numHiddens2: 8 })),
        dataModule(48, 16, 16),
      );
      assert.equal(memory.length, 20);
      assert.deepEqual(memory[19], memory[1]);
    });

    test('a diverging run raises NumericError naming the epoch and step', async () => {
      await assert.rejects(
        new d2l.Trainer({ maxEpochs: 3 }).fit(create(kind, small(2, { lr: 1e6 })), dataModule(256, 64, 32)),
        (e: unknown) =>
          e instanceof NumericError &&
          /epoch \d+, step \d+/.test(e.message) &&
          /NaN|Infinity/.test(e.message),
      );
    });
  });
}
