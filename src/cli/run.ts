/**
 * `train` and `compare`: one RunConfig, one or more models of the registry, each trained through the
 * shared runOne (src/run/) with the same seed; progress, JSON lines and a summary per model; the
 * run's outputs (config.json, metrics.jsonl, the book's plot) written into --out by src/node/.
 */
import { loadFashionMNIST } from '../node.js';
import { getBackend, setBackend } from '../tensor/engine.js';
import type { Backend } from '../backend/backend.js';
import { createBackend, disposeBackend, type BackendName } from '../backend/select.js';
import { ArgumentError, InterruptedError } from '../errors.js';
import type { RunConfig } from '../run/config.js';
import { epochEvent, summaryEvent } from '../run/events.js';
import { checkResumable, runOne, type RunResult, type RunSummary } from '../run/runOne.js';
import { writeRunOutputs } from '../node/runOutputs.js';
import { cliCheckpointOptions, loadResumeCheckpoints } from './resume.js';
import { formatTable } from './format.js';
import { checkPathFlag, prepareOutDir } from '../node/outDir.js';
import { createProgress } from './progress.js';
import { downloadReporter } from './downloadProgress.js';
import { checkWritableDir, loadInitWeights } from './initWeights.js';
import { loadSafetensorsFile, saveSafetensorsFile } from '../node/safetensorsFile.js';
import { interruptScope } from './signals.js';

export type { RunSummary } from '../run/runOne.js';

/** Everything one `train`/`compare` invocation needs: the run's description and the command's files. */
export interface RunSpec {
  readonly command: 'train' | 'compare';
  /** One run per model, resolved and checked before anything (src/run/resolve.ts); trained as given. */
  readonly configs: readonly RunConfig[];
  readonly dataDir?: string | undefined;
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

/** Runs the spec end to end; resolves with one summary per model. */
export async function runModels(spec: RunSpec, log: (line: string) => void): Promise<RunSummary[]> {
  // The configs were resolved (complete, checked, canonical) before this call: a setting one model
  // refuses is one line before any file, download or training.
  const configs = spec.configs;
  const models = configs.map((c) => c.model);
  if (spec.dataDir !== undefined) checkPathFlag('--data-dir', spec.dataDir);
  if (spec.resume !== undefined) checkPathFlag('--resume', spec.resume);
  // Weight files are checked before anything is trained, so a typo costs seconds, not a run.
  const init = spec.initWeights === undefined ? undefined : await loadSafetensorsFile(spec.initWeights);
  if (spec.saveWeights !== undefined) await checkWritableDir(spec.saveWeights, '--save-weights');
  const note = (line: string): void => {
    if (spec.json) process.stderr.write(line + '\n');
    else log(line);
  };
  const out = spec.out === undefined ? undefined : await prepareOutDir(spec.out, { log: note });
  // Until training starts, the first Ctrl-C stops the download or data load at once.
  let training = false;
  const interrupts =
    spec.handleSignals === false
      ? undefined
      : interruptScope({
          note,
          quitLine: () =>
            training ? 'the last good checkpoint is kept.' : 'nothing was trained or written.',
        });
  let backend: Backend | undefined;
  const previousBackend = getBackend();
  try {
    // Everything that can be refused is checked before any training: a run of two models must not
    // train the first for minutes and then fail on the second's checkpoint.
    const resumes = await loadResumeCheckpoints(spec, models, note);
    backend = await createBackend(spec.backend, { threads: spec.threads });
    setBackend(backend);
    // The data settings are the command's, the same for every model.
    const first = configs[0]!;
    const data = await loadFashionMNIST({
      batchSize: first.batchSize,
      dataDir: spec.dataDir,
      trainLimit: first.trainLimit || undefined,
      valLimit: first.valLimit || undefined,
      onProgress: spec.json ? undefined : downloadReporter(log),
      signal: interrupts?.signal,
    });
    for (const c of configs) {
      const ckpt = resumes.get(c.model);
      if (ckpt === undefined) continue;
      const seed = ckpt.generators.model.seed;
      if (seed !== c.seed) {
        throw new ArgumentError(
          `--seed ${c.seed} disagrees with the checkpoint of ${c.model}, which was trained with seed ${seed}; pass --seed ${seed} (or drop --resume to start a new run).`,
        );
      }
      try {
        checkResumable(c, ckpt, data);
      } catch (e) {
        if (e instanceof ArgumentError)
          throw new ArgumentError(`--resume ${spec.resume}: ${c.model}: ${e.message}`);
        throw e;
      }
    }
    const results: RunResult[] = [];
    training = true;
    interrupts?.setMode('after-step');
    for (const c of configs) {
      const name = c.model;
      const progress = createProgress(!spec.json, c.epochs);
      interrupts?.onInterrupt(() => progress.stop());
      try {
        const result = await runOne(c, data, {
          ...(await cliCheckpointOptions(spec, name, out?.path, resumes.get(name))),
          signal: interrupts?.signal,
          onNote: note,
          onModel: init && ((model) => loadInitWeights(model, init.tensors, spec.initWeights!)),
          onStep: (info) => progress.step(name, info),
          onEpochEnd: (m) => {
            progress.stop();
            if (spec.json) log(JSON.stringify(epochEvent(name, m)));
            else {
              log(
                `${name}  epoch ${m.epoch}/${c.epochs}  train_loss ${m.trainLoss.toFixed(4)}  ` +
                  `val_loss ${m.valLoss.toFixed(4)}  val_acc ${m.valAcc.toFixed(4)}  ${m.epochSeconds.toFixed(2)} s`,
              );
            }
          },
          afterFit: async (model) => {
            if (spec.saveWeights === undefined) return;
            await saveSafetensorsFile(spec.saveWeights, model, { format: 'pt', model: name });
            if (!spec.json) log(`wrote ${spec.saveWeights}`);
          },
        });
        results.push(result);
        if (spec.json) log(JSON.stringify(summaryEvent(result.summary)));
      } finally {
        progress.stop();
      }
    }
    const summaries = results.map((r) => r.summary);
    if (!spec.json) log('\n' + summaryTable(summaries));
    if (out !== undefined) {
      const written = await writeRunOutputs(out.path, {
        command: spec.command,
        // The seed that ran: a resumed run's is the checkpoint's (a different --seed is refused).
        config: first,
        results,
        backend: backend.name,
        threads: spec.backend === 'wasm' ? spec.threads : 1,
        dataSource: data.source,
      });
      if (!spec.json) log(`wrote ${written[0]}, metrics.jsonl, ${written[2]}, ${written[3]}`);
    }
    out?.release();
    return summaries;
  } catch (e) {
    await out?.cleanup();
    if (e instanceof InterruptedError && !training) {
      throw new InterruptedError(`${e.message}; nothing was trained or written`, e.signal);
    }
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
