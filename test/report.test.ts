/**
 * `dropout-lab report --quick`: the three experiments on tiny subsets, then one self-contained HTML
 * page (inline SVG plots, no external reference) and its Markdown twin, each experiment with its
 * question, command, mean ± std table and a verdict quoting the measured numbers; a rerun reuses
 * the finished runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_DATA_DIR } from '../src/node/data/fashionMnistFiles.js';
import { requires } from './helpers/environment.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test(
  'report --quick writes one self-contained page with a verdict per experiment',
  {
    ...requires(
      existsSync(join(SYSTEM_DATA_DIR, 'train-images-idx3-ubyte.gz')),
      `${SYSTEM_DATA_DIR} is absent`,
    ),
    timeout: 900_000,
  },
  async () => {
    const out = await mkdtemp(join(tmpdir(), 'dropout-lab-report-'));
    try {
      const r = await cli(['report', '--quick', '--out', out, '--workers', '2']);
      assert.equal(r.code, 0, r.stderr);
      const html = await readFile(join(out, 'report.html'), 'utf8');
      const md = await readFile(join(out, 'report.md'), 'utf8');
      for (const title of [
        'BatchNorm / LayerNorm vs dropout',
        'Early and late dropout',
        'R-Drop vs dropout',
      ]) {
        assert.ok(html.includes(title) && md.includes(title), `${title} missing`);
      }
      assert.equal(html.match(/<svg/g)?.length, 6, 'two inline plots per experiment');
      assert.doesNotMatch(html, /\s(src|href)=/, 'nothing outside the page');
      assert.equal(html.match(/<strong>Verdict\.<\/strong>/g)?.length, 3);
      assert.match(html, /dropout-lab experiment norm --seeds 2 --epochs 2 --train-limit 512/);
      // The verdicts quote the tables' numbers: R-Drop's mean val_acc appears in both.
      const rows = (await readFile(join(out, 'rdrop', 'results.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const acc = rows.find((e) => e['label'] === 'R-Drop α=1')!['val_acc'] as number[];
      const mean = ((acc[0]! + acc[1]!) / 2).toFixed(4);
      assert.ok(
        md.includes(`R-Drop's val_acc is`) && md.split(mean).length >= 3,
        `${mean} in table and verdict`,
      );
      const again = await cli(['report', '--quick', '--out', out, '--workers', '2']);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /36 already finished|14 already finished/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
);
