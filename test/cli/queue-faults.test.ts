/**
 * Queued sweeps under faults (issue 29), each on its own redis-server on 127.0.0.1 and a random port:
 * a worker that cannot start exits with its one line at every concurrency (no Redis, no password, an
 * empty password file, no data); an idle worker whose Redis is gone stops at the first SIGTERM; a
 * database index Redis does not have is one line before any work; and Redis restarted empty in the
 * middle of a sweep costs one line each way, the vanished runs are submitted again (a finished one
 * found in the checkpoint store) and the results equal a local sweep's. Every wait is bounded and
 * every process is killed in `finally`.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { SYSTEM_DATA_DIR } from '../../src/node/data/fashionMnistFiles.js';
import { startCli as startBuiltCli, type CliProcess } from '../helpers/cli.js';
import { requires } from '../helpers/environment.js';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
const hasData = existsSync(join(SYSTEM_DATA_DIR, 'train-images-idx3-ubyte.gz'));
const gate = requires(hasRedis && hasData, 'redis-server and the system Fashion-MNIST copy');
const PASSWORD = 'queue-faults-password';
/** Far beyond what any of these commands needs on a busy machine: reaching it means a hang. */
const HANG_MS = 120_000;

interface Proc extends CliProcess {
  /** stdout and stderr as one text, in the order they arrived. */
  out(): string;
}

/** Every CLI this file started, killed in `after` if a failed test left it running. */
const procs: Proc[] = [];

/** The built CLI in the background, with no Redis password from the test's environment. */
function startCli(args: string[]): Proc {
  const p = startBuiltCli(args, { env: { DROPOUT_LAB_REDIS_PASSWORD: '' } });
  const proc = { ...p, out: p.output };
  procs.push(proc);
  return proc;
}

