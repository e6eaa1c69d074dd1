/**
 * Never lose a run, never hang: the CLI findings of issue 11, each as the user hit it. A resume keeps
 * every metric line; `compare` interrupted in its first model resumes; Ctrl-C mid-run saves and the
 * resume equals an uninterrupted run; empty paths, huge sweeps, a full disk, an uncreatable cache
 * dir, gzip bombs and oversized files each end in one line; two runs on one --out are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError } from '../../src/errors.js';
import { SYSTEM_DATA_DIR, loadFashionMnistRaw } from '../../src/node/data/fashionMnistFiles.js';
import { gunzipIfNeeded, readIdxBytes } from '../../src/node/data/gunzip.js';
import { encodeIdx } from '../../src/data/idx.js';
import { mkdirs } from '../../src/node/mkdirs.js';
import { loadCheckpoint } from '../../src/node/checkpointFiles.js';
import { runCli } from '../helpers/cli.js';
import { requires } from '../helpers/environment.js';

const SMALL = [
  '--train-limit',
  '1024',
  '--val-limit',
  '256',
  '--batch-size',
  '64',
  '--num-hiddens1',
  '32',
  '--num-hiddens2',
  '32',
  '--threads',
  '1',
];
const needsData = requires(
  existsSync(join(SYSTEM_DATA_DIR, 'train-images-idx3-ubyte.gz')),
  `${SYSTEM_DATA_DIR} is absent (apt-get install dataset-fashion-mnist)`,
);

const cli = runCli;

const temp = (): Promise<string> => mkdtemp(join(tmpdir(), 'dropout-lab-safety-'));

/** metrics.jsonl without the timing fields, which differ between any two runs. */
async function metrics(dir: string): Promise<unknown[]> {
  const text = await readFile(join(dir, 'metrics.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => {
      const {
        epoch_seconds: _a,
        samples_per_second: _b,
        seconds_per_epoch: _c,
        ...rest
      } = JSON.parse(l) as Record<string, unknown>;
      return rest;
    });
}

/** The outputs that must equal an uninterrupted run's: metrics, config and both plots. */
async function assertSameOutputs(resumed: string, straight: string): Promise<void> {
  assert.deepEqual(await metrics(resumed), await metrics(straight));
  for (const f of ['config.json', 'curves.svg', 'curves.png']) {
    assert.ok((await readFile(join(resumed, f))).equals(await readFile(join(straight, f))), `${f} differs`);
  }
}

