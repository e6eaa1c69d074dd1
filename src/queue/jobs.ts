/**
 * What a queued run is in BullMQ: the queue's name, the job's data and its stable id. The id is a
 * hash of the run's canonical config (seed included) and backend, so submitting a sweep again, or
 * from a restarted coordinator, finds the jobs already there and adds nothing.
 */
import type { JobsOptions } from 'bullmq';
import { canonicalRun, runId, type ExperimentConfig } from '../experiments/config.js';

/** Default BullMQ queue name (`--queue-name`). */
export const DEFAULT_QUEUE_NAME = 'dropout-lab';

/** The data of one job: a run and the backend it must run on. */
export interface RunJobData {
  /** Job data format, so a worker of another version refuses rather than misreads a job. */
  readonly v: 1;
  readonly config: ExperimentConfig;
  readonly backend: string;
}

/** A job's progress report: the last finished epoch of the run. */
export interface RunJobProgress {
  readonly epoch: number;
  readonly epochs: number;
}

/**
 * The job id of a run: the backend and runId (16 hex digits of SHA-256 over the canonical config).
 * BullMQ refuses ids with ':' and all-digit ids; this has neither.
 */
export function jobIdOf(config: ExperimentConfig, backend: string): string {
  return `${backend}-${runId(config)}`;
}

/** The job data of a run. */
export function jobData(config: ExperimentConfig, backend: string): RunJobData {
  return { v: 1, config: canonicalRun(config), backend };
}

/**
 * Job options: a crash (SIGKILL, lost machine) is BullMQ's "stalled" job, moved back to wait and
 * resumed by another worker from its checkpoint; an error thrown by the run is retried only when it
 * is not the run's own fault (workers throw UnrecoverableError for bad configs and data). Finished
 * jobs stay a week, so a restarted coordinator or a repeated submission finds their results.
 */
export const JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'fixed', delay: 5000 },
  removeOnComplete: { age: 7 * 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
};
