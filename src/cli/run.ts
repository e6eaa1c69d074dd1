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
import type { Backend } from '../backend/backend.js';
import { createBackend, disposeBackend, type BackendName } from '../backend/select.js';
import { ArgumentError, InterruptedError } from '../errors.js';
import type { TrainingCheckpoint } from '../train/checkpoint.js';
import { Trainer, type EpochMetrics } from '../train/trainer.js';
import type { Classifier } from '../train/module.js';
import { writeFilesAtomic } from '../node/atomicWrite.js';
import { cliCheckpointOptions, loadResumeCheckpoints } from './resume.js';
import { formatTable } from './format.js';
import { checkPathFlag, prepareOutDir } from '../node/outDir.js';
import { renderPlotFiles, type MetricPoint } from '../node/plot.js';
import { createProgress } from './progress.js';
import { downloadReporter } from './downloadProgress.js';
import { checkWritableDir, loadInitWeights } from '../node/initWeights.js';
import { loadSafetensors, saveSafetensors } from '../node/safetensorsFile.js';
import { watchSignals } from './signals.js';

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
  /** Stop cleanly on SIGINT/SIGTERM, saving a checkpoint (default true; tests running in-process turn it off). */
  readonly handleSignals?: boolean | undefined;
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

/** Refuses, before any training, flags that disagree with a --resume checkpoint (one line naming the flag). */
function checkResumeFlags(name: ModelName, spec: RunSpec, ckpt: TrainingCheckpoint): void {
  const seed = ckpt.generators.model.seed;
  if (seed !== spec.seed) {
    throw new ArgumentError(
      `--seed ${spec.seed} disagrees with the checkpoint of ${name}, which was trained with seed ${seed}; pass --seed ${seed} (or drop --resume to start a new run).`,
    );
  }
}

