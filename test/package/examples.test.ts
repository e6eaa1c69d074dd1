/**
 * Every example in examples/ runs with --quick (a few hundred examples, one epoch), so none can rot.
 * Examples that train need Fashion-MNIST; without it they skip, except under CI=true.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYSTEM_DATA_DIR } from '../../src/node/data/fashionMnistFiles.js';

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples');
const hasData =
  existsSync(join(SYSTEM_DATA_DIR, 'train-images-idx3-ubyte.gz')) || process.env['CI'] === 'true';
const names = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.ts'))
  .sort();

test("there are examples, and the guide to the book's dropout section links each one", () => {
  assert.ok(names.length >= 7, names.join(', '));
  const guide = readFileSync(join(ROOT, 'docs', 'dropout.md'), 'utf8');
  for (const name of names)
    assert.ok(guide.includes(`examples/${name}`), `docs/dropout.md links examples/${name}`);
});

for (const name of names) {
  const source = readFileSync(join(EXAMPLES, name), 'utf8');
  const needsData = source.includes('loadFashionMNIST');
  test(
    `npx tsx examples/${name} --quick`,
    { skip: needsData && !hasData ? `${SYSTEM_DATA_DIR} is absent` : false, timeout: 600_000 },
    async () => {
      const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(EXAMPLES, name), '--quick'], {
          cwd: ROOT,
          env: { ...process.env, DROPOUT_LAB_DATA: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      });
      assert.equal(r.code, 0, r.stderr);
      assert.notEqual(r.stdout.trim(), '', 'prints what it shows');
      assert.doesNotMatch(r.stdout, /NaN/);
    },
  );
}
