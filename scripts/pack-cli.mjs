// Puts the CLI's compiled code into packages/cli/dist before `npm pack` there (its prepack script):
// the root's build (made first when stale) minus declarations and source maps, so dropout-lab-cli
// holds the command line, the experiments, the queue client and the lab page, and the library's
// tarball need not. Usage: node scripts/pack-cli.mjs
/* global process, console -- Node globals; the lint config declares none for .mjs */
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, 'packages', 'cli', 'dist');
execFileSync(process.execPath, [path.join(root, 'scripts', 'ensure-built.mjs')], { stdio: 'inherit' });
rmSync(target, { recursive: true, force: true });
cpSync(path.join(root, 'dist'), target, {
  recursive: true,
  filter: (src) => !src.endsWith('.d.ts') && !src.endsWith('.map'),
});
console.log(`copied dist/ to ${path.relative(root, target)}`);
