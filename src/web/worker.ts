/**
 * The lab's training worker (a module Web Worker): loads Fashion-MNIST from the lab server, trains
 * with the library on the backend the library's own rule picks (backend/auto.ts: WebGPU on a
 * hardware adapter, else WebAssembly SIMD on every core up to the count that pays when the page is
 * cross-origin isolated) or
 * the one the page's `?backend=` names, through d2l's Trainer, and streams
 * steps, curve points, dropout masks and epoch metrics to the page. The same seed and configuration
 * give the same numbers as `dropout-lab train` in Node.
 */
import { createBestBackend, type ChosenBackend } from '../backend/auto.js';
import { NumericError } from '../errors.js';
import { BACKEND_NAMES, type BackendName } from '../backend/select.js';
import type { FashionMnistArrays } from '../data/fashionMnist.js';
import { parseIdx } from '../data/idx.js';
import { modelEntry } from '../run/models.js';
import { runData, runOne } from '../run/runOne.js';
import { softmax } from '../ops/softmax.js';
import { defaultGenerator } from '../random/generator.js';
import { tensor } from '../tensor/creation.js';
import { noGrad, setBackend, tidy } from '../tensor/engine.js';
import type { Classifier } from '../train/module.js';
import { DrawRecorder, stepMasks } from './masks.js';
import {
  CONTROL,
  DATA_URLS,
  VIEW_UNITS,
  type FromWorker,
  type GalleryItem,
  type RunConfig,
  type ToWorker,
} from './protocol.js';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<ToWorker>) => void): void;
}
const scope = self as unknown as WorkerScope;
const post = (message: FromWorker, transfer: Transferable[] = []): void =>
  scope.postMessage(message, transfer);

class DataMissing extends Error {}

let arrays: Promise<FashionMnistArrays> | undefined;
let backendName: Promise<string> | undefined;
let lastModel: { model: Classifier; config: RunConfig; runId: number } | undefined;
/** Milliseconds the worker was held by pause or slow motion, so s/epoch counts only work. */
let heldMs = 0;

async function fetchIdx(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (response.status === 404) {
    throw new DataMissing(
      `the lab server has no Fashion-MNIST data (${url} answered 404). Restart it with ` +
        '`dropout-lab lab --data-dir DIR` (a folder with the four files), set $DROPOUT_LAB_DATA, ' +
        "or install Debian's dataset-fashion-mnist.",
    );
  }
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return parseIdx(new Uint8Array(await response.arrayBuffer()), url).data;
}

function loadArrays(): Promise<FashionMnistArrays> {
  arrays ??= (async () => {
    post({ type: 'status', text: 'Loading Fashion-MNIST from the lab server…' });
    const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
      fetchIdx(DATA_URLS.trainImages),
      fetchIdx(DATA_URLS.trainLabels),
      fetchIdx(DATA_URLS.testImages),
      fetchIdx(DATA_URLS.testLabels),
    ]);
    return { trainImages, trainLabels, testImages, testLabels, source: 'lab server' };
  })();
  arrays.catch(() => (arrays = undefined));
  return arrays;
}

let prefer: BackendName | 'auto' = 'auto';

