/**
 * dropout-lab's side of the benchmark: the book's models on a chosen backend, trained with exactly
 * the Trainer's step (src/train/trainer.ts): one tidy scope holding forward, loss, zeroGrad,
 * backward and the SGD step, then the loss read back. The loop is re-implemented here only so a
 * peer can run a capped number of steps and skip validation, which is not part of the timing.
 */
import { createBackend, disposeBackend, type BackendName } from '../../src/backend/select.js';
import type { Backend } from '../../src/backend/backend.js';
import { LeNetCNN } from '../../src/models/cnn.js';
import { DropoutMLP, MLP } from '../../src/models/dropoutMlp.js';
import { VisionTransformer } from '../../src/models/vit.js';
import type { FashionMNIST } from '../../src/data/fashionMnist.js';
import { manualSeed } from '../../src/random/generator.js';
import { noGrad, setBackend, tidy } from '../../src/tensor/engine.js';
import type { Classifier } from '../../src/train/module.js';
import { SGD } from '../../src/optim/sgd.js';
import { trainStep } from '../../src/train/trainer.js';
import type { HParams, ModelKind } from './protocol.js';

/** A model with its optimiser, ready to train on `data`. */
export interface LabRun {
  readonly model: Classifier;
  readonly optim: SGD;
  readonly data: FashionMNIST;
}

/** Creates a backend and makes it the active one. */
export async function useBackend(name: BackendName, threads: number, sparse?: boolean): Promise<Backend> {
  const be = await createBackend(name, { threads, sparse });
  setBackend(be);
  return be;
}

/** Releases a backend's helper thread. */
export function releaseBackend(be: Backend): void {
  disposeBackend(be);
}

/**
 * Seeds as the CLI does (model init from `seed`, shuffle from `seed + 2^32`), builds the model on the
 * active backend and materialises its lazy layers with one no-grad forward pass (as Trainer.fit).
 */
export function buildLabRun(kind: ModelKind, hp: HParams, data: FashionMNIST): LabRun {
  manualSeed(hp.seed);
  data.shuffleGenerator.manualSeed(hp.seed + 2 ** 32);
  const common = { numHiddens1: hp.hidden1, numHiddens2: hp.hidden2, lr: hp.lr };
  const model =
    kind === 'dropout'
      ? new DropoutMLP({ ...common, dropout1: hp.dropout1, dropout2: hp.dropout2 })
      : kind === 'cnn'
        ? new LeNetCNN(common)
        : kind === 'vit'
          ? new VisionTransformer()
          : new MLP(common);
  const first = data.valDataloader()[Symbol.iterator]().next();
  if (!first.done) {
    noGrad(() => tidy(() => model.eval().forward(first.value.X)));
    first.value.X.dispose();
    first.value.y.dispose();
  }
  model.train();
  // The book's plain SGD at the bench's rate, for every model (as the models' own optimisers were).
  return { model, optim: new SGD(model.parameters(), { lr: hp.lr }), data };
}

/** Result of trainSteps. */
export interface StepsResult {
  readonly seconds: number;
  readonly samples: number;
  readonly steps: number;
  readonly loss: number;
}

/**
 * Trains over a freshly shuffled epoch, stopping after `cap` steps when it is not null; the time
 * covers the batch gather, the steps and reading each loss back (what an epoch costs a user).
 * `onStep` runs after each step, outside nothing (it is timed too; keep it cheap).
 */
export async function trainSteps(
  run: LabRun,
  cap: number | null,
  onStep?: (step: number) => void,
): Promise<StepsResult> {
  const { model, optim, data } = run;
  model.train();
  let steps = 0;
  let samples = 0;
  let lossSum = 0;
  const t0 = performance.now();
  for (const batch of data.trainDataloader()) {
    const value = await trainStep(model, optim, batch);
    const n = batch.y.size;
    batch.X.dispose();
    batch.y.dispose();
    lossSum += value * n;
    samples += n;
    steps++;
    onStep?.(steps);
    if (cap !== null && steps >= cap) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, samples, steps, loss: lossSum / samples };
}

/** All parameters concatenated in registration order (for the thread-determinism check). */
export function flatParameters(model: Classifier): Float32Array {
  const parts = model.parameters().map((p) => p.dataSync());
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
