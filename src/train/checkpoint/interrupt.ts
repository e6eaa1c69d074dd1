/**
 * Stopping a run on request (Ctrl-C, SIGTERM, an AbortSignal): the checkpoint of the exact position
 * first, when there is somewhere to save it, then an InterruptedError naming where the run stopped.
 */
import { InterruptedError } from '../../errors.js';
import type { GeneratorState } from '../../random/generator.js';
import { captureCheckpoint } from './capture.js';
import type { RunPosition } from './position.js';
import type { TrainingState } from './state.js';
import type { Checkpointer } from './types.js';

/**
 * Saves `run`'s checkpoint at `at` through `checkpointer` (if any) and rejects with an
 * InterruptedError whose signal is `reason` ('SIGINT' or 'SIGTERM'). `epochData` as for
 * `captureCheckpoint`; `at.seconds` should hold the time spent on the epoch so far.
 */
export async function interrupt(
  run: TrainingState,
  at: RunPosition,
  epochData: GeneratorState | null,
  reason: unknown,
  checkpointer: Checkpointer | undefined,
): Promise<never> {
  if (checkpointer !== undefined) await checkpointer.save(await captureCheckpoint(run, at, epochData));
  throw new InterruptedError(
    at.step === 0
      ? `interrupted after epoch ${at.epoch}`
      : `interrupted at epoch ${at.epoch + 1}, step ${at.step}`,
    String(reason),
    checkpointer !== undefined,
  );
}
