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
import { connectRedis, redisOptions, type QueueConnection } from './connection.js';
import { jobIdOf, type RunJobData, type RunJobProgress } from './jobs.js';
import { watchOutages } from './outage.js';
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

/** Resolves when `p` settles or after `ms`, whichever is first: a bound on waits that need Redis. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Runs the worker until SIGINT/SIGTERM; resolves once it has stopped cleanly. */
export async function runQueueWorker(opts: QueueWorkerOptions): Promise<void> {
  let stopping = false;
  let stoppingAt = 0;
  /** Runs in progress (0 or 1): a stop with none ends at once instead of waiting for an epoch. */
  let active = 0;
  const me = `${hostname()}:${process.pid}`;
  let wake = (): void => {};
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  // Signals are ours from the start: one during startup means "do not start".
  const onSignal = (signal: NodeJS.Signals): void => {
    // A terminal's Ctrl-C reaches a `--concurrency N` parent and its children alike, and the parent
    // forwards it too: a repeat within a second is the same request.
    if (stopping && Date.now() - stoppingAt < 1000) return;
    if (stopping) {
      opts.log(`${me}: ${signal} again: exiting now; the current run resumes elsewhere from its checkpoint`);
      process.exit(130);
    }
    stopping = true;
    stoppingAt = Date.now();
    opts.log(
      active > 0
        ? `${me}: ${signal}: finishing the current epoch, then stopping (again to exit now)`
        : `${me}: ${signal}: no run in progress; stopping`,
    );
    wake();
  };
  // Forked by a `worker --concurrency N` parent that is gone: stop the same way.
  const onDisconnect = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('disconnect', onDisconnect);
  try {
    await work(opts, me, {
      stopping: () => stopping,
      stopped,
      running: (n) => (active += n),
      idle: () => active === 0,
    });
  } finally {
    // A worker that failed to start must not outlive its error: with these handlers left, a signal
    // would only print "finishing the current epoch" and the process would stay.
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('disconnect', onDisconnect);
  }
}

/** The signal state `work` reads. */
interface StopState {
  stopping(): boolean;
  readonly stopped: Promise<void>;
  running(delta: number): void;
  idle(): boolean;
}

async function work(opts: QueueWorkerOptions, me: string, stop: StopState): Promise<void> {
  const redis: Redis = await connectRedis(opts.connection);
  const outage = watchOutages(redisOptions(opts.connection).label, `${me}: `, opts.log);
  redis.on('error', outage.error);
  redis.on('ready', outage.ready);
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
    stop.running(1);
    try {
      return await processRun(job, token);
    } finally {
      stop.running(-1);
    }
  };
  const processRun = async (job: Job<RunJobData>, token?: string): Promise<Record<string, unknown>[]> => {
    if (stop.stopping()) {
      // Taken between the stop and the close: hand it back untouched.
      await job.moveToWait(token);
      throw new WaitingError();
    }
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
          if (stop.stopping() && ckpt.epoch < config.epochs) throw new Interrupted();
        },
        ...(resume ? { resumeFrom: resume } : {}),
      });
      // The last epoch's checkpoint stays in the store until BullMQ has recorded the result (the
      // 'completed' listener removes it): if the job vanished meanwhile (Redis restarted without
      // persistence), the coordinator resubmits it and that job finds the finished run here.
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
  // BullMQ cannot record a job whose keys vanished (Redis restarted without saving): say what
  // that means once per job, instead of its "Missing key/lock … moveToFinished" for each attempt.
  const vanished = new Set<string>();
  worker.on('error', (e) => {
    const lost = /^Missing (?:key|lock) for job (\S+)\./.exec(e.message)?.[1];
    if (lost === undefined) return outage.error(e);
    if (vanished.has(lost)) return;
    vanished.add(lost);
    opts.log(
      `${me}: job ${lost} vanished from Redis while it ran; its last checkpoint stays in the store for the job the coordinator submits again`,
    );
  });
  worker.on('failed', (job, e) => {
    if (job && !(e instanceof WaitingError)) opts.log(`${me}: ${job.id} failed: ${e.message}`);
  });
  worker.on('completed', (job) => {
    if (job.id !== undefined) store.remove(job.id).catch(() => {});
  });

  opts.log(`${me}: waiting for runs on queue '${opts.queueName}' (checkpoints in ${store.where})`);
  if (!stop.stopping()) {
    const running = worker.run();
    await stop.stopped;
    if (!stop.idle() && outage.down()) {
      opts.log(`${me}: Redis is unreachable: the run's last checkpoint waits for it (again to exit now)`);
    }
    // close() waits for the current job, which ends at its next epoch checkpoint. With no job it
    // must be quick even when Redis is unreachable and BullMQ's commands wait for a reconnect.
    // With no job, close(true) disconnects instead of quitting: QUIT would wait for Redis too.
    if (stop.idle()) await within(worker.close(true), 5000);
    else await worker.close();
    await within(running, 1000);
  } else {
    await within(worker.close(true), 5000);
  }
  if (!outage.down()) await within(redis.quit(), 2000);
  redis.disconnect();
  opts.log(`${me}: stopped`);
}
