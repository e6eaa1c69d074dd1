/**
 * Ctrl-C and SIGTERM everywhere (issue 24 part 2, issue 29 finding 3), each as a user hits it:
 * - a download stopped by the first Ctrl-C exits 130 at once and leaves no partial file (it used to
 *   print "stopping after the current step" and go on downloading);
 * - a sweep stopped by SIGTERM exits 143 with the command that resumes it, leaving neither its
 *   `.dropout-lab.lock` nor temp files (it used to die by the signal with both left behind);
 * - a lock whose PID now belongs to another process is taken over with a note (it used to refuse the
 *   run), and a rerun removes temp files a killed run left in runs/ and says it took the lock over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_DATA_DIR } from '../../src/node/data/fashionMnistFiles.js';
import { LOCK_FILE } from '../../src/node/outDir.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { requires } from '../helpers/environment.js';

/** A command that ignores the signal is a failure, not a stuck suite: it is killed this long after the signal. */
const KILL_AFTER_MS = 20_000;
/** Any command is killed after this long (a busy machine is slow, a stuck one never ends). */
const RUN_LIMIT_MS = 300_000;
const needsData = requires(
  existsSync(join(SYSTEM_DATA_DIR, 'train-images-idx3-ubyte.gz')),
  `${SYSTEM_DATA_DIR} is absent (apt-get install dataset-fashion-mnist)`,
);
const needsRedis = requires(
  spawnSync('redis-server', ['--version']).status === 0,
  'redis-server is not installed (apt-get install redis-server)',
);

interface Result extends CliResult {
  /** Seconds from the signal the test sent to the exit (NaN when it sent none). */
  readonly afterSignal: number;
}

/**
 * Runs the built CLI; once `when(stdout)` returns a signal, it is sent `delayMs` later (once).
 * Killed KILL_AFTER_MS after that signal (a command that ignores it: `signal` is then SIGKILL), and
 * in any case after RUN_LIMIT_MS (runCli's kill timer, which fails the test).
 */
async function cli(
  args: string[],
  env: Record<string, string> = {},
  when?: (stdout: string) => NodeJS.Signals | undefined,
  delayMs = 0,
): Promise<Result> {
  let sentAt = Number.NaN;
  let delay: NodeJS.Timeout | undefined;
  let hang: NodeJS.Timeout | undefined;
  try {
    const r = await runCli(args, {
      env,
      timeoutMs: RUN_LIMIT_MS,
      onStdout: (stdout, kill) => {
        if (delay !== undefined) return;
        const sig = when?.(stdout);
        if (sig === undefined) return;
        delay = setTimeout(() => {
          sentAt = performance.now();
          kill(sig);
          hang = setTimeout(() => kill('SIGKILL'), KILL_AFTER_MS);
        }, delayMs);
      },
    });
    return { ...r, afterSignal: (performance.now() - sentAt) / 1000 };
  } finally {
    clearTimeout(delay);
    clearTimeout(hang);
  }
}

/** Why a command ended by a signal: the one the test sent (not handled) or the kill after a hang. */
function died(r: Result): string {
  const how = r.signal === 'SIGKILL' ? 'still running long after the signal, killed' : `died of ${r.signal}`;
  return `${how}; stdout: ${r.stdout.slice(-500)}; stderr: ${r.stderr.slice(-500)}`;
}

/** Every file under `dir` whose name ends in .tmp or .part (partial writes). */
async function partials(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((e) => /\.(tmp|part)$/.test(e));
}

