/**
 * Queued sweeps on a real Redis (Debian's redis-server, started here on 127.0.0.1 with a random port,
 * a password and a temp directory): a sweep over three worker processes matches the local sweep bit
 * for bit, a duplicate submission adds nothing, a restarted coordinator re-attaches, a SIGKILLed
 * worker's run resumes from its checkpoint on another worker with identical results, and a bad job
 * fails once with its message. With CI=true a missing redis-server is a failure, otherwise a skip.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createBackend } from '../../src/backend/select.js';
import { loadFashionMnistRaw, SYSTEM_DATA_DIR } from '../../src/node/data/fashionMnistFiles.js';
import { DEFAULT_EXPERIMENT, type ExperimentConfig } from '../../src/experiments/config.js';
import { runOne } from '../../src/experiments/runOne.js';
import { JOB_OPTIONS, jobData, jobIdOf } from '../../src/queue/jobs.js';
import { dirStore } from '../../src/queue/store.js';
import { setBackend } from '../../src/tensor/engine.js';
import { runCli as runBuiltCli, startCli as startBuiltCli } from '../helpers/cli.js';

const REDIS = '/usr/bin/redis-server';
const CI = process.env['CI'] === 'true';
const hasRedis = existsSync(REDIS) || spawnSync('redis-server', ['--version']).status === 0;
const hasData = existsSync(join(SYSTEM_DATA_DIR, 'train-images-idx3-ubyte.gz'));
// CI must have both (.ci/run installs them); elsewhere a missing one is a skip that says why.
const skip = CI
  ? false
  : !hasRedis
    ? 'redis-server is not installed (apt-get install redis-server)'
    : !hasData
      ? `${SYSTEM_DATA_DIR} is absent (apt-get install dataset-fashion-mnist)`
      : false;
const PASSWORD = 'queue-test-password';
/** Tiny runs, so the whole file stays quick on two busy cores. */
const TINY = ['--train-limit', '512', '--val-limit', '256', '--epochs', '2'];

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number>;
}

/** A CLI of this file in the background: stdout and stderr as one text, and its exit code. */
function startCli(args: string[]): Proc {
  const p = startBuiltCli(args);
  return { child: p.child, out: () => p.stdout() + p.stderr(), exited: p.exited.then((r) => r.code) };
}

/** A CLI run to the end (killed in finally by the helper): its exit code and output. */
async function runCli(args: string[]): Promise<{ code: number; out: string }> {
  const r = await runBuiltCli(args);
  return { code: r.code, out: r.stdout + r.stderr };
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Stops a process we started: SIGTERM, then SIGKILL if it is still there after `ms`. */
async function stop(p: Proc, ms = 30_000): Promise<number> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.exited;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), ms);
  const code = await p.exited;
  clearTimeout(t);
  return code;
}

/** Every line of a results.jsonl with the timing fields removed. */
function withoutTimings(text: string): string {
  return text.replace(/"(epoch_)?seconds":[0-9.e+-]+,?/g, '');
}

