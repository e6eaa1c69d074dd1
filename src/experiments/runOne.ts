/**
 * Runs one experiment (a ExperimentConfig) in this process and returns its JSON-lines events: the config,
 * one `epoch` event per epoch (training curves, eval-mode train metrics on a fixed subset, hidden
 * activation statistics on a fixed probe batch), and for kind 'mc' one `mc` event.
 */
import type { FashionMnistRaw } from '../node/data/fashionMnistFiles.js';
import { activationStats } from '../nn/activationStats.js';
import { BatchNorm1d } from '../nn/normalization.js';
import { VisionTransformer } from '../models/vit.js';
import { varianceShift } from '../nn/varianceShift.js';
import { defaultGenerator } from '../random/generator.js';
import type { Module } from '../nn/module.js';
import { predict } from '../nn/mcDropout.js';
import { tensor } from '../tensor/creation.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import type { TrainingCheckpoint } from '../train/checkpoint.js';
import type { Classifier } from '../train/module.js';
import { runData, runOne as trainRun } from '../run/runOne.js';
import { canonicalRun, runId, runPart, type ExperimentConfig } from './config.js';
import { calibration, errorRate } from './stats.js';
import { crossEntropy } from '../ops/loss.js';

const PIXELS = 784;
/** Training examples re-scored in eval mode each epoch, for a gap free of the dropout noise. */
const TRAIN_EVAL_SIZE = 10_000;
/** Examples per forward pass when re-scoring the training examples (about one training batch). */
const EVAL_CHUNK = 250;
/** Examples of the fixed probe batch for activation statistics. */
const PROBE_SIZE = 1000;
/** Most and least certain test images kept per run. */
const EXTREMES = 8;

/** Images [n, 1, 28, 28] in [0, 1] and labels from raw IDX bytes, from example `start`. */
function imagesTensor(
  images: Uint8Array,
  labels: Uint8Array,
  n: number,
  start = 0,
): { X: Tensor; y: Float32Array } {
  const x = new Float32Array(n * PIXELS);
  const from = start * PIXELS;
  for (let i = 0; i < x.length; i++) x[i] = images[from + i]! / 255;
  return { X: tensor(x, { shape: [n, 1, 28, 28] }), y: Float32Array.from(labels.subarray(start, start + n)) };
}

/**
 * The first n images in chunks of EVAL_CHUNK: one forward pass over 10,000 images holds every layer's
 * activations for all of them at once (a ViT's ran out of wasm memory), a chunk at a time does not.
 */
function imageChunks(images: Uint8Array, labels: Uint8Array, n: number): { X: Tensor; y: Float32Array }[] {
  const out: { X: Tensor; y: Float32Array }[] = [];
  for (let s = 0; s < n; s += EVAL_CHUNK)
    out.push(imagesTensor(images, labels, Math.min(EVAL_CHUNK, n - s), s));
  return out;
}

/** Eval-mode (weight-scaling) loss and accuracy of `model` over the chunks. */
function evaluate(
  model: Classifier,
  chunks: readonly { X: Tensor; y: Float32Array }[],
): { loss: number; acc: number } {
  let loss = 0;
  let wrong = 0;
  let n = 0;
  for (const { X, y } of chunks) {
    const probs = predict(model, X);
    const p = probs.probs.dataSync();
    probs.probs.dispose();
    probs.entropy.dispose();
    probs.variance.dispose();
    for (let i = 0; i < y.length; i++) loss -= Math.log(Math.max(p[i * 10 + y[i]!]!, 1e-30));
    wrong += Math.round(errorRate(p, y, 10) * y.length);
    n += y.length;
  }
  return { loss: loss / n, acc: 1 - wrong / n };
}

/** True when `m` or a module inside it is a BatchNorm1d. */
function hasBatchNorm(m: Module): boolean {
  return m instanceof BatchNorm1d || m.namedChildren().some(([, c]) => hasBatchNorm(c));
}

/**
 * The variance shift of each BatchNorm on the probe batch. Its training pass draws dropout masks:
 * the global generator is restored afterwards, so the run trains on exactly as it would unmeasured.
 */
function measuredShift(model: Module, probe: Tensor): Record<string, number>[] {
  const state = defaultGenerator.getState();
  try {
    return varianceShift(model, probe).map((v) => ({
      layer: v.layer,
      train_var: v.trainVar,
      eval_var: v.evalVar,
      running_var: v.runningVar,
      shift: v.shift,
    }));
  } finally {
    defaultGenerator.setState(state);
  }
}

/** Options of runOne: where progress goes, and (for queue workers) per-epoch checkpoints. */
export interface RunOneOptions {
  onEpoch?: (epoch: number) => void;
  /**
   * Receives, after every epoch, the events so far and the Trainer's checkpoint; handing both back
   * as `resumeFrom` continues the run so that it ends bit for bit like an uninterrupted one.
   */
  checkpoint?: (events: readonly Record<string, unknown>[], ckpt: TrainingCheckpoint) => Promise<void>;
  resumeFrom?: { events: readonly Record<string, unknown>[]; checkpoint: TrainingCheckpoint } | undefined;
}

