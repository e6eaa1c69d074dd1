/**
 * BatchNorm and a last training batch of one example (issue 29.5): `train --model mlp-bn
 * --train-limit 257 --batch-size 256` used to train the epoch's first batch, then fail on the second
 * (one example) with exit 2 and the advice to use a larger batch. Now that batch is left out, as
 * PyTorch's drop_last would, with a one-line note; a batch size of 1 is refused before any training.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SYSTEM_DATA_DIR } from '../../src/node/data/fashionMnistFiles.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { requires } from '../helpers/environment.js';

/** Runs the built CLI; killed after 120 s so a hang fails instead of stalling the suite. */
function cli(args: string[]): Promise<CliResult> {
  return runCli(args, {
    env: { XDG_CACHE_HOME: join(tmpdir(), 'dropout-lab-cli-test-cache') },
    timeoutMs: 120_000,
  });
}

const hasData = existsSync(join(SYSTEM_DATA_DIR, 'train-images-idx3-ubyte.gz'));
const needsData = requires(hasData, `${SYSTEM_DATA_DIR} is absent (apt-get install dataset-fashion-mnist)`);
const DATA = ['--data-dir', SYSTEM_DATA_DIR, '--val-limit', '200', '--json'];

test(
  'mlp-bn on 257 examples in batches of 256: the batch of one is dropped with a note, exit 0',
  needsData,
  async () => {
    const r = await cli([
      'train',
      '--model',
      'mlp-bn',
      '--train-limit',
      '257',
      '--batch-size',
      '256',
      '--epochs',
      '2',
      ...DATA,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const notes = r.stderr.trim().split('\n');
    assert.equal(notes.length, 1, r.stderr);
    assert.match(
      notes[0]!,
      /^note: the last training batch holds 1 example.*BatchNorm.*dropped.*256 of 257 examples\.$/,
    );
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; epoch?: number; train_loss?: number });
    assert.deepEqual(
      events.map((e) => e.event),
      ['epoch', 'epoch', 'summary'],
    );
    for (const e of events) assert.ok(Number.isFinite(e.train_loss), JSON.stringify(e));
  },
);

test('a model without BatchNorm: no note, exit 0', needsData, async () => {
  const r = await cli([
    'train',
    '--model',
    'mlp',
    '--train-limit',
    '257',
    '--batch-size',
    '256',
    '--epochs',
    '1',
    ...DATA,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
});

test('mlp-bn with batches of one: refused before any training, one line, exit 2', needsData, async () => {
  const r = await cli([
    'train',
    '--model',
    'mlp-bn',
    '--train-limit',
    '20',
    '--batch-size',
    '1',
    '--epochs',
    '1',
    ...DATA,
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '', 'no epoch was trained');
  assert.match(
    r.stderr,
    /^dropout-lab: BatchNorm needs at least 2 examples per training batch, got a batch size of 1; use 2 or more\./,
  );
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});
