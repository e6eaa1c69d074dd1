// The layering rules (.dependency-cruiser.cjs, run by `npm run lint:deps` in `npm test`) must be able to
// fail: a tree with an upward import and a cycle is refused, naming both; the layered tree passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');

function cruise(cwd: string): { status: number | null; out: string } {
  const r = spawnSync(DEPCRUISE, ['src', '--config', join(ROOT, '.dependency-cruiser.cjs')], {
    cwd,
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'layers-'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext' } }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

test('an upward import and an import cycle fail the layering check, each named', () => {
  const dir = tree({
    'src/errors.ts': "import { run } from './cli/main.js';\nexport const x = run;\n",
    'src/cli/main.ts': 'export const run = 1;\n',
    'src/ops/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
    'src/ops/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
    'src/nn/layer.ts': "import { a } from '../ops/a.js';\nexport const layer = a;\n",
  });
  try {
    const r = cruise(dir);
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, /no-upward-from-errors: src\/errors\.ts → src\/cli\/main\.ts/);
    assert.match(r.out, /no-circular: src\/ops\/(a|b)\.ts/);
    assert.doesNotMatch(r.out, /src\/nn\/layer\.ts →/, 'a downward import is fine');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a folder outside the layers is refused until it is given a place', () => {
  const dir = tree({
    'src/misc/util.ts': "import { e } from '../errors.js';\nexport const u = e;\n",
    'src/errors.ts': 'export const e = 1;\n',
  });
  try {
    const r = cruise(dir);
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, /every-layer-is-known: src\/misc\/util\.ts/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