/** The exit code of `p`, failing (and killing it) if it has not exited after `ms`. */
async function exitWithin(p: Proc, ms = HANG_MS): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  const r = await Promise.race([p.exited, hung]);
  clearTimeout(timer);
  if (r === 'hung') {
    p.kill('SIGKILL');
    assert.fail(`still running after ${ms / 1000} s (a hang); its output:\n${p.out()}`);
  }
  return r.code;
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = HANG_MS): Promise<void> {
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

/** A redis-server as the README starts it (no persistence), on a random port, with a password. */
class RedisServer {
  process: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  client(db = 0): Redis {
    return new Redis({ host: '127.0.0.1', port: this.port, password: PASSWORD, db, lazyConnect: true });
  }

  async start(): Promise<void> {
    this.process = spawn(
      'redis-server',
      [
        ...['--port', String(this.port), '--bind', '127.0.0.1', '--requirepass', PASSWORD],
        ...['--save', '', '--appendonly', 'no', '--dir', this.dir],
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      'redis-server',
      async () => {
        const r = new Redis({
          port: this.port,
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
  }

  /** Kills the server; nothing is saved, so a restart comes back empty. */
  async kill(): Promise<void> {
    const p = this.process;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }
}

describe('queued sweeps under faults', { ...gate, concurrency: false }, () => {
  let dir = '';
  const servers: RedisServer[] = [];
  const server = async (): Promise<RedisServer> => {
    dir ||= await mkdtemp(join(tmpdir(), 'dropout-lab-queue-faults-'));
    const s = new RedisServer(await freePort(), dir);
    servers.push(s);
    await s.start();
    return s;
  };
  const passwordFile = async (): Promise<string> => {
    const file = join(dir, 'password');
    await writeFile(file, PASSWORD + '\n');
    return file;
  };

  after(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    for (const s of servers) await s.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a worker that cannot start exits non-zero with one line, at --concurrency 2 as at 1', async () => {
    const redis = await server();
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    await writeFile(join(dir, 'blank'), '\n');
    const cases: [string, string[], RegExp][] = [
      ['nothing listening', ['--queue', `redis://127.0.0.1:${await freePort()}`], /cannot reach Redis at/],
      [
        'no password',
        ['--queue', redis.url],
        /Redis at redis:\/\/127\.0\.0\.1:\d+ wants a password and got none/,
      ],
      [
        'an empty password file',
        ['--queue', redis.url, '--queue-password-file', join(dir, 'blank')],
        /--queue-password-file \S+ is empty; write the Redis password on its first line/,
      ],
      [
        'a data dir without data',
        ['--queue', redis.url, '--queue-password-file', await passwordFile(), '--data-dir', empty],
        /--data-dir \S+ lacks train-images/,
      ],
    ];
    for (const concurrency of ['2', '1']) {
      for (const [what, args, line] of cases) {
        const p = startCli(['worker', ...args, '--concurrency', concurrency]);
        const code = await exitWithin(p);
        const context = `${what}, --concurrency ${concurrency}:\n${p.out()}`;
        assert.notEqual(code, 0, context);
        assert.match(p.out(), line, context);
        // One line for the reason (not one per process), no stack, no Redis error text.
        assert.equal(p.out().match(new RegExp(line.source, 'g'))?.length, 1, context);
        assert.doesNotMatch(p.out(), /^\s+at |NOAUTH|finishing the current epoch/m, context);
      }
    }
  });

  it('an idle worker whose Redis is gone stops at the first SIGTERM', async () => {
    const redis = await server();
    const w = startCli(['worker', '--queue', redis.url, '--queue-password-file', await passwordFile()]);
    await waitFor('the workers to wait for runs', () => /waiting for runs/.test(w.out()));
    await redis.kill();
    // Long enough for the worker to have lost its connections (ff7e7c3 then survived SIGTERM).
    await new Promise((r) => setTimeout(r, 4000));
    w.kill('SIGTERM');
    assert.equal(await exitWithin(w), 0, w.out());
    assert.match(w.out(), /SIGTERM: no run in progress; stopping/);
    assert.doesNotMatch(w.out(), /finishing the current epoch|^\s+at /m);
  });

  it('a database Redis does not have is one line before any work', async () => {
    const redis = await server();
    const p = startCli([
      'sweep',
      '--seeds',
      '1',
      '--epochs',
      '1',
      '--train-limit',
      '256',
      '--val-limit',
      '128',
      '--out',
      join(dir, 'db99'),
      '--queue',
      `${redis.url}/99`,
      '--queue-password-file',
      await passwordFile(),
    ]);
    const code = await exitWithin(p);
    assert.notEqual(code, 0, p.out());
    assert.equal(p.out().trim().split('\n').length, 1, p.out());
    assert.match(p.out(), /^dropout-lab: --queue redis:\/\/127\.0\.0\.1:\d+\/99: Redis refuses database 99/);
    const r = redis.client();
    try {
      await r.connect();
      assert.equal(await r.dbsize(), 0, 'nothing may be submitted to database 0 instead');
    } finally {
      r.disconnect();
    }
  });

  it('Redis restarted empty mid-sweep: one line each way, vanished runs resubmitted, results equal a local sweep', async () => {
    const redis = await server();
    const pw = await passwordFile();
    const queueArgs = ['--queue', redis.url, '--queue-password-file', pw];
    const store = join(dir, 'store');
    const sweep = [
      'sweep',
      '--dropout1',
      '0.2,0.5',
      '--seeds',
      '1',
      '--epochs',
      '3',
      '--train-limit',
      '1024',
      '--val-limit',
      '256',
    ];
    const local = startCli([...sweep, '--out', join(dir, 'local'), '--workers', '1']);
    const worker = startCli(['worker', ...queueArgs, '--concurrency', '1', '--store', store]);
    const coordinator = startCli([...sweep, '--out', join(dir, 'queued'), ...queueArgs]);
    // Kill Redis once the first run has saved an epoch's checkpoint (in --store, which survives).
    await waitFor('a run to start', () => /starting (\S+)/.test(worker.out()));
    const id = /starting (\S+)/.exec(worker.out())![1]!;
    await waitFor('its first checkpoint', async () =>
      (await readdir(store).catch((): string[] => [])).includes(`${id}.dlqrun`),
    );
    await redis.kill();
    await new Promise((r) => setTimeout(r, 5000));
    await redis.start();

    assert.equal(await exitWithin(coordinator), 0, coordinator.out());
    assert.equal(await exitWithin(local), 0, local.out());
    const c = coordinator.out();
    assert.equal(c.match(/Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/g)?.length, 1, c);
    assert.match(c, /Redis at \S+ answers again after \d+ s/);
    assert.match(c, /\d run\(s\) vanished from Redis \(restarted without saving\?\); submitted them again/);
    assert.doesNotMatch(c, /^\s+at |ECONNREFUSED.*\n.*errno/m, c);
    // The run that was going when Redis went away finished on the worker; its result waited in the
    // store, so the resubmitted job resumed from the last epoch instead of training again.
    assert.match(worker.out(), new RegExp(`job ${id} vanished from Redis while it ran`), worker.out());
    assert.match(worker.out(), new RegExp(`resuming ${id} from epoch 3 of 3`), worker.out());
    assert.doesNotMatch(worker.out(), /Missing (key|lock)|^\s+at /m, worker.out());
    assert.equal(worker.out().match(new RegExp(`starting ${id}`, 'g'))?.length, 1, worker.out());

    const withoutTimings = (text: string): string => text.replace(/"(epoch_)?seconds":[0-9.e+-]+,?/g, '');
    assert.equal(
      withoutTimings(await readFile(join(dir, 'queued', 'results.jsonl'), 'utf8')),
      withoutTimings(await readFile(join(dir, 'local', 'results.jsonl'), 'utf8')),
    );
    // Once BullMQ has recorded the results, the kept states are removed.
    await waitFor(
      'the store to be emptied',
      async () => (await readdir(store)).filter((f) => f.endsWith('.dlqrun')).length === 0,
      30_000,
    );
    worker.kill('SIGTERM');
    assert.equal(await exitWithin(worker), 0, worker.out());
  });
});
