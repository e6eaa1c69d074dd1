/**
 * The --out directory: checked for writability before any training starts (so a bad path fails in
 * a second, not after ten epochs), locked against a second process writing into it at the same
 * time, and removed again if this run created it and then failed, so no partial output is left
 * behind.
 */
import { readFileSync, rmSync } from 'node:fs';
import { open, readdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { mkdirs } from './mkdirs.js';
import { ArgumentError } from '../errors.js';
import { identityState, ownIdentity, type ProcessIdentity } from './pids.js';
import { removeStaleTempsIn } from './atomicWrite.js';

/** Name of the lock file inside an --out directory; it names the process writing there (PID, host, start time). */
export const LOCK_FILE = '.dropout-lab.lock';

/** A prepared output directory. */
export interface OutDir {
  readonly path: string;
  /** Removes what this run created and left empty (after a failure), and releases the lock. */
  cleanup(): Promise<void>;
  /** Releases the lock (the directory and its files stay). */
  release(): void;
}

/** Options of prepareOutDir. */
export interface OutDirOptions {
  /** The flag the path came from, for messages (default `--out`). */
  readonly flag?: string;
  /** Where notes go (e.g. a stale lock taken over). */
  readonly log?: (line: string) => void;
}

/** Throws a one-line ArgumentError when a path flag is empty or blank (an unset shell variable). */
export function checkPathFlag(flag: string, value: string): string {
  if (value.trim() === '') {
    throw new ArgumentError(
      `${flag} is empty; pass a directory (an empty value usually means an unset shell variable).`,
    );
  }
  return value;
}

/** The lock file's text: the holder's PID on the first line (as before), then its host and start time. */
function lockText(id: ProcessIdentity): string {
  return `${id.pid}\n${id.host ?? '-'} ${id.start ?? '-'}\n`;
}

/** The holder a lock file names; undefined fields where it says '-' or is an older one-line lock. */
function parseLock(text: string): ProcessIdentity {
  const [pidLine = '', second = ''] = text.split('\n');
  const [host, start] = second.trim().split(/\s+/);
  const known = (v: string | undefined): string | undefined =>
    v === undefined || v === '' || v === '-' ? undefined : v;
  return { pid: Number(pidLine.trim()), host: known(host), start: known(start) };
}

/**
 * Takes the lock of `dir`: creates LOCK_FILE naming this process (PID, host, start time), or takes
 * over one whose process is gone, or whose PID now belongs to another process (a PID is reused after
 * its process ends), with a one-line note. A live holder is refused with one line naming its PID.
 */
async function lock(dir: string, flag: string, log?: (line: string) => void): Promise<string> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(lockText(ownIdentity()));
      await handle.close();
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: ProcessIdentity;
    try {
      holder = parseLock(readFileSync(path, 'utf8'));
    } catch {
      // Removed in between: try again.
      continue;
    }
    const { pid } = holder;
    const valid = Number.isInteger(pid) && pid > 0;
    const state = valid ? identityState(holder) : 'gone';
    if (state === 'alive') {
      throw new ArgumentError(
        `${flag} ${dir} is in use by process ${pid} (lock file ${path}); wait for it to finish or choose another ${flag}.`,
      );
    }
    if (state === 'elsewhere') {
      throw new ArgumentError(
        `${flag} ${dir} is in use by process ${pid} on ${holder.host} (lock file ${path}); wait for it to finish, or delete the lock file if that process is gone.`,
      );
    }
    const why = state === 'reused' ? `gone (PID ${pid} now belongs to another process)` : 'gone';
    log?.(`note: took over the stale lock ${path} of process ${valid ? pid : '?'}, which is ${why}`);
    await rm(path, { force: true });
  }
  throw new ArgumentError(`${flag} ${dir}: cannot take the lock ${path}; another process keeps taking it.`);
}

/**
 * Creates (if needed), probes for writability and locks `dir`; throws a one-line ArgumentError
 * otherwise. The lock is released by `cleanup()`/`release()`, and at the latest when the process exits.
 */
export async function prepareOutDir(dir: string, opts: OutDirOptions = {}): Promise<OutDir> {
  const flag = opts.flag ?? '--out';
  checkPathFlag(flag, dir);
  const path = resolve(dir);
  let created: string | undefined;
  let lockPath: string;
  try {
    const s = await stat(path).catch(() => null);
    if (s !== null && !s.isDirectory()) throw new Error('it exists and is not a directory');
    if (s === null) created = await mkdirs(path);
    const probe = join(path, `.dropout-lab-probe-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (e) {
    if (created !== undefined) await rm(created, { recursive: true, force: true }).catch(() => {});
    const reason = e instanceof Error ? e.message.replace(/^[A-Z]+: /, '') : String(e);
    throw new ArgumentError(
      `${flag} ${dir} is not writable (${reason}); choose a directory you can write to.`,
    );
  }
  try {
    lockPath = await lock(path, flag, opts.log);
  } catch (e) {
    if (created !== undefined) await rm(created, { recursive: true, force: true }).catch(() => {});
    throw e;
  }
  // Temp files of a writer that was killed before its rename (a Ctrl-C, a crash): never outputs.
  const stale = [
    ...(await removeStaleTempsIn(path)),
    ...(await removeStaleTempsIn(join(path, 'checkpoints'))),
  ];
  if (stale.length > 0) {
    opts.log?.(`note: removed ${stale.length} temp file(s) an interrupted run left in ${path}`);
  }
  let held = true;
  // Ctrl-C, a fatal error or process.exit anywhere: the lock must not outlive us.
  const onExit = (): void => {
    if (held) rmSync(lockPath, { force: true });
  };
  process.on('exit', onExit);
  const release = (): void => {
    if (!held) return;
    held = false;
    process.off('exit', onExit);
    rmSync(lockPath, { force: true });
  };
  return {
    path,
    release,
    async cleanup() {
      release();
      // An empty checkpoints/ folder (a failed first save) is not an output.
      const ckpts = join(path, 'checkpoints');
      if ((await readdir(ckpts).catch(() => ['?'])).length === 0) await rmdir(ckpts).catch(() => {});
      if (created === undefined) return;
      // Up from --out to the outermost folder this run created, each only while empty.
      for (let d = path; ; d = dirname(d)) {
        if ((await readdir(d).catch(() => ['?'])).length !== 0) return;
        await rmdir(d).catch(() => {});
        if (d === created || dirname(d) === d) return;
      }
    },
  };
}
