/**
 * The CLI end to end, as a user runs it: the deck's demo, every class of bad flag (one line, exit ≠ 0,
 * no stack, no files left), missing and corrupt data, and a short real-data run with its output files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_DATA_DIR } from '../../src/node/data/fashionMnistFiles.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { requires } from '../helpers/environment.js';

/** The CLI with a cache directory of its own, so these runs never read or fill the user's cache. */
const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
  runCli(args, { env: { XDG_CACHE_HOME: join(tmpdir(), 'dropout-lab-cli-test-cache'), ...env } });

function assertOneLineError(r: CliResult, pattern: RegExp): void {
  assert.notEqual(r.code, 0, `expected a non-zero exit, stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^dropout-lab: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace without --verbose');
}

const hasData = existsSync(join(SYSTEM_DATA_DIR, 'train-images-idx3-ubyte.gz'));
const needsData = requires(hasData, `${SYSTEM_DATA_DIR} is absent (apt-get install dataset-fashion-mnist)`);

test('demo prints the deck quick check', async () => {
  const r = await cli(['demo']);
  assert.equal(r.code, 0, r.stderr);
  for (const p of ['0', '0.5', '1']) assert.match(r.stdout, new RegExp(`dropout_p = ${p}: tensor\\(`));
});

test('demo --json: X = arange(16).reshape(2, 8); p=0 identity, p=0.5 zeros or 2x, p=1 zeros', async () => {
  const r = await cli(['demo', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { X: number[][]; results: { p: number; Y: number[][] }[] };
  assert.deepEqual(out.X, [
    [0, 1, 2, 3, 4, 5, 6, 7],
    [8, 9, 10, 11, 12, 13, 14, 15],
  ]);
  assert.deepEqual(
    out.results.map((r) => r.p),
    [0, 0.5, 1],
  );
  assert.deepEqual(out.results[0]!.Y, out.X);
  const half = out.results[1]!.Y.flat();
  half.forEach((v, i) => assert.ok(v === 0 || v === 2 * i, `element ${i} is ${v}`));
  assert.ok(half.some((v) => v === 0) && half.some((v) => v > 0), 'p = 0.5 drops some units and keeps some');
  assert.ok(out.results[2]!.Y.flat().every((v) => v === 0));
});

const badFlags: [string[], RegExp][] = [
  [['train', '--dropout1', '1.5'], /--dropout1 must be a number in \[0, 1\]/],
  [['train', '--dropout2', '-0.1'], /--dropout2 must be a number in \[0, 1\]/],
  [['train', '--dropout1', 'NaN'], /--dropout1/],
  [['train', '--epochs', '0'], /--epochs must be an integer ≥ 1/],
  [['train', '--epochs', 'ten'], /--epochs/],
  [['train', '--batch-size', '2.5'], /--batch-size/],
  [['train', '--lr', '-1'], /--lr must be a positive number/],
  [['train', '--seed', '-3'], /--seed/],
  [['train', '--model', 'resnet'], /Allowed choices are dropout-mlp, dropout-mlp-scratch, mlp/],
  [['train', '--backend', 'cuda'], /Allowed choices are wasm, js, webgpu/],
  [['train', '--threads', String(availableParallelism() + 1)], /--threads must be (1 or \d+|in 1…\d+), got/],
  [['train', '--threads', '0'], /--threads must be an integer ≥ 1/],
  [['train', '--bogus'], /unknown option '--bogus'/],
  [['trian'], /unknown command 'trian'.*Did you mean train/],
  [['train', '--out', '/etc/passwd'], /--out \/etc\/passwd is not writable/],
  [['train', '--data-dir', '/nonexistent-dropout-lab'], /--data-dir/],
  [['sweep', '--dropout1', '0,2'], /--dropout1 values must be numbers in \[0, 1\]/],
  [['mc', '--samples', '0'], /--samples must be an integer ≥ 1/],
  [['lab', '--port', 'abc'], /--port must be an integer/],
];

test('bad input: one line naming the problem, exit ≠ 0, no stack trace', { concurrency: 4 }, async (t) => {
  for (const [args, pattern] of badFlags) {
    await t.test(args.join(' '), async () => assertOneLineError(await cli(args), pattern));
  }
});

test('--verbose adds the stack trace', async () => {
  const r = await cli(['train', '--data-dir', '/nonexistent-dropout-lab', '--verbose']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /\n\s+at /);
});

test('a failed run leaves no partial --out directory behind', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dropout-lab-cli-'));
  const out = join(root, 'run', 'nested');
  const r = await cli(['train', '--data-dir', '/nonexistent-dropout-lab', '--out', out]);
  assert.notEqual(r.code, 0);
  assert.equal(existsSync(join(root, 'run', 'nested')), false);
  await rm(root, { recursive: true, force: true });
});

test('corrupt data files are refused with a one-line fix', needsData, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dropout-lab-corrupt-'));
  for (const f of ['train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
    await copyFile(join(SYSTEM_DATA_DIR, `${f}.gz`), join(dir, `${f}.gz`));
  }
  const good = await readFile(join(SYSTEM_DATA_DIR, 'train-images-idx3-ubyte.gz'));
  await writeFile(join(dir, 'train-images-idx3-ubyte.gz'), good.subarray(0, good.length >> 1));
  assertOneLineError(await cli(['train', '--data-dir', dir, '--epochs', '1']), /train-images-idx3-ubyte/);
  await rm(dir, { recursive: true, force: true });
});

interface EpochEvent {
  event: string;
  model: string;
  epoch: number;
  train_loss: number;
  val_loss: number;
  val_acc: number;
  epoch_seconds: number;
  samples_per_second: number;
}

/** JSON lines without their timing fields, which differ between runs. */
function strip(stdout: string): unknown[] {
  return stdout
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

const SHORT = [
  '--epochs',
  '2',
  '--batch-size',
  '64',
  '--train-limit',
  '6000',
  '--val-limit',
  '1000',
  '--json',
];

test('train on real data: JSON lines, sane accuracy, and the --out files', needsData, async () => {
  const out = await mkdtemp(join(tmpdir(), 'dropout-lab-out-'));
  const r = await cli(['train', ...SHORT, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as EpochEvent);
  assert.deepEqual(
    events.map((e) => e.event),
    ['epoch', 'epoch', 'summary'],
  );
  const epoch = events[1]!;
  for (const key of ['train_loss', 'val_loss', 'val_acc', 'epoch_seconds', 'samples_per_second'] as const) {
    assert.ok(Number.isFinite(epoch[key]), `${key} is a number`);
  }
  assert.equal(epoch.model, 'dropout-mlp');
  assert.ok(epoch.val_acc > 0.65, `val_acc ${epoch.val_acc} after two epochs on 6000 examples`);
  assert.deepEqual((await readdir(out)).sort(), ['config.json', 'curves.png', 'curves.svg', 'metrics.jsonl']);
  const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config.seed, 0);
  assert.equal(config.dropout1, 0.5);
  assert.equal((await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim(), r.stdout.trim());
  assert.match(await readFile(join(out, 'curves.svg'), 'utf8'), /val_acc/);
  await rm(out, { recursive: true, force: true });
});

test('same seed ⇒ identical numbers, on 1 and 2 threads', needsData, async () => {
  const [a, b, c] = await Promise.all([
    cli(['train', ...SHORT, '--threads', '2']),
    cli(['train', ...SHORT, '--threads', '2']),
    cli(['train', ...SHORT, '--threads', '1']),
  ]);
  for (const r of [a, b, c]) assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(strip(a.stdout), strip(b.stdout));
  assert.deepEqual(strip(a.stdout), strip(c.stdout));
  const d = await cli(['train', ...SHORT, '--seed', '1']);
  assert.notDeepEqual(strip(a.stdout), strip(d.stdout), 'another seed gives another run');
});

test('compare runs the dropout MLP and the plain MLP with the same settings', needsData, async () => {
  const r = await cli(['compare', ...SHORT]);
  assert.equal(r.code, 0, r.stderr);
  const summaries = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; model: string; gap: number })
    .filter((e) => e.event === 'summary');
  assert.deepEqual(
    summaries.map((s) => s.model),
    ['dropout-mlp', 'mlp'],
  );
  for (const s of summaries) assert.ok(Number.isFinite(s.gap));
});

test('--checkpoint-every then --resume gives the uninterrupted run bit for bit', needsData, async () => {
  const args = ['train', '--train-limit', '2000', '--val-limit', '500', '--batch-size', '64', '--json'];
  const [straightDir, firstDir] = await Promise.all([
    mkdtemp(join(tmpdir(), 'dropout-lab-straight-')),
    mkdtemp(join(tmpdir(), 'dropout-lab-resume-')),
  ]);
  const [straight, first] = await Promise.all([
    cli([...args, '--epochs', '3', '--out', straightDir]),
    cli([...args, '--epochs', '2', '--out', firstDir, '--checkpoint-every', '1']),
  ]);
  assert.equal(straight.code, 0, straight.stderr);
  assert.equal(first.code, 0, first.stderr);
  assert.ok(existsSync(join(firstDir, 'checkpoints', 'dropout-mlp.dlck')));
  const resumed = await cli([...args, '--epochs', '3', '--resume', firstDir]);
  assert.equal(resumed.code, 0, resumed.stderr);
  // The resumed run prints epoch 3 and the summary; both equal the straight run's.
  assert.deepEqual(strip(resumed.stdout), strip(straight.stdout).slice(2));
  const wrong = await cli([...args, '--epochs', '3', '--resume', firstDir, '--dropout1', '0.2']);
  assertOneLineError(wrong, /dropout1/);
  await Promise.all([straightDir, firstDir].map((d) => rm(d, { recursive: true, force: true })));
});