/** Trains and evaluates `config` on `raw`; returns the run's events (first the config). */
export async function runOne(
  config: ExperimentConfig,
  raw: FashionMnistRaw,
  opts: RunOneOptions = {},
): Promise<Record<string, unknown>[]> {
  const c = canonicalRun(config);
  const started = performance.now();
  const events: Record<string, unknown>[] = opts.resumeFrom
    ? [...opts.resumeFrom.events]
    : [{ event: 'config', id: runId(c), ...c }];
  const data = runData(raw, runPart(c));
  const nTrainEval = Math.min(TRAIN_EVAL_SIZE, data.numTrain);
  const trainEval = imageChunks(raw.trainImages, raw.trainLabels, nTrainEval);
  const probe = imagesTensor(raw.trainImages, raw.trainLabels, Math.min(PROBE_SIZE, data.numTrain)).X;
  let model: Classifier | undefined;
  try {
    const save = opts.checkpoint;
    // The same run as `train` (src/run/runOne.ts), with the experiment's measurements after each epoch.
    const result = await trainRun(runPart(c), data, {
      ...(save ? { checkpointEvery: 1, checkpointer: { save: (ck) => save(events, ck) } } : {}),
      ...(opts.resumeFrom ? { resumeFrom: opts.resumeFrom.checkpoint } : {}),
      keepModel: c.kind === 'mc',
      onEpochEnd: (m, trained) => {
        const te = evaluate(trained, trainEval);
        events.push({
          event: 'epoch',
          epoch: m.epoch,
          train_loss: m.trainLoss,
          val_loss: m.valLoss,
          val_acc: m.valAcc,
          // The CLI's gap (val_loss − train_loss in training mode) and the noise-free one.
          gap: m.valLoss - m.trainLoss,
          train_loss_eval: te.loss,
          train_acc_eval: te.acc,
          gap_eval: m.valLoss - te.loss,
          acc_gap: te.acc - m.valAcc,
          // The hidden-layer statistics are the MLPs' and CNNs' (exercise 3); a ViT's forward pass
          // over the whole probe at once would hold every block's activations for 1,000 images.
          activations: trained instanceof VisionTransformer ? [] : activationStats(trained, probe),
          ...(hasBatchNorm(trained) ? { variance_shift: measuredShift(trained, probe) } : {}),
          epoch_seconds: m.epochSeconds,
        });
        opts.onEpoch?.(m.epoch);
      },
    });
    model = result.model;
    if (model !== undefined)
      events.push(mcEvent(model, raw, data.numVal, c.mcSamples, c.seed, c.mcConsistent === true));
  } finally {
    for (const p of model?.parameters() ?? []) p.dispose();
    for (const chunk of trainEval) chunk.X.dispose();
    probe.dispose();
  }
  events.push({ event: 'done', seconds: (performance.now() - started) / 1000 });
  return events;
}

/**
 * Weight scaling vs MC dropout on the test set: the MC error after k = 1…T passes (running mean of
 * the probabilities), calibration of both, and the most/least certain images by MC predictive entropy.
 */
function mcEvent(
  model: Classifier,
  raw: FashionMnistRaw,
  n: number,
  T: number,
  seed: number,
  consistent: boolean,
): Record<string, unknown> {
  const { X, y } = imagesTensor(raw.testImages, raw.testLabels, n);
  try {
    const ws = predict(model, X);
    const wsProbs = ws.probs.dataSync();
    const running = new Float64Array(n * 10);
    const mcError: number[] = [];
    const mc = predict(model, X, {
      mcSamples: Math.max(1, T),
      consistent,
      onSample: (p, t) => {
        for (let i = 0; i < p.length; i++) running[i]! += p[i]!;
        mcError.push(errorRate(running, y, 10));
        void t;
      },
    });
    const mcProbs = mc.probs.dataSync();
    const entropy = mc.entropy.dataSync();
    const mean = (t: Tensor): number => t.dataSync().reduce((a, v) => a + v, 0) / n;
    // The predictive entropy split (Gal 2016): expected entropy (aleatoric) + mutual information (BALD).
    const split = {
      mc_entropy: mean(mc.entropy),
      mc_expected_entropy: mean(mc.expectedEntropy),
      mc_mutual_information: mean(mc.mutualInformation),
    };
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => entropy[a]! - entropy[b]!);
    const describe = (i: number): Record<string, unknown> => ({
      index: i,
      label: y[i],
      pred: mcProbs.subarray(i * 10, i * 10 + 10).reduce((b, v, k, a) => (v > a[b]! ? k : b), 0),
      entropy: entropy[i],
      pixels: Array.from(raw.testImages.subarray(i * PIXELS, (i + 1) * PIXELS)),
    });
    const wsCal = calibration(wsProbs, y, 10);
    const mcCal = calibration(mcProbs, y, 10);
    const nll = (p: Float32Array): number =>
      noGrad(() =>
        tidy(() => {
          const logits = tensor(
            p.map((v) => Math.log(Math.max(v, 1e-30))),
            { shape: [n, 10] },
          );
          return crossEntropy(logits, tensor(y)).item();
        }),
      );
    for (const r of [ws, mc])
      for (const t of [r.probs, r.entropy, r.variance, r.expectedEntropy, r.mutualInformation]) t.dispose();
    return {
      event: 'mc',
      seed,
      samples: mc.samples,
      consistent,
      ...split,
      ws_error: errorRate(wsProbs, y, 10),
      mc_error: mcError,
      ws_nll: nll(wsProbs),
      mc_nll: nll(mcProbs),
      ws_ece: wsCal.ece,
      mc_ece: mcCal.ece,
      ws_reliability: wsCal.bins,
      mc_reliability: mcCal.bins,
      most_certain: order.slice(0, EXTREMES).map(describe),
      least_certain: order.slice(-EXTREMES).reverse().map(describe),
    };
  } finally {
    X.dispose();
  }
}
