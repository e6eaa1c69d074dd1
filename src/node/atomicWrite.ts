/**
 * Crash-safe file writes for the CLI: readers (and a rerun after Ctrl-C or a full disk) see either the
 * old file or the complete new one, never a truncated one.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DataError } from '../errors.js';
import { isAlive } from './pids.js';

/** Writes `data` to `path` atomically (temp file in the same directory + fsync + rename); on failure no temp file is left and the error is rethrown. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  // The temp file must live in the target's directory: rename(2) is only atomic within one file
  // system. The leading dot hides it from globs, and pid + random suffix keep concurrent writers of
  // the same target from clobbering each other's temp file.
  const dir = dirname(path);
  const tmp = tempName(path);
  let handle: FileHandle | undefined;
  try {
    // 'wx' fails rather than following or truncating something that already sits at the temp name.
    handle = await open(tmp, 'wx');
    await handle.writeFile(data);
    // fsync before rename: otherwise a power loss can leave the renamed file empty on ext4/xfs.
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (err) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    // force: the temp file may never have been created (e.g. the directory does not exist).
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDir(dir);
}

/** One file of a set written together by {@link writeFilesAtomic}. */
export interface FileToWrite {
  readonly path: string;
  readonly data: string | Uint8Array;
}

/** Errno codes that mean "this disk cannot take the write", each with what to do about it. */
const DISK_PROBLEMS: Record<string, string> = {
  ENOSPC: 'no space is left on the disk holding',
  EDQUOT: 'the disk quota is exceeded on the disk holding',
  EROFS: 'the file system is read-only at',
  EIO: 'an I/O error occurred on the disk holding',
};

/**
 * A one-line DataError for a failed write of `path` when the disk is the problem (full, over quota,
 * read-only); other errors come back unchanged.
 */
export function diskError(path: string, err: unknown, kept: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const problem = code === undefined ? undefined : DISK_PROBLEMS[code];
  if (problem === undefined) return err;
  return new DataError(
    `cannot write ${path}: ${problem} ${dirname(path)} (${code}); ${kept}. Fix: free space on that disk or choose --out on another disk.`,
  );
}

/**
 * Writes several files so that either all of them are replaced or none is: every temp file is
 * written and fsynced first (the step that fails on a full disk), and only then renamed into place.
 * On failure every temp file is removed and a full disk becomes one {@link diskError} line.
 */
export async function writeFilesAtomic(files: readonly FileToWrite[]): Promise<void> {
  const temps: string[] = [];
  let current = '';
  try {
    for (const f of files) {
      current = f.path;
      const tmp = tempName(f.path);
      temps.push(tmp);
      const handle = await open(tmp, 'wx');
      try {
        await handle.writeFile(f.data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  } catch (err) {
    await Promise.all(temps.map((t) => rm(t, { force: true }).catch(() => undefined)));
    throw diskError(current, err, 'none of the files written together with it was changed');
  }
  for (const [i, f] of files.entries()) await rename(temps[i]!, f.path);
  for (const dir of new Set(files.map((f) => dirname(f.path)))) await syncDir(dir);
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** The PID of the process that wrote temp file `name` (as tempName spells it), or undefined for any other name. */
export function tempOwner(name: string): number | undefined {
  const m = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
  return m === null ? undefined : Number(m[1]);
}

/**
 * Removes the temp files in `dir` whose writer is gone (a process killed between writing and
 * renaming); a live process's temps, ours included, are left alone. Returns the names removed.
 */
export async function removeStaleTempsIn(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = tempOwner(name);
    if (pid === undefined || pid === process.pid || isAlive(pid)) continue;
    await rm(join(dir, name), { force: true }).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}

/** Best-effort fsync of a directory so the rename itself survives a crash; unsupported on some platforms (Windows), hence ignored. */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // The data is already in place; durability of the directory entry is a bonus, not a requirement.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
