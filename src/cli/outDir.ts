/**
 * The --out directory: checked for writability before any training starts (so a bad path fails in
 * a second, not after ten epochs), written atomically at the end, and removed again if this run
 * created it and then failed, so no partial output is left behind.
 */
import { mkdir, readdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ArgumentError } from '../errors.js';

/** A prepared output directory. */
export interface OutDir {
  readonly path: string;
  /** Removes the directory if this run created it and it is still empty (after a failure). */
  cleanup(): Promise<void>;
}

/**
 * mkdir -p one level at a time: Node's `mkdir(…, { recursive: true })` never returns for some
 * paths (e.g. under /proc), and a CLI must fail, not hang.
 */
async function mkdirs(path: string): Promise<void> {
  const parent = dirname(path);
  if (parent !== path && (await stat(parent).catch(() => null)) === null) await mkdirs(parent);
  await mkdir(path);
}

/** Creates (if needed) and probes `dir` for writability; throws a one-line ArgumentError otherwise. */
export async function prepareOutDir(dir: string): Promise<OutDir> {
  const path = resolve(dir);
  let created = false;
  try {
    const s = await stat(path).catch(() => null);
    if (s !== null && !s.isDirectory()) throw new Error('it exists and is not a directory');
    if (s === null) {
      await mkdirs(path);
      created = true;
    }
    const probe = join(path, `.dropout-lab-probe-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (e) {
    if (created) await rmdir(path).catch(() => {});
    const reason = e instanceof Error ? e.message.replace(/^[A-Z]+: /, '') : String(e);
    throw new ArgumentError(`--out ${dir} is not writable (${reason}); choose a directory you can write to.`);
  }
  return {
    path,
    async cleanup() {
      if (!created) return;
      const entries = await readdir(path).catch(() => ['?']);
      if (entries.length === 0) await rmdir(path).catch(() => {});
    },
  };
}
