/**
 * Runs one or more models on Fashion-MNIST with one seed and one set of hyperparameters, reporting
 * progress, JSON lines and a summary per model, and writing config.json, metrics.jsonl and the
 * book's plot into --out. `train` runs one model; `compare` runs the dropout MLP and the plain MLP.
 */
import { join } from 'node:path';
import { DropoutMLP, DropoutMLPScratch, MLP, type DropoutMLPConfig } from '../models/dropoutMlp.js';
import { loadFashionMNIST } from '../node.js';
import { manualSeed } from '../random/generator.js';
import { getBackend, setBackend } from '../tensor/engine.js';
import { createBackend, disposeBackend, type BackendName } from '../backend/select.js';
import { Trainer, type EpochMetrics } from '../train/trainer.js';
import type { Classifier } from '../train/module.js';
import { writeFileAtomic } from './atomicWrite.js';
import { cliCheckpointOptions } from './checkpointing.js';
import { formatTable } from './format.js';
import { prepareOutDir } from './outDir.js';
import { writePlots, type MetricPoint } from './plot.js';
import { createProgress } from './progress.js';
import { downloadReporter } from './downloadProgress.js';
import { checkWritableDir, loadInitWeights } from './initWeights.js';
import { loadSafetensors, saveSafetensors } from './safetensorsFile.js';

/** The models the CLI knows, by `--model` name. */
export const MODEL_NAMES = ['dropout-mlp', 'dropout-mlp-scratch', 'mlp'] as const;

/** A `--model` name. */
export type ModelName = (typeof MODEL_NAMES)[number];

/** Everything one `train`/`compare` invocation needs. */
export interface RunSpec {
  readonly command: 'train' | 'compare';
  readonly models: readonly ModelName[];
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly numHiddens1: number;
  readonly numHiddens2: number;
  readonly dropout1: number;
  readonly dropout2: number;
  readonly seed: number;
  readonly dataDir?: string | undefined;
  readonly trainLimit?: number | undefined;
  readonly valLimit?: number | undefined;
  readonly out?: string | undefined;
  readonly json: boolean;
  readonly backend: BackendName;
  readonly threads: number;
  readonly checkpointEvery?: number | undefined;
  readonly resume?: string | undefined;
  /** train: write the trained weights here as safetensors. */
  readonly saveWeights?: string | undefined;
  /** train: start from these safetensors weights. */
  readonly initWeights?: string | undefined;
}

/** Final figures of one model (the JSON-lines `summary` event). */
export interface RunSummary {
  readonly model: ModelName;
  readonly epochs: number;
  readonly trainLoss: number;
  readonly valLoss: number;
  readonly valAcc: number;
  /** val_loss − train_loss at the last epoch (train_loss measured in training mode, as the book plots it). */
  readonly gap: number;
  readonly secondsPerEpoch: number;
}

/** Builds a model by CLI name with the run's hyperparameters. */
export function createModel(name: ModelName, spec: RunSpec): Classifier {
  const config: DropoutMLPConfig = {
    numHiddens1: spec.numHiddens1,
    numHiddens2: spec.numHiddens2,
    dropout1: spec.dropout1,
    dropout2: spec.dropout2,
    lr: spec.lr,
  };
  if (name === 'dropout-mlp') return new DropoutMLP(config);
  if (name === 'dropout-mlp-scratch') return new DropoutMLPScratch(config);
  const { dropout1: _d1, dropout2: _d2, ...plain } = config;
  return new MLP(plain);
}

function epochEvent(model: ModelName, m: EpochMetrics): Record<string, unknown> {
  return {
    event: 'epoch',
    model,
    epoch: m.epoch,
    train_loss: m.trainLoss,
    val_loss: m.valLoss,
    val_acc: m.valAcc,
    epoch_seconds: m.epochSeconds,
    samples_per_second: m.samplesPerSecond,
  };
}

function summaryEvent(s: RunSummary): Record<string, unknown> {
  return {
    event: 'summary',
    model: s.model,
    epochs: s.epochs,
    train_loss: s.trainLoss,
    val_loss: s.valLoss,
    val_acc: s.valAcc,
    gap: s.gap,
    seconds_per_epoch: s.secondsPerEpoch,
  };
}