test('the first Ctrl-C during a download stops it at once: exit 130, one line, no partial file', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dropout-lab-int-dl-'));
  const cache = join(root, 'cache');
  const empty = join(root, 'empty');
  await mkdir(empty);
  // A mirror that sends the first kilobyte of every file and then nothing (a stalled link).
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': String(10_000_000) });
    res.write(Buffer.alloc(1024));
  });
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const r = await cli(
      ['train', '--epochs', '1', '--threads', '1'],
      {
        XDG_CACHE_HOME: cache,
        DROPOUT_LAB_SYSTEM_DATA: empty,
        DROPOUT_LAB_MIRRORS: url,
        DROPOUT_LAB_DEBIAN_MIRROR: url,
      },
      (stdout) => (/downloading .*…/.test(stdout) ? 'SIGINT' : undefined),
    );
    process.stdout.write(`# exit ${r.code} ${r.afterSignal.toFixed(2)} s after SIGINT\n`);
    assert.equal(r.signal, null, died(r));
    assert.equal(r.code, 130, r.stderr);
    assert.doesNotMatch(r.stdout, /after the current step/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /stopped by SIGINT while loading Fashion-MNIST; nothing was trained or written$/m);
    assert.deepEqual(await partials(cache), []);
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
    await rm(root, { recursive: true, force: true });
  }
});

// Big enough that the signal finds the pool busy on a quiet machine (2 epochs of 2,048 finished within the
// old 2 s delay there), small enough that the rerun finishes in seconds.
const SWEEP = ['sweep', '--dropout1', '0,0.1,0.2,0.3', '--seeds', '1', '--epochs', '3'];
const SWEEP_SIZE = ['--train-limit', '8192', '--val-limit', '256', '--workers', '2'];

