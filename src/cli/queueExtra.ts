/**
 * The queue's libraries (bullmq, ioredis) are the CLI's optional extra: they bring a native addon and
 * an install script that a user who never runs `--queue`/`worker` should not get. The queue modules
 * are imported on first use, and a missing extra is one line naming the install command.
 */
import { DropoutLabError } from '../errors.js';

const EXTRA = ['bullmq', 'ioredis'];

/** True when `err` is Node failing to find one of the queue's packages. */
function missingExtra(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return (
    e?.code === 'ERR_MODULE_NOT_FOUND' &&
    typeof e.message === 'string' &&
    EXTRA.some((name) => e.message!.toString().includes(`'${name}'`))
  );
}

/** Imports a queue module through `load`, turning a missing bullmq/ioredis into one line that names the fix. */
export async function importQueueExtra<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (!missingExtra(err)) throw err;
    throw new DropoutLabError(
      'The Redis queue needs bullmq and ioredis, which dropout-lab-cli leaves out (they build a native addon). Fix: npm install bullmq ioredis (where dropout-lab-cli is installed).',
    );
  }
}
