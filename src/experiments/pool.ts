/**
 * Runs many experiment configs over a pool of child processes (one single-threaded run each; by default
 * one worker per available core), with a progress bar on a TTY. Resumable: each finished run lives in
 * `<runsDir>/<id>.jsonl`, written atomically by the worker; runs whose file exists are skipped.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { mkdirs } from '../node/mkdirs.js';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runsProgressBar } from './runsProgress.js';
import { DropoutLabError, InterruptedError } from '../errors.js';
import { removeStaleTempsIn } from '../node/atomicWrite.js';
import { canonicalRun, checkExperiment, runId, type ExperimentConfig } from './config.js';

/** Parent → worker messages. */
export type ToWorker = { type: 'run'; id: string; config: ExperimentConfig; file: string } | { type: 'exit' };
/** Worker → parent messages. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'epoch'; id: string; epoch: number }
  | { type: 'done'; id: string }
  | { type: 'error'; id: string; message: string };

/** A finished run: its canonical config and its events. */
export interface RunRecord {
  readonly id: string;
  readonly config: ExperimentConfig;
  readonly events: Record<string, unknown>[];
}

/** Options of runPool. */
export interface PoolOptions {
  /** Where per-run JSONL files live (shared between experiments to reuse runs). */
  readonly runsDir: string;
  /** Child processes (default: the available cores, one single-threaded run each). */
  readonly workers?: number;
  readonly dataDir?: string | undefined;
  readonly backend?: string;
  /** Show a progress bar (only on a TTY). */
  readonly progress?: boolean;
  /** One-line messages (skips, starts). */
  readonly log?: (line: string) => void;
  /**
   * Stops the pool when aborted (Ctrl-C): the workers are stopped, runs in progress are dropped (a
   * rerun trains them), finished ones are kept, and runPool rejects with an InterruptedError.
   */
  readonly signal?: AbortSignal | undefined;
}

/** How long stopped workers get to exit before they are killed outright. */
const WORKER_EXIT_MS = 500;

async function readRun(file: string): Promise<Record<string, unknown>[] | null> {
  if (!existsSync(file)) return null;
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  // Written atomically, so a file is complete; still, only a run that reached 'done' counts.
  return events.some((e) => e['event'] === 'done') ? events : null;
}

/** The worker script next to this module (.ts under tsx, .js when built). */
function workerPath(): string {
  const here = fileURLToPath(import.meta.url);
  return join(dirname(here), `worker${extname(here)}`);
}

/** Runs every config not yet finished in `runsDir` and resolves with all records, in input order. */
export async function runPool(configs: readonly ExperimentConfig[], opts: PoolOptions): Promise<RunRecord[]> {
  await mkdirs(opts.runsDir);
  // Temp files of workers killed between writing a run and renaming it: the run is trained again.
  const stale = await removeStaleTempsIn(opts.runsDir);
  if (stale.length > 0) {
    opts.log?.(`removed ${stale.length} temp file(s) an interrupted run left in ${opts.runsDir}`);
  }
  const unique = new Map<string, ExperimentConfig>();
  for (const c of configs) {
    checkExperiment(c);
    unique.set(runId(c), canonicalRun(c));
  }
  const pending: [string, ExperimentConfig][] = [];
  for (const [id, c] of unique) {
    if ((await readRun(join(opts.runsDir, `${id}.jsonl`))) === null) pending.push([id, c]);
  }
  const skipped = unique.size - pending.length;
  opts.log?.(
    `${unique.size} runs: ${skipped} already finished in ${opts.runsDir}, ${pending.length} to run` +
      (pending.length > 0
        ? ` on ${Math.min(opts.workers ?? availableParallelism(), pending.length)} worker processes`
        : ''),
  );
  if (pending.length > 0) await runPending(pending, opts);
  // Workers that saw the Ctrl-C themselves may all have exited before the pool heard of it.
  if (opts.signal?.aborted === true) {
    const sig = String(opts.signal.reason);
    throw new InterruptedError(`stopped by ${sig}: finished runs are kept in ${opts.runsDir}`, sig);
  }
  const records: RunRecord[] = [];
  for (const c of configs) {
    const id = runId(c);
    const events = await readRun(join(opts.runsDir, `${id}.jsonl`));
    if (events === null) throw new DropoutLabError(`run ${id} did not finish; rerun to resume.`);
    records.push({ id, config: canonicalRun(c), events });
  }
  return records;
}