test(
  'SIGTERM stops a sweep: exit 143 with the resume command, no lock, no temp file; the rerun finishes',
  needsData,
  async () => {
    const out = await mkdtemp(join(tmpdir(), 'dropout-lab-int-sweep-'));
    try {
      const args = [...SWEEP, ...SWEEP_SIZE, '--out', out];
      // Once the workers are started (loading data or training), stop the sweep.
      const r = await cli(
        args,
        {},
        (stdout) => (stdout.includes('worker processes') ? 'SIGTERM' : undefined),
        500,
      );
      process.stdout.write(`# exit ${r.code} ${r.afterSignal.toFixed(2)} s after SIGTERM\n`);
      assert.equal(r.signal, null, died(r));
      assert.equal(r.code, 143, r.stderr);
      assert.match(
        r.stderr,
        /stopped by SIGTERM: \d+ of 4 runs finished .*; rerun to resume: dropout-lab sweep /,
      );
      assert.doesNotMatch(r.stderr, /\n\s+at |EPIPE|ERR_IPC/);
      assert.equal(existsSync(join(out, LOCK_FILE)), false, 'the lock is removed');
      assert.deepEqual(await partials(out), []);
      const again = await cli(args);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /4 runs: \d+ already finished/);
      assert.doesNotMatch(again.stdout, /took over the stale lock/, 'there was no stale lock');
      assert.equal(existsSync(join(out, LOCK_FILE)), false);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
);

/** Long enough runs that the signal lands while the pool is busy. */
const BUSY = ['--epochs', '3', '--train-limit', '8192', '--val-limit', '256', '--workers', '1'];

for (const args of [
  ['experiment', 'deck-dropout', '--seeds', '1', ...BUSY],
  // report has no --epochs: --quick's 2 epochs on 8192 images.
  ['report', '--quick', ...BUSY.slice(2)],
  ['compare', '--seeds', '2', ...BUSY],
  ['mc', '--samples', '2', '--seeds', '1', ...BUSY],
]) {
  test(
    `Ctrl-C on ${args.slice(0, 2).join(' ')}: exit 130, the resume command, no lock or temp file left`,
    needsData,
    async () => {
      const out = await mkdtemp(join(tmpdir(), 'dropout-lab-int-cmd-'));
      try {
        const r = await cli(
          [...args, '--out', out],
          {},
          (stdout) => (stdout.includes('worker processes') ? 'SIGINT' : undefined),
          1000,
        );
        process.stdout.write(`# ${args[0]}: exit ${r.code} ${r.afterSignal.toFixed(2)} s after SIGINT\n`);
        assert.equal(r.signal, null, died(r));
        assert.equal(r.code, 130, r.stderr);
        assert.match(r.stderr, new RegExp(`rerun to resume: dropout-lab ${args[0]} .*--out ${out}\n$`));
        const left = await readdir(out, { recursive: true });
        assert.deepEqual(
          left.filter((f) => f.endsWith(LOCK_FILE)),
          [],
          'every lock is removed',
        );
        assert.deepEqual(await partials(out), []);
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    },
  );
}

test(
  'a stale lock (dead PID, or a PID now held by another process) is taken over with a note; stale temp files are removed',
  needsData,
  async () => {
    const out = await mkdtemp(join(tmpdir(), 'dropout-lab-int-lock-'));
    try {
      const tiny = [
        '--seeds',
        '1',
        '--epochs',
        '1',
        '--train-limit',
        '256',
        '--val-limit',
        '128',
        '--workers',
        '1',
      ];
      // This test's own PID is alive, but it did not start at clock tick 1: the lock's process is gone.
      await writeFile(join(out, LOCK_FILE), `${process.pid}\n${hostname()} 1\n`);
      await mkdir(join(out, 'runs'));
      const dead = spawn(process.execPath, ['-e', '0']);
      const deadPid = await new Promise<number>((resolve) => dead.on('exit', () => resolve(dead.pid!)));
      const stale = `.abc.jsonl.${deadPid}.0123456789ab.tmp`;
      await writeFile(join(out, 'runs', stale), '{"partial":');
      await writeFile(join(out, `.summary.md.${deadPid}.0123456789ab.tmp`), 'partial');
      const r = await cli(['sweep', '--dropout1', '0.5', ...tiny, '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(
          `took over the stale lock .* of process ${process.pid}, which is gone \\(PID ${process.pid} now belongs to another process\\)`,
        ),
      );
      assert.deepEqual(await partials(out), [], 'temp files of the dead process are removed');
      assert.equal(existsSync(join(out, LOCK_FILE)), false);

      // A lock of a process that is gone: the experiment command says so too.
      await writeFile(join(out, LOCK_FILE), `${deadPid}\n`);
      const e = await cli(['experiment', 'deck-dropout', ...tiny, '--out', out]);
      assert.equal(e.code, 0, e.stderr);
      assert.match(e.stdout, new RegExp(`took over the stale lock .* of process ${deadPid}, which is gone`));
      assert.match(await readFile(join(out, LOCK_FILE), 'utf8').catch(() => 'released'), /^released$/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
);

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

test(
  'Ctrl-C while a queued sweep waits for workers: exit 130 with the resume command, lock removed',
  needsRedis,
  async () => {
    const out = await mkdtemp(join(tmpdir(), 'dropout-lab-int-queue-'));
    const port = await freePort();
    const redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        let log = '';
        redis.stdout.on('data', (d: Buffer) => {
          log += d.toString();
          if (log.includes('Ready to accept connections')) resolve();
        });
        redis.once('exit', () => reject(new Error(`redis-server exited: ${log}`)));
      });
      // No worker is running, so the coordinator waits until it is stopped.
      const r = await cli(
        [
          'sweep',
          '--dropout1',
          '0.1,0.2',
          '--seeds',
          '1',
          '--epochs',
          '1',
          '--queue',
          `redis://127.0.0.1:${port}`,
          '--out',
          out,
        ],
        {},
        (stdout) => (stdout.includes('waiting for workers') ? 'SIGINT' : undefined),
      );
      process.stdout.write(`# exit ${r.code} ${r.afterSignal.toFixed(2)} s after SIGINT\n`);
      assert.equal(r.signal, null, died(r));
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /stopped by SIGINT; .*rerun to resume: dropout-lab sweep --dropout1 0.1,0.2 /);
      assert.equal(existsSync(join(out, LOCK_FILE)), false, 'the lock is removed');
    } finally {
      redis.kill('SIGKILL');
      await rm(out, { recursive: true, force: true });
    }
  },
);
