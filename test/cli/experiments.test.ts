/**
 * The experiment commands' success paths end to end on a small subset: `sweep` over two dropout
 * values and `mc` with three samples, each in a worker process, with every output file written and a
 * rerun reusing the finished runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_DATA_DIR } from '../../src/node/data/fashionMnistFiles.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { requires } from '../helpers/environment.js';

const SUBSET = [
  '--seeds',
  '1',
  '--epochs',
  '1',
  '--train-limit',
  '512',
  '--val-limit',
  '256',
  '--workers',
  '1',
];
const needsData = {
  ...requires(
    existsSync(join(SYSTEM_DATA_DIR, 'train-images-idx3-ubyte.gz')),
    `${SYSTEM_DATA_DIR} is absent`,
  ),
  timeout: 180_000,
};

const cli = (args: string[], timeoutMs?: number): Promise<CliResult> =>
  runCli(args, timeoutMs === undefined ? {} : { timeoutMs });

const events = (text: string): Record<string, unknown>[] =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test(
  'sweep --dropout1 0,0.5 on a subset: one summary per value, plots, summary.md; a rerun reuses the runs',
  needsData,
  async () => {
    const out = await mkdtemp(join(tmpdir(), 'dropout-lab-sweep-'));
    const r = await cli(['sweep', '--dropout1', '0,0.5', ...SUBSET, '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const summaries = events(r.stdout);
    assert.deepEqual(
      summaries.map((e) => [e['event'], e['dropout1']]),
      [
        ['summary', 0],
        ['summary', 0.5],
      ],
    );
    for (const s of summaries) {
      const acc = s['val_acc_mean'] as number;
      assert.ok(acc > 0 && acc <= 1, `val_acc ${acc}`);
    }
    const files = await readdir(out);
    for (const f of [
      'results.jsonl',
      'summary.md',
      'sweep_val_acc.svg',
      'sweep_val_acc.png',
      'curves_val_acc.svg',
    ])
      assert.ok(files.includes(f), `${f} missing from ${files.join(', ')}`);
    assert.equal((await readdir(join(out, 'runs'))).length, 2);
    assert.match(await readFile(join(out, 'summary.md'), 'utf8'), /Best val_acc: \*\*dropout1=/);
    const again = await cli(['sweep', '--dropout1', '0,0.5', ...SUBSET, '--out', out]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /2 runs: 2 already finished/);
    await rm(out, { recursive: true, force: true });
  },
);

test(
  'mc --samples 3 on a subset: MC error for k = 1…3 against weight scaling, plots and summary',
  needsData,
  async () => {
    const out = await mkdtemp(join(tmpdir(), 'dropout-lab-mc-'));
    const r = await cli(['mc', '--samples', '3', ...SUBSET, '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const summaries = events(r.stdout);
    assert.deepEqual(
      summaries.map((e) => e['k']),
      [1, 2, 3],
    );
    for (const s of summaries) {
      for (const k of ['mc_error_mean', 'ws_error_mean']) {
        const v = s[k] as number;
        assert.ok(v >= 0 && v <= 1, `${k} ${v}`);
      }
    }
    // Weight scaling is one deterministic pass: the same at every k.
    assert.equal(new Set(summaries.map((s) => s['ws_error_mean'])).size, 1);
    const files = await readdir(out);
    for (const f of ['results.jsonl', 'summary.md', 'mc_error.svg', 'mc_error.png', 'reliability.svg'])
      assert.ok(files.includes(f), `${f} missing from ${files.join(', ')}`);
    await rm(out, { recursive: true, force: true });
  },
);

test(
  'mc --consistent: one mask per pass for every image; the entropy splits into aleatoric + epistemic',
  needsData,
  async () => {
    const out = await mkdtemp(join(tmpdir(), 'dropout-lab-mc-consistent-'));
    try {
      const runs = async (extra: string[], dir: string) => {
        const r = await cli(['mc', '--samples', '3', ...SUBSET, '--out', join(out, dir), '--json', ...extra]);
        assert.equal(r.code, 0, r.stderr);
        const text = await readFile(join(out, dir, 'results.jsonl'), 'utf8');
        return text
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .filter((e) => e['run'] !== undefined);
      };
      const [fresh] = await runs([], 'fresh');
      const [consistent] = await runs(['--consistent'], 'consistent');
      assert.equal(fresh!['consistent'], false);
      assert.equal(consistent!['consistent'], true);
      // The same trained model (same seed), scored with other masks.
      assert.equal(consistent!['ws_error'], fresh!['ws_error']);
      assert.notDeepEqual(consistent!['mc_error'], fresh!['mc_error']);
      for (const e of [fresh!, consistent!]) {
        const [h, ee, mi] = ['mc_entropy', 'mc_expected_entropy', 'mc_mutual_information'].map(
          (k) => e[k] as number,
        );
        assert.ok(mi! > 0 && ee! > 0, `MI ${mi}, expected entropy ${ee}`);
        assert.ok(Math.abs(h! - ee! - mi!) < 1e-4, `H ${h} = E[H] ${ee} + MI ${mi}`);
      }
      const md = await readFile(join(out, 'consistent', 'summary.md'), 'utf8');
      assert.match(md, /consistent masks/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
);

test(
  'experiment rdrop: three configurations × 2 seeds, a table, two plots and a verdict from the numbers',
  { ...needsData, timeout: 400_000 },
  async () => {
    const out = await mkdtemp(join(tmpdir(), 'dropout-lab-experiment-'));
    try {
      const tiny = ['--train-limit', '256', '--val-limit', '128', '--workers', '2'];
      const args = ['experiment', 'rdrop', ...SUBSET, ...tiny, '--seeds', '2', '--out', out, '--json'];
      const r = await cli(args, 400_000);
      assert.equal(r.code, 0, r.stderr);
      const rows = events(r.stdout);
      assert.deepEqual(
        rows.map((e) => e['label']),
        ['none', 'dropout', 'R-Drop α=1'],
      );
      for (const row of rows) assert.equal((row['val_acc'] as number[]).length, 2);
      const md = await readFile(join(out, 'summary.md'), 'utf8');
      const acc = (label: string) => (rows.find((e) => e['label'] === label)!['val_acc'] as number[])[0]!;
      // The verdict quotes the measured numbers, not fixed text.
      assert.match(md, /\*\*Verdict\.\*\* R-Drop's val_acc is /);
      assert.ok(md.includes(acc('R-Drop α=1').toFixed(2).slice(0, 3)));
      const files = await readdir(out);
      for (const f of ['summary.md', 'results.jsonl', 'val_acc.svg', 'train_loss_eval.svg'])
        assert.ok(files.includes(f), `${f} missing from ${files.join(', ')}`);
      const bad = await cli(['experiment', 'dropconnect', ...SUBSET, '--out', join(out, 'x')]);
      assert.notEqual(bad.code, 0);
      assert.match(
        bad.stderr.trim(),
        /^dropout-lab: unknown experiment 'dropconnect'; use one of deck-dropout, deck-data, ex1-swap, ex2-epochs, ex3-variance, ex4-test-time, ex5-weight-decay, ex6-dropconnect, ex7-noise, norm, schedule, rdrop, cnn, vit, architectures\.$/,
      );
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
);

test(
  'a sweep stopped by SIGTERM exits 143 quietly: no EPIPE or IPC stack trace from its workers',
  needsData,
  async () => {
    const out = await mkdtemp(join(tmpdir(), 'dropout-lab-sweep-term-'));
    let timer: NodeJS.Timeout | undefined;
    try {
      const r = await runCli(
        [
          'sweep',
          '--dropout1',
          '0,0.1,0.2,0.3',
          ...SUBSET,
          '--train-limit',
          '4096',
          // Long enough that the signal always finds the workers busy, however fast the machine.
          '--epochs',
          '30',
          '--workers',
          '2',
          '--out',
          out,
        ],
        {
          // Once the workers are started (and loading data or training), stop the sweep.
          onStdout: (all, kill) => {
            if (timer === undefined && all.includes('worker processes'))
              timer = setTimeout(() => kill('SIGTERM'), 3000);
          },
        },
      );
      // Stopped, not killed: 128 + 15, with the command that resumes it.
      assert.equal(r.code, 143, r.stderr);
      assert.equal(r.signal, null);
      assert.match(r.stderr, /rerun to resume: dropout-lab sweep /);
      assert.doesNotMatch(r.stderr, /EPIPE|ERR_IPC|\n\s+at /, r.stderr);
    } finally {
      clearTimeout(timer);
      await rm(out, { recursive: true, force: true });
    }
  },
);
