/**
 * Checkpoint files on disk (Node only): `saveCheckpoint` writes atomically (temp file in the same
 * directory, fsync, rename, fsync of the directory), so a crash or SIGKILL leaves either the previous
 * checkpoint or the new one, never a torn file; `loadCheckpoint` validates everything before use.
 * The format is in src/train/checkpoint.ts; the CLI's `--checkpoint-every` / `--resume` are in src/cli/resume.ts.
 */
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { mkdirs } from './mkdirs.js';
import { basename, dirname, join, resolve } from 'node:path';
import { DataError } from '../errors.js';
import {
  MAX_CHECKPOINT_HEADER_BYTES,
  MAX_CHECKPOINT_PAYLOAD_BYTES,
  decodeCheckpoint,
  encodeCheckpoint,
  type TrainingCheckpoint,
} from '../train/checkpoint.js';
import type { Checkpointer } from '../train/trainer.js';
import { tempOwner, writeFileAtomic } from './atomicWrite.js';
import { isAlive } from './pids.js';

/** File extension of checkpoint files. */
export const CHECKPOINT_EXT = '.dlck';

/** Largest file loadCheckpoint reads: preamble + largest header + largest payload. */
const MAX_FILE_BYTES = 48 + MAX_CHECKPOINT_HEADER_BYTES + MAX_CHECKPOINT_PAYLOAD_BYTES;

/**
 * Removes temp files a killed writer left beside `path` (writeFileAtomic names them
 * `.<name>.<pid>.<random>.tmp`); temps of live processes, ours included, are left alone.
 */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  const removed: string[] = [];
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    const pid = tempOwner(entry);
    if (!entry.startsWith(prefix) || pid === undefined || pid === process.pid || isAlive(pid)) continue;
    await rm(join(dir, entry), { force: true });
    removed.push(entry);
  }
  return removed;
}

/** Writes `checkpoint` to `path` atomically, first removing temp files left by killed writers. */
export async function saveCheckpoint(path: string, checkpoint: TrainingCheckpoint): Promise<void> {
  const bytes = encodeCheckpoint(checkpoint);
  await removeStaleTemps(path);
  try {
    await writeFileAtomic(path, bytes);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new DataError(
      `cannot write checkpoint ${path} (${reason}); the previous checkpoint is kept. Fix: free disk space or choose a writable --out.`,
    );
  }
}

/** Reads and validates a checkpoint file; every problem is a one-line DataError naming the file. */
export async function loadCheckpoint(path: string): Promise<TrainingCheckpoint> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error('it is not a regular file');
    size = s.size;
  } catch (e) {
    const reason = e instanceof Error ? e.message.replace(/^[A-Z]+: /, '') : String(e);
    throw new DataError(`checkpoint ${path} cannot be read (${reason}). Fix: check the path.`);
  }
  if (size > MAX_FILE_BYTES) {
    throw new DataError(
      `${path} is ${size} bytes, over the ${MAX_FILE_BYTES}-byte checkpoint limit; it is not a checkpoint. Fix: check the path.`,
    );
  }
  const bytes = await readFile(path);
  return decodeCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

/** A Checkpointer that keeps the latest checkpoint at `dir/<name>.dlck`, creating `dir` on first use. */
export function checkpointDir(dir: string, name = 'checkpoint'): Checkpointer & { readonly path: string } {
  const path = join(resolve(dir), name + CHECKPOINT_EXT);
  return {
    path,
    async save(checkpoint) {
      await mkdirs(dirname(path));
      await saveCheckpoint(path, checkpoint);
    },
  };
}
