/**
 * `train --init-weights` refuses a safetensors file holding NaN with one line before training, as a
 * checkpoint holding NaN is refused (issue 29): the weights fit the model in every other way.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_DATA_DIR } from '../../src/node/data/fashionMnistFiles.js';
import { loadSafetensorsFile, saveSafetensorsFile } from '../../src/node/safetensorsFile.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { requires } from '../helpers/environment.js';

const hasData = existsSync(join(SYSTEM_DATA_DIR, 'train-images-idx3-ubyte.gz'));
const SHORT = ['--model', 'mlp', '--epochs', '1', '--train-limit', '256', '--val-limit', '128', '--json'];

/** The built CLI, bounded: a run that ignored the check would train one tiny epoch, not hang. */
function cli(args: string[]): Promise<CliResult> {
  return runCli(args, { timeoutMs: 120_000 });
}

let dir = '';
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test(
  'train --init-weights with NaN in a weight is one line, exit 2, and trains nothing',
  requires(hasData, `${SYSTEM_DATA_DIR} (apt-get install dataset-fashion-mnist)`),
  async () => {
    dir = await mkdtemp(join(tmpdir(), 'dropout-lab-init-weights-'));
    const good = join(dir, 'good.safetensors');
    const saved = await cli(['train', ...SHORT, '--save-weights', good]);
    assert.equal(saved.code, 0, saved.stderr);
    const { tensors, metadata } = await loadSafetensorsFile(good);
    for (const [value, name] of [
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
    ] as const) {
      const bad = join(dir, `${name}.safetensors`);
      const weight = tensors['net.1.weight']!;
      const data = Float32Array.from(weight.data);
      data[7] = value;
      await saveSafetensorsFile(bad, { ...tensors, 'net.1.weight': { shape: weight.shape, data } }, metadata);
      const r = await cli(['train', ...SHORT, '--init-weights', bad]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`^dropout-lab: --init-weights \\S+: tensor net\\.1\\.weight holds ${name} at element 7;`),
      );
      assert.equal(r.stdout, '', 'nothing trained');
    }
  },
);