/** Runs the spec end to end; resolves with one summary per model. */
export async function runModels(spec: RunSpec, log: (line: string) => void): Promise<RunSummary[]> {
  if (spec.dataDir !== undefined) checkPathFlag('--data-dir', spec.dataDir);
  if (spec.resume !== undefined) checkPathFlag('--resume', spec.resume);
  // Weight files are checked before anything is trained, so a typo costs seconds, not a run.
  const init = spec.initWeights === undefined ? undefined : await loadSafetensors(spec.initWeights);
  if (spec.saveWeights !== undefined) await checkWritableDir(spec.saveWeights, '--save-weights');
  const note = (line: string): void => {
    if (spec.json) process.stderr.write(line + '\n');
    else log(line);
  };
  const out = spec.out === undefined ? undefined : await prepareOutDir(spec.out, { log: note });
  const interrupts = spec.handleSignals === false ? undefined : watchSignals(note);
  let backend: Backend | undefined;
  const previousBackend = getBackend();
  try {
    // Everything that can be refused is checked before any training: a run of two models must not
    // train the first for minutes and then fail on the second's checkpoint.
    const resumes = await loadResumeCheckpoints(spec, spec.models, note);
    backend = await createBackend(spec.backend, { threads: spec.threads });
    setBackend(backend);
    const data = await loadFashionMNIST({
      batchSize: spec.batchSize,
      dataDir: spec.dataDir,
      trainLimit: spec.trainLimit,
      valLimit: spec.valLimit,
      onProgress: spec.json ? undefined : downloadReporter(log),
    });
    for (const name of spec.models) {
      const ckpt = resumes.get(name);
      if (ckpt === undefined) continue;
      checkResumeFlags(name, spec, ckpt);
      manualSeed(spec.seed);
      const probe = createModel(name, spec);
      try {
        new Trainer({ maxEpochs: spec.epochs }).checkResume(ckpt, probe, data);
      } catch (e) {
        if (e instanceof ArgumentError)
          throw new ArgumentError(`--resume ${spec.resume}: ${name}: ${e.message}`);
        throw e;
      } finally {
        for (const p of probe.parameters()) p.dispose();
      }
    }
    const lines: string[] = [];
    const points: MetricPoint[] = [];
    const summaries: RunSummary[] = [];
    for (const name of spec.models) {
      // Every model starts from the same seed: same initial draws, same data order.
      manualSeed(spec.seed);
      data.shuffleGenerator.manualSeed(spec.seed + 2 ** 32);
      const model = createModel(name, spec);
      if (init !== undefined) loadInitWeights(model, init.tensors, spec.initWeights!);
      const resumeFrom = resumes.get(name);
      const checkpointing = await cliCheckpointOptions(spec, name, out?.path, resumeFrom);
      const progress = createProgress(!spec.json, spec.epochs);
      interrupts?.onInterrupt(() => progress.stop());
      const trainer = new Trainer({
        maxEpochs: spec.epochs,
        ...checkpointing,
        signal: interrupts?.signal,
        onStep: (info) => progress.step(name, info),
        onEpochEnd: (m) => {
          progress.stop();
          if (spec.json) log(JSON.stringify(epochEvent(name, m)));
          else {
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
        if (spec.saveWeights !== undefined) {
          await saveSafetensors(spec.saveWeights, model, { format: 'pt', model: name });
          if (!spec.json) log(`wrote ${spec.saveWeights}`);
        }
      } finally {
        progress.stop();
        for (const p of model.parameters()) p.dispose();
      }
      for (const p of result.board.points)
        points.push({ model: name, metric: p.metric, epoch: p.epoch, value: p.value });
      // metrics.jsonl holds every epoch of the run, also those a resumed run restored from its
      // checkpoint: a resumed run's outputs equal an uninterrupted one's.
      for (const m of result.epochs) lines.push(JSON.stringify(epochEvent(name, m)));
      const last = result.epochs[result.epochs.length - 1]!;
      // s/epoch: only the epochs this process trained (a resume restores the others' times).
      const trained = result.epochs.slice(resumeFrom?.epoch ?? 0);
      const summary: RunSummary = {
        model: name,
        epochs: result.epochs.length,
        trainLoss: last.trainLoss,
        valLoss: last.valLoss,
        valAcc: last.valAcc,
        gap: last.valLoss - last.trainLoss,
        secondsPerEpoch:
          trained.length === 0
            ? Number.NaN
            : trained.reduce((s, e) => s + e.epochSeconds, 0) / trained.length,
      };
      summaries.push(summary);
      const line = JSON.stringify(summaryEvent(summary));
      lines.push(line);
      if (spec.json) log(line);
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
        // The seed that ran: a resumed run's is the checkpoint's (a different --seed is refused).
        seed: spec.seed,
        train_limit: spec.trainLimit ?? null,
        val_limit: spec.valLimit ?? null,
        backend: backend.name,
        threads: spec.backend === 'wasm' ? spec.threads : 1,
        data_source: data.source,
      };
      const title =
        spec.models.length > 1
          ? `${spec.models.join(' vs ')} on Fashion-MNIST`
          : `${spec.models[0]} on Fashion-MNIST`;
      const plots = await renderPlotFiles(out.path, 'curves', points, { title });
      // All of a run's outputs or none: every file is staged first, then all are renamed.
      await writeFilesAtomic([
        { path: join(out.path, 'config.json'), data: JSON.stringify(config, null, 2) + '\n' },
        { path: join(out.path, 'metrics.jsonl'), data: lines.join('\n') + '\n' },
        ...plots,
      ]);
      if (!spec.json)
        log(`wrote ${join(out.path, 'config.json')}, metrics.jsonl, ${plots[0].path}, ${plots[1].path}`);
    }
    out?.release();
    return summaries;
  } catch (e) {
    await out?.cleanup();
    if (e instanceof InterruptedError) throw interruptedMessage(e, spec, out?.path);
    throw e;
  } finally {
    interrupts?.dispose();
    setBackend(previousBackend);
    if (backend !== undefined) disposeBackend(backend);
  }
}

/** The one line an interrupted run ends with: what was kept and the command that resumes it. */
function interruptedMessage(e: InterruptedError, spec: RunSpec, out: string | undefined): InterruptedError {
  const dir = out ?? spec.resume;
  const how = e.checkpointSaved
    ? `a checkpoint was saved; resume with: dropout-lab ${resumeCommand(spec, dir!)}`
    : 'nothing was saved (add --out DIR --checkpoint-every N to make a run resumable)';
  return new InterruptedError(`${e.message} by ${e.signal}; ${how}`, e.signal, e.checkpointSaved);
}

/** The command line that continues `spec` from the checkpoints in `dir`. */
function resumeCommand(spec: RunSpec, dir: string): string {
  const argv = process.argv.slice(2).filter((a, i, all) => a !== '--resume' && all[i - 1] !== '--resume');
  const args = argv.length > 0 ? argv : [spec.command];
  return [...args, '--resume', dir].map(shellQuote).join(' ');
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
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