/** Takes the page's `?backend=`; an unknown name is an error the page shows. */
function setPreference(name: string | null): void {
  if (name === null || name === '' || name === 'auto') return;
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown ?backend=${name}; use one of ${BACKEND_NAMES.join(', ')} (or leave it out).`);
  }
  prefer = name as BackendName;
}

/** What the page shows: the engine, its build and threads, or the GPU adapter. */
function engineLabel({ backend, adapter }: ChosenBackend): string {
  const { variant, threads } = backend as unknown as { variant?: string; threads?: number };
  if (backend.name === 'webgpu') return `WebGPU: webgpu on ${adapter ?? 'the default adapter'}`;
  if (variant === undefined) return `reference: ${backend.name} (plain JavaScript)`;
  return `WebAssembly SIMD: ${backend.name} (${variant}), ${threads ?? 1} thread${(threads ?? 1) === 1 ? '' : 's'}`;
}

function initBackend(): Promise<string> {
  backendName ??= (async () => {
    // The library's rule (WebGPU only on a hardware adapter, else wasm on every core up to the count
    // that pays when the page is cross-origin isolated) unless ?backend= names one.
    const chosen = await createBestBackend({ prefer });
    setBackend(chosen.backend);
    return engineLabel(chosen);
  })();
  return backendName;
}

function sleepOn(control: Int32Array, ms: number): void {
  Atomics.wait(control, CONTROL.WAKE, Atomics.load(control, CONTROL.WAKE), ms);
}

/** Blocks this worker (never the page) while paused, and for the slow-motion delay. */
function obeyControl(control: Int32Array | null, runId: number): void {
  if (control === null) return;
  const start = performance.now();
  try {
    holdWhileAsked(control, runId);
  } finally {
    heldMs += performance.now() - start;
  }
}

function holdWhileAsked(control: Int32Array, runId: number): void {
  const delay = Atomics.load(control, CONTROL.DELAY_MS);
  if (delay > 0) sleepOn(control, delay);
  if (Atomics.load(control, CONTROL.PAUSED) === 1) {
    post({ type: 'paused', runId, paused: true });
    while (Atomics.load(control, CONTROL.PAUSED) === 1) sleepOn(control, 1000);
    post({ type: 'paused', runId, paused: false });
  }
}

async function train(
  runId: number,
  config: RunConfig,
  controlBuffer: SharedArrayBuffer | null,
): Promise<void> {
  const [name, raw] = await Promise.all([initBackend(), loadArrays()]);
  const data = runData(raw, config);
  post({ type: 'ready', runId, backend: name, numTrain: data.numTrain, numVal: data.numVal });
  const hasDropout = modelEntry(config.model).hasDropout;
  const ps = hasDropout ? [config.dropout1, config.dropout2] : [0, 0];
  const maskView = config.variant === 'bernoulli' && config.dropMode === 'standard';
  const widths = [config.numHiddens1, config.numHiddens2];
  const control = controlBuffer === null ? null : new Int32Array(controlBuffer);
  const recorder = new DrawRecorder(defaultGenerator);
  let sent = 0;
  let globalStep = 0;
  heldMs = 0;
  try {
    // The same run as `dropout-lab train` (src/run/runOne.ts): same seed, same numbers.
    const result = await runOne(config, data, {
      keepModel: true,
      onStep: (info, board) => {
        globalStep++;
        const draws = recorder.take();
        // The view redraws Bernoulli masks at the configured p: Gaussian noise and a scheduled p
        // would be drawn wrongly, so they show no mask.
        const m = maskView ? stepMasks(draws, ps, widths) : undefined;
        const points = board.points.slice(sent);
        sent += points.length;
        post({
          type: 'step',
          runId,
          epoch: info.epoch,
          step: info.step,
          stepsPerEpoch: info.stepsPerEpoch,
          globalStep,
          loss: info.loss,
          masks: {
            h1: (m?.keep[0] ?? []).slice(0, VIEW_UNITS),
            h2: (m?.keep[1] ?? []).slice(0, VIEW_UNITS),
            dropped1: m?.droppedFraction[0] ?? 0,
            dropped2: m?.droppedFraction[1] ?? 0,
          },
          points,
        });
        obeyControl(control, runId);
      },
      onEpochEnd: (metrics, _model, board) => {
        // The validation points of this epoch go out with the metrics.
        const points = board.points.slice(sent);
        sent += points.length;
        post({ type: 'points', runId, points });
        const epochSeconds = Math.max(0, metrics.epochSeconds - heldMs / 1000);
        heldMs = 0;
        post({ type: 'epoch', runId, metrics: { ...metrics, epochSeconds } });
      },
    });
    lastModel = { model: result.model!, config, runId };
  } finally {
    recorder.dispose();
  }
  post({ type: 'done', runId });
}

/** MC dropout: T stochastic forward passes (dropout on) per test image; mean ± std of the probabilities. */
async function gallery(count: number, passes: number): Promise<void> {
  if (lastModel === undefined) return;
  const raw = await loadArrays();
  const { model } = lastModel;
  const n = Math.min(count, raw.testLabels.length);
  const images = raw.testImages.slice(0, n * 784);
  const X = new Float32Array(n * 784);
  for (let i = 0; i < X.length; i++) X[i] = images[i]! / 255;
  const sum = new Float64Array(n * 10);
  const sumSq = new Float64Array(n * 10);
  // Weight scaling: one deterministic pass with dropout off, the prediction `eval()` gives.
  model.eval();
  const evalTensor = noGrad(() => tidy(() => softmax(model.forward(tensor(X, { shape: [n, 1, 28, 28] })))));
  const evalProbs = await evalTensor.data();
  evalTensor.dispose();
  model.train();
  try {
    for (let t = 0; t < passes; t++) {
      // Read after the scope with await: the only read a WebGPU backend offers.
      const probsTensor = noGrad(() =>
        tidy(() => softmax(model.forward(tensor(X, { shape: [n, 1, 28, 28] })))),
      );
      const probs = await probsTensor.data();
      probsTensor.dispose();
      for (let i = 0; i < probs.length; i++) {
        sum[i]! += probs[i]!;
        sumSq[i]! += probs[i]! * probs[i]!;
      }
    }
  } finally {
    model.eval();
  }
  const items: GalleryItem[] = [];
  for (let i = 0; i < n; i++) {
    const mean: number[] = [];
    const std: number[] = [];
    for (let c = 0; c < 10; c++) {
      const m = sum[i * 10 + c]! / passes;
      mean.push(m);
      std.push(Math.sqrt(Math.max(0, sumSq[i * 10 + c]! / passes - m * m)));
    }
    const pred = mean.indexOf(Math.max(...mean));
    const e = Array.from(evalProbs.subarray(i * 10, i * 10 + 10));
    const evalPred = e.indexOf(Math.max(...e));
    items.push({ index: i, label: raw.testLabels[i]!, pred, mean, std, evalProbs: e, evalPred });
  }
  const hasDropout = modelEntry(lastModel.config.model).hasDropout;
  post({ type: 'gallery', runId: lastModel.runId, items, images, passes, hasDropout }, [images.buffer]);
}

scope.addEventListener('message', (event) => {
  const msg = event.data;
  if (msg.type === 'backend') {
    try {
      setPreference(msg.prefer);
    } catch (err) {
      post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
    return;
  }
  const job =
    msg.type === 'start' ? train(msg.runId, msg.config, msg.control) : gallery(msg.count, msg.passes);
  job.catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof NumericError && msg.type === 'start')
      post({ type: 'diverged', runId: msg.runId, message });
    else post(err instanceof DataMissing ? { type: 'data-missing', message } : { type: 'error', message });
  });
});