async function runPending(pending: [string, ExperimentConfig][], opts: PoolOptions): Promise<void> {
  const totalEpochs = pending.reduce((s, [, c]) => s + c.epochs, 0);
  const bar = runsProgressBar(opts.progress === true);
  let finished = 0;
  let epochsDone = 0;
  bar?.start(totalEpochs, 0, { runs: `0/${pending.length}` });
  const queue = [...pending];
  const env = {
    ...process.env,
    ...(opts.dataDir ? { DROPOUT_LAB_DATA_DIR: opts.dataDir } : {}),
    DROPOUT_LAB_BACKEND: opts.backend ?? 'wasm',
  };
  const failures: string[] = [];
  const signal = opts.signal;
  let stop = (): void => undefined;
  const stopped = new Promise<never>((_, reject) => {
    stop = (): void =>
      reject(
        new InterruptedError(
          `stopped by ${String(signal?.reason)}: ${finished} of ${pending.length} runs finished and kept in ${opts.runsDir}`,
          String(signal?.reason),
        ),
      );
    if (signal?.aborted === true) stop();
    else signal?.addEventListener('abort', stop, { once: true });
  });
  // Only a race below reads it; a pool that ends first must not leave an unhandled rejection.
  stopped.catch(() => undefined);
  const workerCount = Math.max(1, Math.min(opts.workers ?? availableParallelism(), pending.length));
  const children: ChildProcess[] = [];
  try {
    const all = Promise.all(
      Array.from({ length: workerCount }, () => {
        // execArgv carries `--import tsx` when running from source.
        const child = fork(workerPath(), [], { env, execArgv: process.execArgv, stdio: 'inherit' });
        children.push(child);
        return new Promise<void>((resolve, reject) => {
          const next = (): void => {
            const job = queue.shift();
            if (job === undefined) {
              child.send({ type: 'exit' } satisfies ToWorker);
              resolve();
              return;
            }
            const [id, config] = job;
            child.send({
              type: 'run',
              id,
              config,
              file: join(opts.runsDir, `${id}.jsonl`),
            } satisfies ToWorker);
          };
          child.on('message', (m: FromWorker) => {
            if (m.type === 'ready') next();
            else if (m.type === 'epoch') bar?.update(++epochsDone, { runs: `${finished}/${pending.length}` });
            else {
              finished++;
              if (m.type === 'error') failures.push(`${m.id}: ${m.message}`);
              bar?.update(epochsDone, { runs: `${finished}/${pending.length}` });
              next();
            }
          });
          child.on('exit', (code) => {
            if (code !== 0 && code !== null)
              reject(new DropoutLabError(`a worker exited with code ${code}.`));
            else resolve();
          });
          child.on('error', reject);
        });
      }),
    );
    await Promise.race([all, stopped]);
  } finally {
    // The signal is the process's: a report runs many pools, each must take its listener back.
    signal?.removeEventListener('abort', stop);
    bar?.stop();
    await stopWorkers(children);
    // A worker stopped mid-write leaves a temp file; it is no output (its run is trained again).
    if (signal?.aborted === true) await removeStaleTempsIn(opts.runsDir);
  }
  if (failures.length > 0) {
    throw new DropoutLabError(
      `${failures.length} run(s) failed (finished runs are kept): ${failures.join('; ')}`,
    );
  }
}

/** Stops the workers still running (SIGTERM, then SIGKILL after WORKER_EXIT_MS) and waits for them. */
async function stopWorkers(children: readonly ChildProcess[]): Promise<void> {
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  const exited = running.map((c) => new Promise<void>((resolve) => c.once('exit', () => resolve())));
  for (const c of running) c.kill();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), WORKER_EXIT_MS)));
  if ((await Promise.race([Promise.all(exited), late])) === 'late') {
    for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(exited);
  }
  clearTimeout(timer);
}
