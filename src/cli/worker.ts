/**
 * `dropout-lab worker --queue redis://…`: runs queued sweep runs on this machine. `--concurrency N`
 * (default: the available cores) starts N processes, one single-threaded run each, as the local
 * pool does; each is a BullMQ worker on its own. SIGINT/SIGTERM is passed to every process, which
 * checkpoints its run at the end of the current epoch, hands the job back and stops.
 */
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { DropoutLabError } from '../errors.js';
import { redisOptions } from '../queue/connection.js';
import { integerAtLeast } from './options.js';
import { importQueueExtra } from './queueExtra.js';
import { addQueueOptions, queueConnection, type QueueFlags } from './queueOptions.js';

interface WorkerFlags extends QueueFlags {
  concurrency?: number;
  dataDir?: string;
  store?: string;
  lockSeconds: number;
  verbose: boolean;
}

/** Registers `worker` on the program. */
export function registerWorker(program: Command): void {
  const cmd = program
    .command('worker')
    .description('run queued sweep runs (sweep/mc/compare --queue) on this machine until SIGINT/SIGTERM');
  addQueueOptions(cmd, 'take runs from Redis')
    .option(
      '--concurrency <n>',
      'runs at once, one process and one thread each (default: the available cores)',
      integerAtLeast('--concurrency', 1, 'e.g. --concurrency 2'),
    )
    .option('--data-dir <dir>', 'folder with the four Fashion-MNIST IDX files')
    .option('--store <dir>', 'per-epoch checkpoints in this shared directory instead of Redis')
    .option(
      '--lock-seconds <n>',
      "a crashed worker's run is taken over after about this long",
      integerAtLeast('--lock-seconds', 1, 'e.g. --lock-seconds 30'),
      30,
    )
    .option('--verbose', 'print stack traces on errors', false)
    .action(async (f: WorkerFlags) => {
      if (f.queue === undefined) {
        throw new DropoutLabError(
          'worker needs --queue redis://HOST:PORT, the Redis the sweep was submitted to.',
        );
      }
      const connection = queueConnection({ ...f, queue: f.queue });
      redisOptions(connection); // bad flags fail here, once, not in every child
      const { runQueueWorker } = await importQueueExtra(() => import('../queue/worker.js'));
      const n = f.concurrency ?? availableParallelism();
      const log = (line: string): void => void process.stderr.write(line + '\n');
      if (n === 1) {
        await runQueueWorker({
          connection,
          queueName: f.queueName ?? 'dropout-lab',
          dataDir: f.dataDir,
          storeDir: f.store,
          lockSeconds: f.lockSeconds,
          log,
        });
        // A child of `--concurrency N`: close the IPC channel, or it keeps this process alive.
        if (process.connected) process.disconnect();
        return;
      }
      await runChildren(n);
    });
}

/** Forks `n` single-run workers with this command's arguments and waits for all of them. */
async function runChildren(n: number): Promise<void> {
  const args = process.argv.slice(2);
  // The last --concurrency wins in commander, so appending one makes each child a single worker.
  const children = Array.from({ length: n }, () =>
    fork(process.argv[1]!, [...args, '--concurrency', '1'], { execArgv: process.execArgv, stdio: 'inherit' }),
  );
  const forward = (signal: NodeJS.Signals): void => {
    for (const c of children) if (c.exitCode === null) c.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const codes = await Promise.all(
    children.map((c) => new Promise<number | null>((resolve) => c.on('exit', (code) => resolve(code)))),
  );
  const bad = codes.filter((c) => c !== 0);
  if (bad.length > 0) {
    throw new DropoutLabError(
      `${bad.length} of ${n} worker processes exited with an error (codes ${bad.join(', ')}).`,
    );
  }
}
