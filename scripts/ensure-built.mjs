// Builds dist/ when it is missing or older than a source file, so the quick start (`npm ci && npm run
// compare`) works without an install-time `prepare` script, which npm 11 flags in published packages.
// Usage: node scripts/ensure-built.mjs   (the npm scripts that run dist/ call it first)
/* global process, console -- Node globals; the lint config declares none for .mjs */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outputs = ['dist/cli/main.js', 'dist/index.js', 'dist/web/index.html'].map((f) => path.join(root, f));

/** Modification time of a file in ms, or -1 when it does not exist. */
function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/** The newest modification time of any file under `dir`. */
function newest(dir) {
  let t = mtime(dir);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : mtime(p));
  }
  return t;
}

const built = Math.min(...outputs.map(mtime));
if (built < 0 || newest(path.join(root, 'src')) > built) {
  console.error(built < 0 ? 'dist/ is missing: building it first.' : 'src/ changed: rebuilding dist/ first.');
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build'], {
    cwd: root,
    stdio: ['ignore', process.stderr, 'inherit'],
  });
}
