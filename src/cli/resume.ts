/**
 * The CLI's `--checkpoint-every N` and `--resume DIR` on `train` and `compare`: where each model's
 * checkpoints go (`<out>/checkpoints/<model>.dlck`) and which checkpoints a resumed run continues.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ArgumentError } from '../errors.js';
import { CHECKPOINT_EXT, checkpointDir, loadCheckpoint } from '../node/checkpointFiles.js';
import type { TrainingCheckpoint } from '../train/checkpoint.js';
import type { Checkpointer } from '../train/trainer.js';

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
