/**
 * The coordinator of a queued sweep: the same contract as runPool (configs in, records out, finished
 * runs kept as `<runsDir>/<id>.jsonl`), but the runs go to BullMQ jobs on Redis that `dropout-lab
 * worker` processes on any machine take. Jobs have stable ids (jobs.ts), so a coordinator that is
 * restarted with the same command re-attaches to the jobs already queued, running or done.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { runsProgressBar } from '../experiments/runsProgress.js';
import { writeFileAtomic } from '../node/atomicWrite.js';
import { mkdirs } from '../node/mkdirs.js';
import { DropoutLabError } from '../errors.js';
import { canonicalRun, checkExperiment, runId, type ExperimentConfig } from '../experiments/config.js';
import type { RunRecord } from '../experiments/pool.js';
import { connectRedis, redisOptions, type QueueConnection } from './connection.js';
import { JOB_OPTIONS, jobData, jobIdOf, type RunJobData, type RunJobProgress } from './jobs.js';
import { watchOutages } from './outage.js';

/** Options of runQueue. */
export interface QueueRunOptions {
  readonly connection: QueueConnection;
  readonly queueName: string;
  /** Where per-run JSONL files live, as with the local pool. */
  readonly runsDir: string;
  readonly backend?: string;
  /** Show a progress bar (only on a TTY). */
  readonly progress?: boolean;
  /** One-line messages (submitted, finished runs). */
  readonly log?: (line: string) => void;
  /** How often job states are re-read in case an event was missed (default 5 s). */
  readonly pollMs?: number;
}

async function readRun(file: string): Promise<Record<string, unknown>[] | null> {
  if (!existsSync(file)) return null;
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return events.some((e) => e['event'] === 'done') ? events : null;
}

/** Submits the configs not finished in `runsDir`, waits for their jobs, and returns all records in input order. */
export async function runQueue(
  configs: readonly ExperimentConfig[],
  opts: QueueRunOptions,
): Promise<RunRecord[]> {
  await mkdirs(opts.runsDir);
  const backend = opts.backend ?? 'wasm';
  const unique = new Map<string, ExperimentConfig>();
  for (const c of configs) {
    checkExperiment(c);
    unique.set(runId(c), canonicalRun(c));
  }
  const pending = new Map<string, { id: string; config: ExperimentConfig }>();
  for (const [id, c] of unique) {
    if ((await readRun(join(opts.runsDir, `${id}.jsonl`))) === null) {
      pending.set(jobIdOf(c, backend), { id, config: c });
    }
  }
  if (pending.size > 0) await waitForJobs(pending, backend, opts, unique.size);
  else opts.log?.(`${unique.size} runs: all already finished in ${opts.runsDir}`);
  const records: RunRecord[] = [];
  for (const c of configs) {
    const id = runId(c);
    const events = await readRun(join(opts.runsDir, `${id}.jsonl`));
    if (events === null) throw new DropoutLabError(`run ${id} did not finish; rerun to resume.`);
    records.push({ id, config: canonicalRun(c), events });
  }
  return records;
}