describe('queued sweeps on Redis (BullMQ)', { skip, concurrency: false }, () => {
  let dir = '';
  let redis: ChildProcess | undefined;
  let url = '';
  let passwordFile = '';
  const procs: Proc[] = [];
  const queueArgs = (): string[] => ['--queue', url, '--queue-password-file', passwordFile];
  const client = (): Redis =>
    new Redis({ host: '127.0.0.1', port: Number(new URL(url).port), password: PASSWORD });

  before(async () => {
    if (!hasRedis) throw new Error('CI=true but redis-server is missing: .ci/run must install redis-server');
    dir = await mkdtemp(join(tmpdir(), 'dropout-lab-queue-'));
    passwordFile = join(dir, 'password');
    await writeFile(passwordFile, PASSWORD + '\n');
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    redis = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--requirepass',
        PASSWORD,
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      'redis-server',
      async () => {
        const r = new Redis({
          port,
          host: '127.0.0.1',
          password: PASSWORD,
          lazyConnect: true,
          retryStrategy: () => null,
        });
        r.on('error', () => {});
        try {
          await r.connect();
          return (await r.ping()) === 'PONG';
        } catch {
          return false;
        } finally {
          r.disconnect();
        }
      },
      20_000,
    );
  });

  after(async () => {
    for (const p of procs) await stop(p, 5000);
    if (redis && redis.exitCode === null) {
      const gone = new Promise((r) => redis!.once('exit', r));
      redis.kill('SIGTERM');
      await gone;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('2 configs × 3 seeds over 3 worker processes: results, plots and summary match the local sweep; a resubmission adds nothing', async () => {
    const sweep = ['sweep', '--dropout1', '0.2,0.5', '--seeds', '3', ...TINY];
    const local = join(dir, 'local');
    const queued = join(dir, 'queued');
    const localRun = runCli([...sweep, '--out', local, '--workers', '2']);
    const workers = startCli(['worker', ...queueArgs(), '--concurrency', '3']);
    procs.push(workers);
    const q = await runCli([...sweep, '--out', queued, ...queueArgs()]);
    assert.equal(q.code, 0, q.out);
    assert.match(q.out, /6 submitted to queue 'dropout-lab', 0 already there/);
    assert.doesNotMatch(q.out, new RegExp(PASSWORD));
    const l = await localRun;
    assert.equal(l.code, 0, l.out);
    const files = (await readdir(local)).filter((f) => !f.startsWith('runs')).sort();
    assert.deepEqual((await readdir(queued)).filter((f) => !f.startsWith('runs')).sort(), files);
    for (const f of files) {
      const [a, b] = [await readFile(join(local, f)), await readFile(join(queued, f))];
      if (f === 'results.jsonl') assert.equal(withoutTimings(b.toString()), withoutTimings(a.toString()));
      else if (f === 'summary.md') {
        // Only the command line differs: it names --queue.
        const body = (t: Buffer): string => t.toString().replace(/^Command: .*$/m, '');
        assert.equal(body(b), body(a));
      } else assert.ok(a.equals(b), `${f} differs`);
    }
    assert.equal((workers.out().match(/finished wasm-/g) ?? []).length, 6, workers.out());
    const pids = new Set([...workers.out().matchAll(/:(\d+): finished/g)].map((m) => m[1]));
    assert.ok(pids.size >= 1 && pids.size <= 3, workers.out());

    // The same sweep again, into a fresh --out: every job is already done in Redis; nothing is added.
    const again = await runCli([...sweep, '--out', join(dir, 'again'), ...queueArgs()]);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /0 submitted to queue 'dropout-lab', 6 already there/);
    const r = client();
    try {
      const queue = new Queue('dropout-lab', { connection: r });
      assert.equal((await queue.getJobCounts('completed')).completed, 6);
      await queue.close();
    } finally {
      r.disconnect();
    }
    assert.equal(
      withoutTimings(await readFile(join(dir, 'again', 'results.jsonl'), 'utf8')),
      withoutTimings(await readFile(join(queued, 'results.jsonl'), 'utf8')),
    );
    assert.equal(await stop(workers), 0, workers.out());
    // Every run is finished by now: idle workers stop at once instead of promising an epoch.
    assert.match(workers.out(), /SIGTERM: no run in progress; stopping/);
    assert.doesNotMatch(workers.out(), /finishing the current epoch/);
  });

  it('a coordinator killed after submitting re-attaches when restarted', async () => {
    const sweep = ['sweep', '--dropout1', '0.3', '--seeds', '2', ...TINY, '--out', join(dir, 'reattach')];
    const first = startCli([...sweep, ...queueArgs()]);
    procs.push(first);
    await waitFor('the first coordinator to submit', () => /2 submitted/.test(first.out()));
    first.child.kill('SIGKILL');
    await first.exited;
    const second = startCli([...sweep, ...queueArgs()]);
    procs.push(second);
    const worker = startCli(['worker', ...queueArgs(), '--concurrency', '1']);
    procs.push(worker);
    assert.equal(await second.exited, 0, second.out());
    assert.match(second.out(), /0 submitted to queue 'dropout-lab', 2 already there/);
    assert.equal(
      (await readdir(join(dir, 'reattach', 'runs'))).filter((f) => f.endsWith('.jsonl')).length,
      2,
    );
    assert.equal(await stop(worker), 0, worker.out());
  });

  it('a worker SIGKILLed mid-run: another worker resumes from its checkpoint, with identical results', async () => {
    const config: ExperimentConfig = {
      ...DEFAULT_EXPERIMENT,
      epochs: 16,
      trainLimit: 1024,
      valLimit: 256,
      seed: 7,
    };
    const id = jobIdOf(config, 'wasm');
    // A short lock, so the dead worker's job is taken over in seconds.
    const a = startCli(['worker', ...queueArgs(), '--concurrency', '1', '--lock-seconds', '4']);
    procs.push(a);
    const coordinator = startCli([
      'sweep',
      '--seeds',
      '1',
      '--seed',
      '7',
      '--epochs',
      '16',
      '--train-limit',
      '1024',
      '--val-limit',
      '256',
      '--out',
      join(dir, 'killed'),
      ...queueArgs(),
    ]);
    procs.push(coordinator);
    const r = client();
    const queue = new Queue('dropout-lab', { connection: r });
    try {
      await waitFor('two epochs on the first worker', async () => {
        const job = await Job.fromId(queue, id);
        return typeof job?.progress === 'object' && (job.progress as { epoch: number }).epoch >= 2;
      });
      a.child.kill('SIGKILL');
      await a.exited;
      assert.doesNotMatch(a.out(), /finished/, 'the run finished before the kill; make it longer');
      const b = startCli(['worker', ...queueArgs(), '--concurrency', '1', '--lock-seconds', '4']);
      procs.push(b);
      assert.equal(await coordinator.exited, 0, coordinator.out());
      const resumed = /resuming (\S+) from epoch (\d+) of 16/.exec(b.out());
      assert.ok(resumed, b.out());
      assert.equal(resumed[1], id);
      // Progress is reported as an epoch ends and its checkpoint is saved just after: at least epoch 1.
      assert.ok(Number(resumed[2]) >= 1 && Number(resumed[2]) < 16, b.out());
      assert.equal(await stop(b), 0, b.out());
    } finally {
      for (const p of procs) if (p !== a) await stop(p, 5000);
      await queue.close();
      r.disconnect();
    }
    // The uninterrupted run, here in this process, as the local pool's worker runs it.
    setBackend(await createBackend('wasm', { threads: 1 }));
    const events = await runOne(config, await loadFashionMnistRaw());
    const runs = join(dir, 'killed', 'runs');
    const file = (await readdir(runs)).find((f) => f.endsWith('.jsonl'))!;
    assert.equal(
      withoutTimings(await readFile(join(runs, file), 'utf8')),
      withoutTimings(events.map((e) => JSON.stringify(e)).join('\n') + '\n'),
    );
  });

  it('a bad job fails once, with its message, and is not retried', async () => {
    const worker = startCli(['worker', ...queueArgs(), '--concurrency', '1']);
    procs.push(worker);
    await waitFor('the worker to start', () => /waiting for runs/.test(worker.out()));
    const bad: ExperimentConfig = { ...DEFAULT_EXPERIMENT, dropout1: 2, epochs: 1 };
    const r = client();
    const queue = new Queue('dropout-lab', { connection: r });
    try {
      const jobId = jobIdOf(bad, 'wasm');
      await queue.add('run', jobData(bad, 'wasm'), { ...JOB_OPTIONS, jobId });
      await waitFor('the bad job to fail', async () => (await queue.getJobState(jobId)) === 'failed');
      const job = (await Job.fromId(queue, jobId))!;
      assert.match(job.failedReason, /dropout1 must be in \[0, 1\], got 2/);
      assert.equal(job.attemptsMade, 1);
      assert.ok(
        (JOB_OPTIONS.attempts ?? 1) > 1,
        'other errors are retried, so attemptsMade 1 shows no retry',
      );
    } finally {
      await queue.close();
      r.disconnect();
    }
    assert.equal(await stop(worker), 0, worker.out());
    assert.equal((worker.out().match(/failed: run config: dropout1/g) ?? []).length, 1, worker.out());
  });

  it('bad --queue flags and a wrong password are one line each', async () => {
    const bad = await runCli(['worker', '--queue', 'http://127.0.0.1:1']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.out.trim(), /^dropout-lab: --queue must be a redis:\/\/ or rediss:\/\/ URL/);
    const wrong = await runCli([
      'sweep',
      '--seeds',
      '1',
      ...TINY,
      '--out',
      join(dir, 'wrong'),
      '--queue',
      url.replace('//', '//:nope@'),
    ]);
    assert.notEqual(wrong.code, 0);
    assert.equal(wrong.out.trim().split('\n').length, 1, wrong.out);
    assert.match(wrong.out, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(.*(WRONGPASS|invalid)/i);
    assert.doesNotMatch(wrong.out, /nope/);
  });
});

it(
  'a run stopped after an epoch resumes from a --store DIR checkpoint and ends like an uninterrupted one',
  { skip: CI || hasData ? false : `${SYSTEM_DATA_DIR} is absent (apt-get install dataset-fashion-mnist)` },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dropout-lab-store-'));
    try {
      setBackend(await createBackend('wasm', { threads: 1 }));
      const raw = await loadFashionMnistRaw();
      const config: ExperimentConfig = {
        ...DEFAULT_EXPERIMENT,
        epochs: 3,
        trainLimit: 512,
        valLimit: 256,
        seed: 3,
      };
      const whole = await runOne(config, raw);
      const store = dirStore(dir);
      class Stop extends Error {}
      await assert.rejects(
        runOne(config, raw, {
          checkpoint: async (events, checkpoint) => {
            await store.save('job', { events, checkpoint });
            if (checkpoint.epoch === 1) throw new Stop();
          },
        }),
        Stop,
      );
      const state = await store.load('job');
      assert.equal(state?.checkpoint.epoch, 1);
      const resumed = await runOne(config, raw, { resumeFrom: state! });
      const text = (events: Record<string, unknown>[]): string =>
        withoutTimings(events.map((e) => JSON.stringify(e)).join('\n'));
      assert.equal(text(resumed), text(whole));
      // A damaged file is one clear DataError, not a crash.
      await writeFile(join(dir, 'job.dlqrun'), 'DLQRUN01garbage');
      await assert.rejects(store.load('job'), /queue checkpoint .*job\.dlqrun is damaged/);
      assert.equal(await store.load('absent'), null);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
