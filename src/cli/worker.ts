/**
 * `dropout-lab worker --queue redis://…`: runs queued sweep runs on this machine. `--concurrency N`
 * (default: the available cores) starts N processes, one single-threaded run each, as the local
 * pool does; each is a BullMQ worker on its own. SIGINT/SIGTERM is passed to every process, which
 * checkpoints its run at the end of the current epoch, hands the job back and stops.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { DropoutLabError } from '../errors.js';
import { connectRedis, redisOptions } from '../queue/connection.js';
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
        try {
          await runQueueWorker({
            connection,
            queueName: f.queueName ?? 'dropout-lab',
            dataDir: f.dataDir,
            storeDir: f.store,
            lockSeconds: f.lockSeconds,
            log,
          });
        } finally {
          // A child of `--concurrency N`: close the IPC channel, or it keeps this process alive, on
          // failure as much as on success (the parent learns of a failure from the exit code).
          if (process.connected) process.disconnect();
        }
        return;
      }
      // One check before forking: an unreachable or misconfigured Redis is one line, not one per child.
      const probe = await importQueueExtra(() => connectRedis(connection));
      probe.disconnect();
      await runChildren(n);
    });
}

/** How long the other workers get to stop once one has failed (they have no run if none started). */
const STOP_GRACE_MS = 10_000;

/**
 * Forks `n` single-run workers with this command's arguments and waits for all of them. A worker
 * that exits with an error (it could not start: no data, Redis gone) stops the others, so the
 * command ends with that error instead of waiting for ever on the rest.
 */
async function runChildren(n: number): Promise<void> {
  const args = process.argv.slice(2);
  // The last --concurrency wins in commander, so appending one makes each child a single worker.
  const children = Array.from({ length: n }, () =>
    fork(process.argv[1]!, [...args, '--concurrency', '1'], {
      execArgv: process.execArgv,
      stdio: ['inherit', 'inherit', 'pipe', 'ipc'],
    }),
  );
  // Workers that fail for the same reason (no data, Redis gone) print the same error line: show it once.
  const shown = new Set<string>();
  for (const c of children) {
    createInterface({ input: c.stderr! }).on('line', (line) => {
      if (line.startsWith('dropout-lab: ')) {
        if (shown.has(line)) return;
        shown.add(line);
      }
      process.stderr.write(line + '\n');
    });
  }
  const alive = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;
  const forward = (signal: NodeJS.Signals): void => {
    for (const c of children) if (alive(c)) c.kill(signal);
  };
  let failed = false;
  let grace: NodeJS.Timeout | undefined;
  const onFailure = (): void => {
    if (failed) return;
    failed = true;
    // The others are idle or finish their epoch and hand the run back; past the grace, they go.
    forward('SIGTERM');
    grace = setTimeout(() => forward('SIGKILL'), STOP_GRACE_MS);
  };
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    signalled = true;
    forward(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // 'close' rather than 'exit': the child's last lines (its error) have been read by then.
    const failures = await Promise.all(
      children.map(
        (c) =>
          new Promise<string | undefined>((resolve) =>
            c.on('close', (code, signal) => {
              // Stopped by us after another one failed, or by a second Ctrl-C: not a failure of its own.
              const stoppedByUs =
                (failed && (signal === 'SIGTERM' || signal === 'SIGKILL')) ||
                (signalled && (code === 130 || signal !== null));
              if (code !== 0) onFailure();
              resolve(code === 0 || stoppedByUs ? undefined : code === null ? String(signal) : String(code));
            }),
          ),
      ),
    );
    const bad = failures.filter((c) => c !== undefined);
    if (bad.length > 0) {
      throw new DropoutLabError(
        `${bad.length} of ${n} worker processes failed (exit ${bad.join(', ')}; the reason is above)` +
          `${bad.length < n ? ', so the others were stopped' : ''}; fix it and start the worker again.`,
      );
    }
  } finally {
    clearTimeout(grace);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
