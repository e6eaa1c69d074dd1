/**
 * One queue worker process: takes runs from the BullMQ queue one at a time (one single-threaded run
 * per process, as the local pool), checkpoints each epoch into the store, and resumes a run from its
 * checkpoint when the job comes back after a crash. A run's own failure (bad config or data, a
 * diverged loss) is an UnrecoverableError: it fails once, with its message, and is never retried.
 *
 * Shutdown: the first SIGINT/SIGTERM stops taking jobs and ends the current run at its next epoch
 * checkpoint, handing the job back to the queue (another worker resumes it there); a second signal
 * exits at once (the job is then "stalled" and retried elsewhere from the last checkpoint).
 */
import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Backend } from '../backend/backend.js';
import { createBackend, type BackendName, BACKEND_NAMES } from '../backend/select.js';
import { loadFashionMnistRaw } from '../node/data/fashionMnistFiles.js';
import { DropoutLabError } from '../errors.js';
import { checkExperiment, DEFAULT_EXPERIMENT, type ExperimentConfig } from '../experiments/config.js';
import { runOne } from '../experiments/runOne.js';
import { setBackend } from '../tensor/engine.js';
import { connectRedis, type QueueConnection } from './connection.js';
import { jobIdOf, type RunJobData, type RunJobProgress } from './jobs.js';
import { dirStore, redisStore, type CheckpointStore } from './store.js';

/** Options of runQueueWorker. */
export interface QueueWorkerOptions {
  readonly connection: QueueConnection;
  readonly queueName: string;
  readonly dataDir?: string | undefined;
  /** Shared checkpoint directory; default: Redis. */
  readonly storeDir?: string | undefined;
  /** Lock of a running job: a killed worker's job is taken over about this long after its death. */
  readonly lockSeconds: number;
  /** One-line messages (job started, resumed, finished). */
  readonly log: (line: string) => void;
}

/** Thrown from the checkpoint callback once a shutdown was asked for: the run stops at an epoch boundary. */
class Interrupted extends Error {}

/** A job's data, checked: a job from another version or a hand-made one must fail with a clear line. */
function checkJob(data: unknown): RunJobData {
  const d = data as Partial<RunJobData> | null;
  if (d === null || typeof d !== 'object' || d.v !== 1 || typeof d.config !== 'object' || d.config === null) {
    throw new UnrecoverableError(
      'job data is not a dropout-lab run (format v1); submit it with `dropout-lab sweep … --queue`.',
    );
  }
  if (!(BACKEND_NAMES as readonly string[]).includes(String(d.backend))) {
    throw new UnrecoverableError(
      `job asks for backend '${String(d.backend)}'; this worker has ${BACKEND_NAMES.join(', ')}.`,
    );
  }
  const config = d.config as Partial<ExperimentConfig>;
  for (const k of Object.keys(DEFAULT_EXPERIMENT) as (keyof ExperimentConfig)[]) {
    if (typeof config[k] !== typeof DEFAULT_EXPERIMENT[k]) {
      throw new UnrecoverableError(`run config: ${k} is missing or not a ${typeof DEFAULT_EXPERIMENT[k]}.`);
    }
  }
  try {
    checkExperiment(config as ExperimentConfig);
  } catch (e) {
    throw new UnrecoverableError((e as Error).message);
  }
  return d as RunJobData;
}

