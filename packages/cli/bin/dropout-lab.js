#!/usr/bin/env node
// The `dropout-lab` command. Published, the CLI's compiled code sits beside this file in ../dist
// (scripts/pack-cli.mjs copies it there at pack time); in the repository (npm workspaces, so that
// `npx dropout-lab` works after `npm ci`) it runs the root's build, building it first when stale.
/* global process, URL -- Node globals; the lint config declares none for plain .js here */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const packed = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(packed)) {
  await import(packed.href);
} else {
  const root = new URL('../../../', import.meta.url);
  execFileSync(process.execPath, [new URL('scripts/ensure-built.mjs', root).pathname], { stdio: 'inherit' });
  await import(new URL('dist/cli/main.js', root).href);
}