test(
  'finding 1: a resumed train run keeps the epochs before the resume in metrics.jsonl',
  needsData,
  async () => {
    const dir = await temp();
    const [r, s] = [join(dir, 'r'), join(dir, 's')];
    const first = await cli(['train', ...SMALL, '--epochs', '2', '--out', r, '--checkpoint-every', '1']);
    assert.equal(first.code, 0, first.stderr);
    const resumed = await cli([
      'train',
      ...SMALL,
      '--epochs',
      '4',
      '--out',
      r,
      '--checkpoint-every',
      '1',
      '--resume',
      r,
    ]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const straight = await cli(['train', ...SMALL, '--epochs', '4', '--out', s]);
    assert.equal(straight.code, 0, straight.stderr);
    const m = await metrics(r);
    assert.deepEqual(
      m.map((e) => (e as { epoch?: number; epochs?: number }).epoch ?? (e as { epochs?: number }).epochs),
      [1, 2, 3, 4, 4],
    );
    await assertSameOutputs(r, s);
    // Resuming a finished run (e.g. after Ctrl-C while the plots were written) rewrites the same outputs.
    const again = await cli(['train', ...SMALL, '--epochs', '4', '--out', r, '--resume', r]);
    assert.equal(again.code, 0, again.stderr);
    await assertSameOutputs(r, s);
    await rm(dir, { recursive: true, force: true });
  },
);

test(
  'finding 2: compare with a checkpoint for its first model only resumes (the second starts fresh)',
  needsData,
  async () => {
    const dir = await temp();
    const [r, s] = [join(dir, 'r'), join(dir, 's')];
    // What a compare interrupted during its first model leaves: a checkpoint of dropout-mlp only.
    const first = await cli([
      'train',
      '--model',
      'dropout-mlp',
      ...SMALL,
      '--epochs',
      '1',
      '--out',
      r,
      '--checkpoint-every',
      '1',
    ]);
    assert.equal(first.code, 0, first.stderr);
    const resumed = await cli([
      'compare',
      ...SMALL,
      '--epochs',
      '2',
      '--out',
      r,
      '--resume',
      r,
      '--checkpoint-every',
      '1',
    ]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /no checkpoint for mlp .* starts from scratch/);
    const straight = await cli(['compare', ...SMALL, '--epochs', '2', '--out', s]);
    assert.equal(straight.code, 0, straight.stderr);
    assert.deepEqual(await metrics(r), await metrics(s));
    // Refused before any training: a --seed or --epochs the checkpoint cannot continue.
    for (const [flags, pattern] of [
      [
        ['--seed', '7', '--epochs', '2'],
        /--seed 7 disagrees with the checkpoint of dropout-mlp, which was trained with seed 0/,
      ],
      [['--epochs', '0'], /--epochs must be an integer/],
      [['--dropout1', '0.3', '--epochs', '2'], /dropout1 is 0.5 in the checkpoint but 0.3 here/],
    ] as const) {
      const bad = await cli(['compare', ...SMALL, ...flags, '--resume', r, '--json']);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, pattern);
      assert.equal(bad.stdout, '', 'nothing was trained');
    }
    const before = await cli([
      'train',
      '--model',
      'dropout-mlp',
      ...SMALL,
      '--epochs',
      '1',
      '--out',
      join(dir, 'x'),
      '--resume',
      r,
    ]);
    assert.equal(before.code, 2);
    assert.match(before.stderr, /beyond this run's 1 epochs; resume it with 2 or more epochs/);
    await rm(dir, { recursive: true, force: true });
  },
);

test(
  'Ctrl-C mid-run: checkpoint, one line with the resume command, exit 130; the resume equals an uninterrupted run',
  needsData,
  async () => {
    const dir = await temp();
    const [r, s] = [join(dir, 'r'), join(dir, 's')];
    const args = [
      'compare',
      ...SMALL,
      '--train-limit',
      '4096',
      '--epochs',
      '3',
      '--json',
      '--checkpoint-every',
      '1',
    ];
    let sent = false;
    const interrupted = await cli([...args, '--out', r], {
      onStdout: (all, kill) => {
        // After the first epoch line the run is inside epoch 2 of the first model.
        if (!sent && all.includes('"epoch":1')) {
          sent = true;
          kill('SIGINT');
        }
      },
    });
    assert.equal(interrupted.code, 130, interrupted.stderr);
    assert.match(
      interrupted.stderr,
      /interrupted at epoch \d+(, step \d+)? by SIGINT; a checkpoint was saved; resume with: dropout-lab compare .*--resume /,
    );
    assert.ok((await readdir(join(r, 'checkpoints'))).length >= 1);
    const resumed = await cli([...args, '--out', r, '--resume', r]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const straight = await cli([...args, '--out', s]);
    assert.equal(straight.code, 0, straight.stderr);
    await assertSameOutputs(r, s);
    await rm(dir, { recursive: true, force: true });
  },
);

test(
  'SIGTERM exits 143; without checkpointing it says nothing was saved and leaves no files',
  needsData,
  async () => {
    const dir = await temp();
    const out = join(dir, 'new');
    let sent = false;
    const r = await cli(
      ['train', ...SMALL, '--train-limit', '4096', '--epochs', '5', '--json', '--out', out],
      {
        onStdout: (all, kill) => {
          if (!sent && all.includes('"epoch":1')) {
            sent = true;
            kill('SIGTERM');
          }
        },
      },
    );
    assert.equal(r.code, 143, r.stderr);
    assert.match(r.stderr, /by SIGTERM; nothing was saved \(add --out DIR --checkpoint-every N/);
    assert.equal(existsSync(out), false, 'the --out folder this run created is removed again');
    await rm(dir, { recursive: true, force: true });
  },
);

test('finding 3: empty or blank paths are usage errors (exit 2) and write nothing', async () => {
  const cwd = await temp();
  for (const args of [
    ['train', '--out', ''],
    ['train', '--out', '  '],
    ['compare', '--data-dir', ''],
    ['train', '--resume', ''],
    ['sweep', '--out', ''],
    ['mc', '--runs-dir', ''],
  ]) {
    const r = await cli(args, { cwd });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /(--out|--data-dir|--resume|--runs-dir) is empty/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  assert.deepEqual(await readdir(cwd), []);
  await rm(cwd, { recursive: true, force: true });
});

test(
  'finding 4: a cache dir that cannot be created (under /proc) fails instead of hanging',
  { timeout: 60_000 },
  async () => {
    assert.ok(existsSync('/proc/self'), 'this test needs Linux /proc');
    await assert.rejects(mkdirs('/proc/dropout-lab-test/fashion-mnist'), /ENOENT|EACCES|EPERM/);
    await assert.rejects(
      loadFashionMnistRaw({
        cacheDir: '/proc/dropout-lab-test/fashion-mnist',
        systemDir: '/nonexistent-dropout-lab',
        mirrors: ['http://127.0.0.1:9/'],
      }),
      (e: unknown) =>
        e instanceof DataError && /cannot create the cache dir \/proc\/dropout-lab-test/.test(e.message),
    );
  },
);

test('finding 5: a sweep of 10,001 × 10,001 values is refused at once with the count and --max-runs', async () => {
  const cwd = await temp();
  const values = Array.from({ length: 10_001 }, (_, i) => String(i / 10_000)).join(',');
  const r = await cli(['sweep', '--dropout1', values, '--dropout2', values, '--seeds', '1'], { cwd });
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /this sweep is 100,020,001 runs \(10001 × 10001 combinations × 1 seeds\), over the limit of 1000; .* --max-runs 100020001/,
  );
  assert.deepEqual(await readdir(cwd), []);
  const few = await cli(['sweep', '--dropout1', '0,0.5', '--seeds', '2', '--max-runs', '3'], { cwd });
  assert.equal(few.code, 2);
  assert.match(few.stderr, /this sweep is 4 runs/);
  await rm(cwd, { recursive: true, force: true });
});

/** Mounts a 64 KiB tmpfs (root only); returns its path, or null where mounting is not allowed. */
function smallDisk(dir: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return null;
  }
}

test(
  'finding 6: a full disk while writing the plots: one line, exit 1, no output left half-written',
  needsData,
  async (t) => {
    const dir = await temp();
    const disk = smallDisk(dir);
    if (disk === null) {
      // Documented in ALLOWED_CI_SKIPS: mounting a tmpfs needs root.
      t.skip('cannot mount a 64 KiB tmpfs here (needs root)');
      await rm(dir, { recursive: true, force: true });
      return;
    }
    try {
      const out = join(disk, 'run');
      const r = await cli(['train', ...SMALL, '--epochs', '1', '--out', out]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /^dropout-lab: cannot write .*curves\.png: no space is left on the disk holding .* \(ENOSPC\); none of the files written together with it was changed\. Fix: free space on that disk or choose --out on another disk\.\n$/,
      );
      assert.equal(existsSync(out), false, 'the run created --out, so it is removed again');
      // A checkpoint that does not fit: the previous state is kept, no empty checkpoints/ folder stays.
      await mkdir(join(disk, 'kept'));
      const c = await cli([
        'train',
        ...SMALL,
        '--epochs',
        '1',
        '--out',
        join(disk, 'kept'),
        '--checkpoint-every',
        '1',
      ]);
      assert.equal(c.code, 1, c.stderr);
      assert.match(c.stderr, /cannot write checkpoint .*; the previous checkpoint is kept/);
      assert.deepEqual(await readdir(join(disk, 'kept')), []);
    } finally {
      execFileSync('umount', [disk]);
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test('finding 7: a gzip bomb stops at the size its IDX header implies; an oversized raw file is refused unread', async () => {
  // A valid labels header for 10 labels, then 64 MiB of zeros: ~65 KB compressed.
  const header = encodeIdx([10], new Uint8Array(10));
  const bomb = gzipSync(Buffer.concat([header, Buffer.alloc(64 * 2 ** 20)]));
  assert.ok(bomb.length < 200_000);
  assert.throws(
    () => gunzipIfNeeded(bomb, 'bomb.gz'),
    (e: unknown) =>
      e instanceof DataError &&
      /decompresses to more than the 18 bytes its IDX header implies/.test(e.message),
  );
  // A sparse 1.5 GB file whose header says 10 labels: refused from its size, without reading it.
  const dir = await temp();
  const big = join(dir, 'big-idx1-ubyte');
  await writeFile(big, header);
  const h = await open(big, 'r+');
  await h.truncate(1e9);
  await h.close();
  await assert.rejects(
    readIdxBytes(big),
    (e: unknown) =>
      e instanceof DataError && /has 999999982 trailing bytes beyond the 18 bytes/.test(e.message),
  );
  const h2 = await open(big, 'r+');
  await h2.truncate(2 ** 31);
  await h2.close();
  await assert.rejects(
    readIdxBytes(big),
    (e: unknown) =>
      e instanceof DataError && /is 2147483648 bytes, over the 1073741824-byte limit/.test(e.message),
  );
  await rm(dir, { recursive: true, force: true });
});

test(
  'a second process on the same --out is refused; a stale lock of a dead process is taken over',
  needsData,
  async () => {
    const dir = await temp();
    await writeFile(join(dir, '.dropout-lab.lock'), `${process.pid}\n`);
    const busy = await cli(['train', ...SMALL, '--epochs', '1', '--out', dir]);
    assert.equal(busy.code, 2);
    assert.match(busy.stderr, new RegExp(`is in use by process ${process.pid} \\(lock file`));
    const dead = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => dead.on('exit', () => resolve(dead.pid!)));
    await writeFile(join(dir, '.dropout-lab.lock'), `${deadPid}\n`);
    const ok = await cli(['train', ...SMALL, '--epochs', '1', '--out', dir]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`took over the stale lock .* of process ${deadPid}`));
    assert.equal(existsSync(join(dir, '.dropout-lab.lock')), false, 'the lock is released at the end');
    await rm(dir, { recursive: true, force: true });
  },
);

test('exit codes: 2 for usage errors (commander or ours), 1 for runtime failures, 0 for --help', async () => {
  const dir = await temp();
  assert.equal((await cli(['train', '--no-such-flag'])).code, 2);
  assert.equal((await cli(['train', '--epochs', 'x'])).code, 2);
  assert.equal((await cli(['nope'])).code, 2);
  assert.equal((await cli(['train', '--help'])).code, 0);
  const missing = await cli(['train', '--data-dir', dir, '--epochs', '1']);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /--data-dir .* lacks/);
  await rm(dir, { recursive: true, force: true });
});

test('a second Ctrl-C quits at once (exit 130) and leaves the last good checkpoint', needsData, async () => {
  const dir = await temp();
  let sent = false;
  let again = false;
  const r = await cli(
    [
      'train',
      ...SMALL,
      '--train-limit',
      '8192',
      // Wide layers and big batches, so stopping after the current step (and saving its checkpoint)
      // takes far longer than the second signal's trip.
      '--num-hiddens1',
      '1024',
      '--num-hiddens2',
      '1024',
      '--batch-size',
      '512',
      '--epochs',
      '5',
      '--json',
      '--out',
      dir,
      '--checkpoint-every',
      '1',
    ],
    {
      onStdout: (all, kill) => {
        // Epoch 2's line comes after epoch 1's checkpoint was saved.
        if (!sent && all.includes('"epoch":2')) {
          sent = true;
          kill('SIGINT');
        }
      },
      // The second Ctrl-C once the first was heard (two signals sent at once may arrive as one).
      onStderr: (all, kill) => {
        if (!again && all.includes('SIGINT: stopping after the current step')) {
          again = true;
          kill('SIGINT');
        }
      },
    },
  );
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /SIGINT again: quitting now; the last good checkpoint is kept/);
  const ckpt = await loadCheckpoint(join(dir, 'checkpoints', 'dropout-mlp.dlck'));
  assert.ok(ckpt.epoch >= 1);
  assert.equal(existsSync(join(dir, '.dropout-lab.lock')), false, 'the lock is released on the way out');
  await rm(dir, { recursive: true, force: true });
});
