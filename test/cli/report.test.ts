/**
 * `dropout-lab report --quick`: the deck's claims, the book's seven exercises and the six
 * experiments beyond the deck on tiny subsets, then one self-contained HTML page (inline SVG plots,
 * no external reference) and its Markdown twin, each section with its question, command, mean ± std
 * table and a verdict quoting the measured numbers; runs two sections share are trained once, and a
 * rerun reuses the finished runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_DATA_DIR } from '../../src/node/data/fashionMnistFiles.js';
import { runCli } from '../helpers/cli.js';
import { requires } from '../helpers/environment.js';

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
      const r = await runCli(['report', '--quick', '--out', out, '--workers', '2'], { timeoutMs: 900_000 });
      assert.equal(r.code, 0, r.stderr);
      const html = await readFile(join(out, 'report.html'), 'utf8');
      const md = await readFile(join(out, 'report.md'), 'utf8');
      const titles = [
        'Claim: dropout beats the plain MLP',
        'Claim: dropout shines when capacity exceeds the data',
        ...[1, 2, 3, 4, 5, 6, 7].map((n) => `Exercise ${n}:`),
        'BatchNorm / LayerNorm vs dropout',
        'Early and late dropout',
        'R-Drop vs dropout',
        'Spatial dropout and DropBlock on a CNN',
        'Transformer dropout (~10%) and DropPath on a tiny ViT',
        'MLP, CNN and ViT, with and without dropout',
      ];
      for (const title of titles) {
        assert.ok(html.includes(title) && md.includes(title), `${title} missing`);
      }
      // Two plots per section, plus ex2's gap, ex3's two variances and ex4's MC-error curve.
      assert.equal(html.match(/<svg/g)?.length, 2 * titles.length + 4, 'inline plots');
      assert.doesNotMatch(html, /\s(src|href)=/, 'nothing outside the page');
      assert.equal(html.match(/<strong>Verdict\.<\/strong>/g)?.length, titles.length);
      assert.match(html, /dropout-lab experiment norm --seeds 2 --epochs 2 --train-limit 512/);
      assert.match(
        html,
        /dropout-lab experiment ex4-test-time --seeds 2 --epochs 2 --samples 10 --train-limit 512/,
      );
      // Exercise 4's verdict quotes its measured errors: weight scaling's mean error is in it.
      const ex4 = (await readFile(join(out, 'ex4-test-time', 'results.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)[0]!;
      const ws = ex4['ws_error'] as number[];
      const wsMean = ((ws[0]! + ws[1]!) / 2).toFixed(4);
      const ex4Verdict = md.split('### Exercise 4')[1]!.split('**Verdict.**')[1]!.split('\n')[0]!;
      assert.ok(ex4Verdict.includes(`against ${wsMean}`), `${wsMean} in: ${ex4Verdict}`);
      // The book's two MLPs are trained once for every section that reads them: 4 runs, not 4 per section.
      const trained = [...r.stdout.matchAll(/(\d+) to run/g)].reduce((n, m) => n + Number(m[1]), 0);
      const unique = (await readdir(join(out, 'runs'))).filter((f) => f.endsWith('.jsonl')).length;
      assert.equal(trained, unique, 'each run trained once');
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
      const again = await runCli(['report', '--quick', '--out', out, '--workers', '2'], {
        timeoutMs: 900_000,
      });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /36 already finished|14 already finished/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
);
