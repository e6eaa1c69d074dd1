/**
 * The one way dropout-lab creates directories (Node only): `mkdir -p` one level at a time, bounded in
 * depth. Node's `mkdir(…, { recursive: true })` never settles for some paths (e.g. under /proc, where
 * mkdir reports ENOENT for a parent that stat says exists, and libuv retries forever at 100% CPU), and a
 * command-line tool must fail, not hang.
 */
import { mkdir, rmdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** Deeper paths than this are refused rather than walked (a loop guard, far above any real path). */
const MAX_DEPTH = 256;

/**
 * Creates `path` and any missing parents; resolves with the outermost directory it created (for
 * cleanup after a failure), or undefined when `path` already was a directory. Rejects with the
 * underlying error (ENOENT, EACCES, ENOTDIR, …) instead of retrying.
 */
export async function mkdirs(path: string): Promise<string | undefined> {
  const target = resolve(path);
  // Walk up to the first existing ancestor, then create downwards one level at a time.
  const missing: string[] = [];
  let dir = target;
  for (;;) {
    const s = await stat(dir).catch(() => null);
    if (s !== null) {
      if (!s.isDirectory()) throw new Error(`${dir} exists and is not a directory`);
      break;
    }
    missing.push(dir);
    const parent = dirname(dir);
    if (parent === dir || missing.length > MAX_DEPTH) {
      throw new Error(`${target} has no existing ancestor within ${MAX_DEPTH} levels`);
    }
    dir = parent;
  }
  const created: string[] = [];
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      await mkdir(missing[i]!);
      created.push(missing[i]!);
    } catch (e) {
      // Another process may have created it in between; anything else is a real failure, and what
      // this call created is removed again so a failure leaves no empty folders behind.
      const raced =
        (e as NodeJS.ErrnoException).code === 'EEXIST' &&
        (await stat(missing[i]!).catch(() => null))?.isDirectory() === true;
      if (!raced) {
        for (const d of created.reverse()) await rmdir(d).catch(() => undefined);
        throw e;
      }
    }
  }
  return created[0];
}
