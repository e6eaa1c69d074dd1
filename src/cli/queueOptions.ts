/**
 * The `--queue` flags shared by `sweep`, `mc`, `compare --seeds` (coordinators) and `worker`: which
 * Redis, which BullMQ queue, and the password and TLS options.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ExperimentConfig } from '../experiments/config.js';
import type { RunRecord } from '../experiments/pool.js';
import { DEFAULT_QUEUE_NAME } from '../queue/jobs.js';
import { PASSWORD_ENV, type QueueConnection } from '../queue/connection.js';
import { importQueueExtra } from './queueExtra.js';

/** The queue flags as commander parses them. */
export interface QueueFlags {
  queue?: string;
  queueName?: string;
  queuePasswordFile?: string;
  queueCa?: string;
}

/** Adds --queue, --queue-name, --queue-password-file and --queue-ca to `cmd`. */
export function addQueueOptions(cmd: Command, what: string): Command {
  return cmd
    .option(
      '--queue <url>',
      `${what} through BullMQ on Redis: redis://[user:password@]HOST:PORT[/db], or rediss:// for TLS`,
    )
    .option(
      '--queue-name <name>',
      'BullMQ queue name (coordinator and workers must agree)',
      DEFAULT_QUEUE_NAME,
    )
    .option(
      '--queue-password-file <file>',
      `read the Redis password from a file (or set ${PASSWORD_ENV}) instead of the URL`,
    )
    .option('--queue-ca <file>', "PEM file of the CA that signed the Redis server's TLS certificate");
}

/** The connection the flags describe (only meaningful when `--queue` is set). */
export function queueConnection(f: QueueFlags & { queue: string }): QueueConnection {
  return { url: f.queue, passwordFile: f.queuePasswordFile, caFile: f.queueCa };
}

/** The experiment flags runQueueWithFlags reads besides the queue's. */
interface CoordinatorFlags extends QueueFlags {
  queue?: string;
  runsDir?: string;
  backend: string;
  json: boolean;
}

/** runQueue with an experiment command's flags: the queued counterpart of its runPool call. */
export async function runQueueWithFlags(
  configs: readonly ExperimentConfig[],
  f: CoordinatorFlags,
  outDir: string,
  log: (line: string) => void,
): Promise<RunRecord[]> {
  const { runQueue } = await importQueueExtra(() => import('../queue/coordinator.js'));
  return runQueue(configs, {
    connection: queueConnection({ ...f, queue: f.queue ?? '' }),
    queueName: f.queueName ?? DEFAULT_QUEUE_NAME,
    runsDir: resolve(f.runsDir ?? join(outDir, 'runs')),
    backend: f.backend,
    progress: !f.json,
    log: f.json ? () => {} : log,
  });
}

/** This command's arguments for summary.md, with any password in a redis:// URL masked. */
export function shownArgv(): string {
  return process.argv
    .slice(2)
    .join(' ')
    .replace(/(rediss?:\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');
}
