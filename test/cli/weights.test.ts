/**
 * Weights in and out of the CLI as safetensors: `train --save-weights` writes PyTorch's names,
 * `--init-weights` starts from them, and a file of another model, a corrupt, missing or mistyped file
 * or an unwritable target is one line before any training. (The format itself, and both directions
 * against PyTorch, are test/golden/safetensors.test.ts.)
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as files from '../../src/node/safetensorsFile.js';
import { SYSTEM_DATA_DIR } from '../../src/node/data/fashionMnistFiles.js';
import { runCli } from '../helpers/cli.js';
import { requires } from '../helpers/environment.js';

const hasData = existsSync(join(SYSTEM_DATA_DIR, 'train-images-idx3-ubyte.gz'));

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dropout-lab-cli-weights-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test(
  'train --save-weights then --init-weights; bad weight files are one-line errors before training',
  requires(hasData, `${SYSTEM_DATA_DIR} is absent (apt-get install dataset-fashion-mnist)`),
  async () => {
    const short = [
      '--epochs',
      '1',
      '--train-limit',
      '256',
      '--val-limit',
      '128',
      '--json',
      '--backend',
      'js',
    ];
    const saved = join(dir, 'cli.safetensors');
    const first = await runCli(['train', '--model', 'mlp', ...short, '--save-weights', saved]);
    assert.equal(first.code, 0, first.stderr);
    const { tensors, metadata } = await files.loadSafetensorsFile(saved);
    assert.deepEqual(metadata, { format: 'pt', model: 'mlp' });
    assert.deepEqual(tensors['net.1.weight']!.shape, [256, 784]);

    const again = await runCli(['train', '--model', 'mlp', ...short, '--init-weights', saved]);
    assert.equal(again.code, 0, again.stderr);

    const wrongModel = await runCli([
      'train',
      '--model',
      'dropout-mlp-scratch',
      ...short,
      '--init-weights',
      saved,
    ]);
    assert.notEqual(wrongModel.code, 0);
    assert.match(
      wrongModel.stderr.trim(),
      /^dropout-lab: --init-weights .* does not fit this model: missing keys \[lin1\.weight/,
    );
    assert.equal(wrongModel.stderr.trim().split('\n').length, 1);

    await writeFile(join(dir, 'junk.safetensors'), 'junk');
    for (const [args, pattern] of [
      [
        ['--init-weights', join(dir, 'junk.safetensors')],
        /junk\.safetensors is not a valid safetensors file/,
      ],
      [['--init-weights', join(dir, 'none.safetensors')], /Cannot read .*none\.safetensors/],
      [['--init-weights', join(dir, 'w.pt')], /--init-weights needs a \.safetensors file/],
      [['--save-weights', join(dir, 'no', 'w.safetensors')], /--save-weights .* does not exist/],
    ] as const) {
      const r = await runCli(['train', ...short, ...args]);
      assert.notEqual(r.code, 0, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stdout, '', 'nothing trained');
    }
  },
);
