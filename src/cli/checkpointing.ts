/**
 * Checkpoint files on disk (Node only): `saveCheckpoint` writes atomically (temp file in the same
 * directory, fsync, rename, fsync of the directory), so a crash or SIGKILL leaves either the previous
 * checkpoint or the new one, never a torn file; `loadCheckpoint` validates everything before use.
 * Also the CLI's `--checkpoint-every N` / `--resume DIR` logic. The format is in src/train/checkpoint.ts.
 */
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { mkdirs } from '../data/mkdirs.js';
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
      await mkdirs(dirname(path));
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
 * Reads the --resume checkpoints of every model of a run before any training: a model without one
 * starts from scratch (e.g. `compare` interrupted during its first model), but a directory holding
 * none of them is refused, as is a checkpoint that cannot be read. Without --resume: all undefined.
 */
export async function loadResumeCheckpoints(
  flags: CheckpointFlags,
  models: readonly string[],
  log: (line: string) => void,
): Promise<Map<string, TrainingCheckpoint | undefined>> {
  const found = new Map<string, TrainingCheckpoint | undefined>(models.map((m) => [m, undefined]));
  if (flags.resume === undefined) return found;
  const s = await stat(flags.resume).catch(() => null);
  if (!s?.isDirectory()) {
    throw new ArgumentError(
      `--resume ${flags.resume} is not a directory; pass the --out directory (or its checkpoints/ folder) of an earlier run.`,
    );
  }
  const folder = await checkpointsFolder(flags.resume);
  const missing: string[] = [];
  for (const model of models) {
    const file = join(folder, model + CHECKPOINT_EXT);
    if ((await stat(file).catch(() => null)) === null) missing.push(model);
    else found.set(model, await loadCheckpoint(file));
  }
  if (missing.length === models.length) {
    throw new ArgumentError(
      `--resume ${flags.resume} holds no checkpoint for ${models.join(' or ')} (looked in ${folder}); run with --checkpoint-every first.`,
    );
  }
  for (const model of missing)
    log(`note: no checkpoint for ${model} in ${folder} yet; it starts from scratch`);
  return found;
}

/**
 * Trainer options for model `model` of a CLI run. Checkpoints go to `<out>/checkpoints/<model>.dlck`
 * (or, without --out, back into the --resume directory); `resumeFrom` is the model's checkpoint from
 * {@link loadResumeCheckpoints}.
 */
export async function cliCheckpointOptions(
  flags: CheckpointFlags,
  model: string,
  outPath: string | undefined,
  resumeFrom?: TrainingCheckpoint,
): Promise<CliCheckpointOptions> {
  const opts: CliCheckpointOptions = {};
  if (resumeFrom !== undefined) opts.resumeFrom = resumeFrom;
  if (flags.checkpointEvery !== undefined) {
    const resumeFolder = flags.resume === undefined ? undefined : await checkpointsFolder(flags.resume);
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
