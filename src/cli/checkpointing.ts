/**
 * Checkpoint files on disk (Node only): `saveCheckpoint` writes atomically (temp file in the same
 * directory, fsync, rename, fsync of the directory), so a crash or SIGKILL leaves either the previous
 * checkpoint or the new one, never a torn file; `loadCheckpoint` validates everything before use.
 * Also the CLI's `--checkpoint-every N` / `--resume DIR` logic. The format is in src/train/checkpoint.ts.
 */
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ArgumentError, DataError } from '../errors.js';
import {
  MAX_CHECKPOINT_HEADER_BYTES,
  MAX_CHECKPOINT_PAYLOAD_BYTES,
  decodeCheckpoint,
  encodeCheckpoint,
  type TrainingCheckpoint,
} from '../train/checkpoint.js';
import type { Checkpointer } from '../train/trainer.js';
import { writeFileAtomic } from './atomicWrite.js';

/** File extension of checkpoint files. */
export const CHECKPOINT_EXT = '.dlck';

/** Largest file loadCheckpoint reads: preamble + largest header + largest payload. */
const MAX_FILE_BYTES = 48 + MAX_CHECKPOINT_HEADER_BYTES + MAX_CHECKPOINT_PAYLOAD_BYTES;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp files a killed writer left beside `path` (writeFileAtomic names them
 * `.<name>.<pid>.<random>.tmp`); temps of live processes, ours included, are left alone.
 */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  const removed: string[] = [];
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (!entry.startsWith(prefix) || !entry.endsWith('.tmp')) continue;
    const pid = Number(entry.slice(prefix.length).split('.')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
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
      await mkdir(dirname(path), { recursive: true });
      await saveCheckpoint(path, checkpoint);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The CLI: --checkpoint-every N and --resume DIR on `train` and `compare`.

/** The checkpoint flags of a run. */
export interface CheckpointFlags {
  readonly checkpointEvery?: number | undefined;
  readonly resume?: string | undefined;
}

/** The Trainer options one model of a CLI run gets. */
export interface CliCheckpointOptions {
  checkpointEvery?: number | undefined;
  checkpointer?: Checkpointer | undefined;
  resumeFrom?: TrainingCheckpoint | undefined;
}

/** `DIR/checkpoints` when DIR is an --out directory holding one, else DIR itself. */
async function checkpointsFolder(dir: string): Promise<string> {
  const nested = join(resolve(dir), 'checkpoints');
  const s = await stat(nested).catch(() => null);
  return s?.isDirectory() ? nested : resolve(dir);
}

/**
 * Trainer options for model `model` of a CLI run. Checkpoints go to `<out>/checkpoints/<model>.dlck`
 * (or, without --out, back into the --resume directory); --resume DIR reads `<model>.dlck` from DIR
 * or DIR/checkpoints and refuses a checkpoint of another model or hyperparameters.
 */
export async function cliCheckpointOptions(
  flags: CheckpointFlags,
  model: string,
  outPath: string | undefined,
): Promise<CliCheckpointOptions> {
  const opts: CliCheckpointOptions = {};
  let resumeFolder: string | undefined;
  if (flags.resume !== undefined) {
    const s = await stat(flags.resume).catch(() => null);
    if (!s?.isDirectory()) {
      throw new ArgumentError(
        `--resume ${flags.resume} is not a directory; pass the --out directory (or its checkpoints/ folder) of an earlier run.`,
      );
    }
    resumeFolder = await checkpointsFolder(flags.resume);
    const file = join(resumeFolder, model + CHECKPOINT_EXT);
    if ((await stat(file).catch(() => null)) === null) {
      throw new ArgumentError(
        `--resume ${flags.resume} holds no checkpoint for ${model} (looked for ${file}); run with --checkpoint-every first.`,
      );
    }
    opts.resumeFrom = await loadCheckpoint(file);
  }
  if (flags.checkpointEvery !== undefined) {
    const folder = outPath !== undefined ? join(outPath, 'checkpoints') : resumeFolder;
    if (folder === undefined) {
      throw new ArgumentError(
        '--checkpoint-every needs somewhere to write: add --out DIR (checkpoints go to DIR/checkpoints) or --resume DIR.',
      );
    }
    opts.checkpointEvery = flags.checkpointEvery;
    opts.checkpointer = checkpointDir(folder, model);
  }
  return opts;
}