/** Runs the worker until SIGINT/SIGTERM; resolves once it has stopped cleanly. */
export async function runQueueWorker(opts: QueueWorkerOptions): Promise<void> {
  let stopping = false;
  let stoppingAt = 0;
  const me = `${hostname()}:${process.pid}`;
  // Signals are ours from the start: one during startup means "do not start".
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      // A terminal's Ctrl-C reaches a `--concurrency N` parent and its children alike, and the parent
      // forwards it too: a repeat within a second is the same request.
      if (stopping && Date.now() - stoppingAt < 1000) return;
      if (stopping) {
        opts.log(
          `${me}: ${signal} again: exiting now; the current run resumes elsewhere from its checkpoint`,
        );
        process.exit(130);
      }
      stopping = true;
      stoppingAt = Date.now();
      opts.log(`${me}: ${signal}: finishing the current epoch, then stopping (again to exit now)`);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // Forked by a `worker --concurrency N` parent that is gone: stop the same way.
    process.on('disconnect', () => onSignal('SIGTERM'));
  });
  const redis: Redis = await connectRedis(opts.connection);
  // Load the data before taking a job: a machine without it must fail here, not fail every job.
  const raw = await loadFashionMnistRaw(opts.dataDir ? { dataDir: opts.dataDir } : {}).catch(async (e) => {
    redis.disconnect();
    throw e;
  });
  const store: CheckpointStore = opts.storeDir
    ? dirStore(opts.storeDir)
    : redisStore(redis, `bull:${opts.queueName}`);
  const backends = new Map<string, Backend>();

  const processor = async (job: Job<RunJobData>, token?: string): Promise<Record<string, unknown>[]> => {
    const { config, backend: backendName } = checkJob(job.data);
    const id = job.id ?? jobIdOf(config, backendName);
    if (id !== jobIdOf(config, backendName)) {
      throw new UnrecoverableError(
        `job id ${id} does not match its config (expected ${jobIdOf(config, backendName)}).`,
      );
    }
    let backend = backends.get(backendName);
    if (backend === undefined) {
      backend = await createBackend(backendName as BackendName, { threads: 1 });
      backends.set(backendName, backend);
    }
    setBackend(backend);
    const resume = await store.load(id);
    const from = resume?.checkpoint.epoch ?? 0;
    opts.log(
      `${me}: ${from > 0 ? `resuming ${id} from epoch ${from}` : `starting ${id}`} of ${config.epochs}`,
    );
    try {
      const events = await runOne(config, raw, {
        onEpoch: (epoch) => {
          job.updateProgress({ epoch, epochs: config.epochs } satisfies RunJobProgress).catch(() => {});
        },
        checkpoint: async (events, ckpt) => {
          await store.save(id, { events, checkpoint: ckpt });
          if (stopping && ckpt.epoch < config.epochs) throw new Interrupted();
        },
        ...(resume ? { resumeFrom: resume } : {}),
      });
      await store.remove(id);
      opts.log(`${me}: finished ${id}`);
      return events;
    } catch (e) {
      if (e instanceof Interrupted) {
        // Back to the wait list, not failed: another worker resumes from the checkpoint just saved.
        await job.moveToWait(token);
        opts.log(`${me}: stopped ${id} after its epoch checkpoint; it goes back to the queue`);
        throw new WaitingError();
      }
      // The run's own fault (config, data, divergence): retrying would fail the same way.
      if (e instanceof DropoutLabError) throw new UnrecoverableError(e.message);
      throw e;
    }
  };

  const worker = new Worker<RunJobData, Record<string, unknown>[]>(opts.queueName, processor, {
    connection: redis,
    concurrency: 1,
    lockDuration: opts.lockSeconds * 1000,
    stalledInterval: opts.lockSeconds * 1000,
    // A run is checkpointed each epoch, so a crash loses at most an epoch; allow several.
    maxStalledCount: 10,
    autorun: false,
  });
  worker.on('error', (e) => opts.log(`${me}: queue error: ${e.message}`));
  worker.on('failed', (job, e) => {
    if (job && !(e instanceof WaitingError)) opts.log(`${me}: ${job.id} failed: ${e.message}`);
  });

  opts.log(`${me}: waiting for runs on queue '${opts.queueName}' (checkpoints in ${store.where})`);
  if (stopping) {
    await redis.quit().catch(() => redis.disconnect());
    return;
  }
  const running = worker.run();
  await stopped;
  // close() waits for the current job, which ends at its next epoch checkpoint.
  await worker.close();
  await running.catch(() => {});
  await redis.quit().catch(() => redis.disconnect());
  opts.log(`${me}: stopped`);
}
