/**
 * Refusals that come before any work: a flag value the run cannot honour is one line on stderr, a
 * non-zero exit, nothing trained and nothing written. (The table of bad flags is
 * test/cli/commands.test.ts; these are the cases found in the library's own tests.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

test('--out inside /proc (unwritable even for root) is one line, exit ≠ 0', { timeout: 60_000 }, async () => {
  const r = await runCli(['train', '--out', '/proc/dropout-lab-out', '--epochs', '1']);
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^dropout-lab: --out \/proc\/dropout-lab-out is not writable/);
});

test(
  'train, compare and sweep refuse --drop-mode early on cnn-dropout before training',
  { timeout: 120_000 },
  async () => {
    const out = await mkdtemp(join(tmpdir(), 'dropout-lab-cnn-mode-'));
    try {
      const flags = ['--drop-mode', 'early', '--cutoff-epoch', '1', '--epochs', '2', '--data-dir', out];
      for (const args of [
        ['train', '--model', 'cnn-dropout', ...flags, '--out', join(out, 'train')],
        ['compare', '--models', 'cnn,cnn-dropout', ...flags],
        ['sweep', '--model', 'cnn-dropout', ...flags, '--out', join(out, 'sweep'), '--workers', '1'],
      ]) {
        const r = await runCli(args);
        assert.notEqual(r.code, 0, args[0]);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.match(
          r.stderr,
          /drop mode early schedules nn\.Dropout only, not cnn-dropout's spatial dropout/,
        );
        assert.doesNotMatch(r.stdout, /epoch 1/);
      }
      // Nothing was written: the refusal came before any run started.
      assert.deepEqual(await readdir(out), []);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
);
