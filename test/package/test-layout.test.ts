/**
 * Every test file sits where the npm scripts look for it: the runners are given shell globs
 * (test/unit/<layer>/, test/golden/, …; Node 20's --test takes no recursive glob), so a test file
 * anywhere else would silently never run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const TEST = join(ROOT, 'test');

/** Every *.test.ts under `dir`, as a path relative to test/ with forward slashes. */
function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return testFiles(p);
    return e.name.endsWith('.test.ts') ? [relative(TEST, p).split(sep).join('/')] : [];
  });
}

/** The globs of `npm test`, as regular expressions over paths relative to test/. */
function globsOfNpmTest(): RegExp[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const globs = pkg.scripts['test']!.split(/\s+/).filter(
    (w) => w.startsWith('test/') && w.endsWith('.test.ts'),
  );
  return globs.map(
    (g) => new RegExp(`^${g.slice('test/'.length).replaceAll('.', '\\.').replaceAll('*', '[^/]+')}$`),
  );
}

test('npm test runs every *.test.ts under test/ (none outside its folders of kinds)', () => {
  const globs = globsOfNpmTest();
  assert.ok(globs.length >= 6, `npm test names its folders: ${globs.join(', ')}`);
  const stray = testFiles(TEST).filter((f) => !globs.some((g) => g.test(f)));
  assert.deepEqual(stray, [], 'move these into test/{unit/<layer>,golden,backends,package,cli,e2e}/');
});