async function waitForJobs(
  pending: Map<string, { id: string; config: ExperimentConfig }>,
  backend: string,
  opts: QueueRunOptions,
  total: number,
): Promise<void> {
  const redis = await connectRedis(opts.connection);
  // Redis going away is one line (and one when it is back), not a stack per retry and connection.
  const outage = watchOutages(redisOptions(opts.connection).label, '', (line) => opts.log?.(line));
  redis.on('error', outage.error);
  redis.on('ready', outage.ready);
  const queue = new Queue<RunJobData, Record<string, unknown>[]>(opts.queueName, { connection: redis });
  queue.on('error', outage.error);
  const eventsRedis = redis.duplicate();
  eventsRedis.on('error', outage.error);
  const queueEvents = new QueueEvents(opts.queueName, { connection: eventsRedis });
  queueEvents.on('error', outage.error);
  const totalEpochs = [...pending.values()].reduce((s, p) => s + p.config.epochs, 0);
  const epochsDone = new Map<string, number>();
  const bar = runsProgressBar(opts.progress === true);
  const failures: string[] = [];
  const left = new Set(pending.keys());
  let poll: NodeJS.Timeout | undefined;
  try {
    // Subscribe before reading states, so nothing that finishes in between is missed.
    await queueEvents.waitUntilReady();
    await queue.waitUntilReady();
    // Jobs already in Redis (queued, running, done, or failed before) are re-attached, not added.
    const states = new Map<string, string>();
    for (const jobId of pending.keys()) states.set(jobId, await queue.getJobState(jobId));
    const retried: string[] = [];
    for (const [jobId, state] of states) {
      if (state !== 'failed') continue;
      // A rerun of the sweep retries a failed run once (its worker's data or code may have been fixed).
      const job = await Job.fromId(queue, jobId);
      await job?.retry('failed');
      retried.push(jobId);
    }
    const missing = [...states].filter(([, s]) => s === 'unknown').map(([jobId]) => jobId);
    const submit = (jobIds: readonly string[]): Promise<unknown> =>
      queue.addBulk(
        jobIds.map((jobId) => ({
          name: 'run',
          data: jobData(pending.get(jobId)!.config, backend),
          opts: { ...JOB_OPTIONS, jobId },
        })),
      );
    await submit(missing);
    const attached = pending.size - missing.length - retried.length;
    opts.log?.(
      `${total} runs: ${total - pending.size} already finished in ${opts.runsDir}, ` +
        `${missing.length} submitted to queue '${opts.queueName}', ${attached} already there, ` +
        `${retried.length} failed before and retried; waiting for workers (dropout-lab worker --queue …)`,
    );
    bar?.start(totalEpochs, 0, { runs: `0/${pending.size}` });
    const update = (): void => {
      const done = [...epochsDone.values()].reduce((a, b) => a + b, 0);
      bar?.update(done, { runs: `${pending.size - left.size}/${pending.size}` });
    };
    let wake: (() => void) | undefined;
    // Reads a job's state; a finished job's result is written to runsDir like a local run's. Returns
    // false when the job is gone from Redis (a restart without persistence, a flush).
    const check = async (jobId: string): Promise<boolean> => {
      if (!left.has(jobId)) return true;
      const job = await Job.fromId<RunJobData, Record<string, unknown>[]>(queue, jobId);
      if (job === undefined) return false;
      const state = await job.getState();
      if (state === 'completed' && Array.isArray(job.returnvalue)) {
        if (!left.delete(jobId)) return true;
        const { id, config } = pending.get(jobId)!;
        const file = join(opts.runsDir, `${id}.jsonl`);
        await writeFileAtomic(file, job.returnvalue.map((e) => JSON.stringify(e)).join('\n') + '\n');
        epochsDone.set(jobId, config.epochs);
        if (!bar) opts.log?.(`run ${pending.size - left.size}/${pending.size} finished: ${id}`);
      } else if (state === 'failed') {
        if (!left.delete(jobId)) return true;
        failures.push(`${pending.get(jobId)!.id}: ${job.failedReason}`);
      } else return true;
      update();
      if (left.size === 0) wake?.();
      return true;
    };
    queueEvents.on('completed', ({ jobId }) => void check(jobId).catch(() => {}));
    queueEvents.on('failed', ({ jobId }) => void check(jobId).catch(() => {}));
    queueEvents.on('progress', ({ jobId, data }) => {
      const p = data as Partial<RunJobProgress>;
      if (left.has(jobId) && typeof p.epoch === 'number') {
        epochsDone.set(jobId, p.epoch);
        update();
      }
    });
    const finished = new Promise<void>((resolve) => (wake = resolve));
    let sweeping = false;
    // Every job still to finish is read again; jobs that vanished are submitted again (same ids, so
    // a worker still running one finds its checkpoint, and a finished one its result, in the store).
    const sweep = async (): Promise<void> => {
      // While Redis is down each read waits for it: one sweep at a time, not one per tick.
      if (sweeping) return;
      sweeping = true;
      try {
        const vanished: string[] = [];
        for (const jobId of [...left]) if (!(await check(jobId))) vanished.push(jobId);
        if (vanished.length > 0) {
          await submit(vanished);
          opts.log?.(
            `${vanished.length} run(s) vanished from Redis (restarted without saving?); submitted them again`,
          );
        }
      } finally {
        sweeping = false;
      }
    };
    await sweep();
    poll = setInterval(() => void sweep().catch(() => {}), opts.pollMs ?? 5000);
    if (left.size > 0) await finished;
  } finally {
    if (poll) clearInterval(poll);
    bar?.stop();
    await queueEvents.close().catch(() => {});
    await queue.close().catch(() => {});
    await eventsRedis.quit().catch(() => eventsRedis.disconnect());
    await redis.quit().catch(() => redis.disconnect());
  }
  if (failures.length > 0) {
    throw new DropoutLabError(
      `${failures.length} run(s) failed (finished runs are kept; rerun to retry them): ${failures.join('; ')}`,
    );
  }
}
