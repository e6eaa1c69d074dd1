/**
 * Crash-safe file writes for the CLI: readers (and a rerun after Ctrl-C or a full disk) see either the
 * old file or the complete new one, never a truncated one.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes `data` to `path` atomically (temp file in the same directory + fsync + rename); on failure no temp file is left and the error is rethrown. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  // The temp file must live in the target's directory: rename(2) is only atomic within one file
  // system. The leading dot hides it from globs, and pid + random suffix keep concurrent writers of
  // the same target from clobbering each other's temp file.
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
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
