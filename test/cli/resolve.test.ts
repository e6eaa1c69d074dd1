/**
 * Every run a command will do is resolved and checked before any data, file or training (issue 24's
 * "refusal after the work", issue 29's "flags that do nothing"): spawned as a user runs the CLI, on a
 * small subset of the real data so that a late refusal would first train something and print it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_DATA_DIR } from '../../src/node/data/fashionMnistFiles.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { requires } from '../helpers/environment.js';

/** A run short enough that the old code's late refusal costs seconds, not minutes. */
const TINY = ['--epochs', '1', '--train-limit', '64', '--val-limit', '64', '--batch-size', '32', '--json'];

/** Runs the built CLI; one still running after 120 s is killed and the test fails. */
function cli(args: string[]): Promise<CliResult> {
  return runCli(args, {
    env: { XDG_CACHE_HOME: join(tmpdir(), 'dropout-lab-cli-test-cache') },
    timeoutMs: 120_000,
  });
}

/** Refused before any work: exit 2 (usage), one line on stderr, nothing trained (no stdout). */
function assertRefusedUpFront(r: CliResult, pattern: RegExp): void {
  assert.equal(r.stdout, '', `nothing may train before the refusal, got:\n${r.stdout}`);
  assert.equal(r.code, 2, `expected exit 2, stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^dropout-lab: /);
  assert.match(lines[0]!, pattern);
}

const hasData = existsSync(join(SYSTEM_DATA_DIR, 'train-images-idx3-ubyte.gz'));
const needsData = requires(hasData, `${SYSTEM_DATA_DIR} is absent (apt-get install dataset-fashion-mnist)`);

test(
  'compare --models mlp,vit --momentum 0.9: the ViT (AdamW) refuses before the MLP trains',
  needsData,
  async () => {
    const r = await cli(['compare', '--models', 'mlp,vit', '--momentum', '0.9', ...TINY]);
    assertRefusedUpFront(r, /vit: .*momentum is SGD's/);
  },
);

test(
  'flags that do nothing for the chosen model are refused in one line before any work',
  needsData,
  async () => {
    for (const [flags, pattern] of [
      [['--num-hiddens1', '17'], /--num-hiddens1 does nothing here \(vit does not use it\)/],
      [
        ['--drop-mode', 'early', '--cutoff-epoch', '1'],
        /--drop-mode does nothing here \(vit does not use it\)/,
      ],
      [['--rdrop-alpha', '1'], /--rdrop-alpha does nothing here \(vit does not use it\)/],
      [
        ['--dropout1', '0.3'],
        /--dropout1 does nothing here \(vit does not use it\); .*a model that has this rate/,
      ],
    ] as const) {
      assertRefusedUpFront(await cli(['train', '--model', 'vit', ...flags, ...TINY]), pattern);
    }
    // A sweep refuses the same, before its output folder or any worker exists.
    const dir = await mkdtemp(join(tmpdir(), 'dropout-lab-resolve-'));
    const out = join(dir, 'o');
    try {
      const r = await cli([
        'sweep',
        '--model',
        'vit',
        '--num-hiddens1',
        '17,32',
        '--seeds',
        '1',
        '--workers',
        '1',
        ...TINY,
        '--out',
        out,
      ]);
      assertRefusedUpFront(r, /--num-hiddens1 does nothing here \(vit does not use it\)/);
      assert.equal(existsSync(out), false, 'no output folder');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test(
  "a flag used by one of compare's models is accepted; a moot one (the table says 'warn') is a note",
  needsData,
  async () => {
    const used = await cli(['compare', '--models', 'dropout-mlp,mlp', '--dropout1', '0.2', ...TINY]);
    assert.equal(used.code, 0, used.stderr);
    assert.equal(used.stderr, '');
    const moot = await cli(['train', '--beta1', '0.8', ...TINY]);
    assert.equal(moot.code, 0, moot.stderr);
    assert.equal(
      moot.stderr.trim(),
      'dropout-lab: note: --beta1 does nothing here (optimizer sgd has no betas); drop it.',
    );
    assert.match(moot.stdout, /"event":"summary"/);
  },
);

test("mc's flags are the option table's: its parser, its message, its help", async () => {
  const bad = await cli(['mc', '--dropout1', '1.5']);
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr.trim(),
    "dropout-lab: option '--dropout1 <x>' argument '1.5' is invalid. --dropout1 must be a number in [0, 1], got '1.5'; e.g. --dropout1 0.5.",
  );
});

test("--dropout1's help says what p₁ is, model by model, from the registry", async () => {
  const help = await cli(['train', '--help']);
  assert.equal(help.code, 0, help.stderr);
  const text = help.stdout.replace(/\s+/g, ' ');
  assert.match(
    text,
    /--dropout1 <x> dropout rate p₁: dropout after hidden layer 1 \(dropout-mlp, dropout-mlp-scratch, dropout-mlp-ln\)/,
  );
  assert.match(text, /spatial dropout \(whole feature maps\) after each conv block \(cnn-dropout\)/);
  assert.match(text, /dropout on the attention probabilities and each residual branch \(vit-dropout\)/);
});