/** Runs the spec end to end; resolves with one summary per model. */
export async function runModels(spec: RunSpec, log: (line: string) => void): Promise<RunSummary[]> {
  // Weight files are checked before anything is trained, so a typo costs seconds, not a run.
  const init = spec.initWeights === undefined ? undefined : await loadSafetensors(spec.initWeights);
  if (spec.saveWeights !== undefined) await checkWritableDir(spec.saveWeights, '--save-weights');
  const out = spec.out === undefined ? undefined : await prepareOutDir(spec.out);
  const backend = await createBackend(spec.backend, { threads: spec.threads });
  const previousBackend = getBackend();
  setBackend(backend);
  try {
    const data = await loadFashionMNIST({
      batchSize: spec.batchSize,
      dataDir: spec.dataDir,
      trainLimit: spec.trainLimit,
      valLimit: spec.valLimit,
      onProgress: spec.json ? undefined : downloadReporter(log),
    });
    const lines: string[] = [];
    const emit = (event: Record<string, unknown>): void => {
      const line = JSON.stringify(event);
      lines.push(line);
      if (spec.json) log(line);
    };
    const points: MetricPoint[] = [];
    const summaries: RunSummary[] = [];
    for (const name of spec.models) {
      // Every model starts from the same seed: same initial draws, same data order.
      manualSeed(spec.seed);
      data.shuffleGenerator.manualSeed(spec.seed + 2 ** 32);
      const model = createModel(name, spec);
      if (init !== undefined) loadInitWeights(model, init.tensors, spec.initWeights!);
      const checkpointing = await cliCheckpointOptions(spec, name, out?.path);
      const progress = createProgress(!spec.json, spec.epochs);
      const trainer = new Trainer({
        maxEpochs: spec.epochs,
        ...checkpointing,
        onStep: (info) => progress.step(name, info),
        onEpochEnd: (m) => {
          progress.stop();
          emit(epochEvent(name, m));
          if (!spec.json) {
            log(
              `${name}  epoch ${m.epoch}/${spec.epochs}  train_loss ${m.trainLoss.toFixed(4)}  ` +
                `val_loss ${m.valLoss.toFixed(4)}  val_acc ${m.valAcc.toFixed(4)}  ${m.epochSeconds.toFixed(2)} s`,
            );
          }
        },
      });
      let result;
      try {
        result = await trainer.fit(model, data);
      } finally {
        progress.stop();
      }
      for (const p of result.board.points)
        points.push({ model: name, metric: p.metric, epoch: p.epoch, value: p.value });
      const last = result.epochs[result.epochs.length - 1]!;
      const summary: RunSummary = {
        model: name,
        epochs: result.epochs.length,
        trainLoss: last.trainLoss,
        valLoss: last.valLoss,
        valAcc: last.valAcc,
        gap: last.valLoss - last.trainLoss,
        secondsPerEpoch: result.epochs.reduce((s, e) => s + e.epochSeconds, 0) / result.epochs.length,
      };
      summaries.push(summary);
      emit(summaryEvent(summary));
      if (spec.saveWeights !== undefined) {
        await saveSafetensors(spec.saveWeights, model, { format: 'pt', model: name });
        if (!spec.json) log(`wrote ${spec.saveWeights}`);
      }
      for (const p of model.parameters()) p.dispose();
    }
    if (!spec.json) log('\n' + summaryTable(summaries));
    if (out !== undefined) {
      const config = {
        command: spec.command,
        models: spec.models,
        epochs: spec.epochs,
        batch_size: spec.batchSize,
        lr: spec.lr,
        num_hiddens1: spec.numHiddens1,
        num_hiddens2: spec.numHiddens2,
        dropout1: spec.dropout1,
        dropout2: spec.dropout2,
        seed: spec.seed,
        train_limit: spec.trainLimit ?? null,
        val_limit: spec.valLimit ?? null,
        backend: backend.name,
        threads: spec.backend === 'wasm' ? spec.threads : 1,
        data_source: data.source,
      };
      await writeFileAtomic(join(out.path, 'config.json'), JSON.stringify(config, null, 2) + '\n');
      await writeFileAtomic(join(out.path, 'metrics.jsonl'), lines.join('\n') + '\n');
      const title =
        spec.models.length > 1
          ? `${spec.models.join(' vs ')} on Fashion-MNIST`
          : `${spec.models[0]} on Fashion-MNIST`;
      const plots = await writePlots(out.path, 'curves', points, { title });
      if (!spec.json)
        log(`wrote ${join(out.path, 'config.json')}, metrics.jsonl, ${plots.svgPath}, ${plots.pngPath}`);
    }
    return summaries;
  } catch (e) {
    await out?.cleanup();
    throw e;
  } finally {
    setBackend(previousBackend);
    disposeBackend(backend);
  }
}

/** The comparison table `compare` prints. */
export function summaryTable(summaries: readonly RunSummary[]): string {
  return formatTable(
    ['model', 'train_loss', 'val_loss', 'val_acc', 'gap (val-train)', 's/epoch'],
    summaries.map((s) => [
      s.model,
      s.trainLoss.toFixed(4),
      s.valLoss.toFixed(4),
      s.valAcc.toFixed(4),
      s.gap.toFixed(4),
      s.secondsPerEpoch.toFixed(2),
    ]),
  );
}
