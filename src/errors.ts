/**
 * Typed errors, one class per kind, so the CLI can print one line (problem + fix) and callers can
 * `instanceof`-test. Messages are complete sentences that name the problem and how to fix it.
 */

/** Base class of every error dropout-lab throws on purpose. */
export class DropoutLabError extends Error {
  override name = 'DropoutLabError';
}

/** An argument is out of range or of the wrong kind (e.g. dropout p outside [0, 1], a bad CLI flag). */
export class ArgumentError extends DropoutLabError {
  override name = 'ArgumentError';
}

/** Tensor shapes do not fit an operation; the message names both shapes. */
export class ShapeError extends DropoutLabError {
  override name = 'ShapeError';
}

/** A data file is missing, truncated, corrupt, or fails its checksum. */
export class DataError extends DropoutLabError {
  override name = 'DataError';
}

/** Training diverged or hit a non-finite value. */
export class NumericError extends DropoutLabError {
  override name = 'NumericError';
}

/** A run was stopped on request (Ctrl-C or SIGTERM); `exitCode` is the shell's 128 + signal number. */
export class InterruptedError extends DropoutLabError {
  override name = 'InterruptedError';
  /** 130 for SIGINT, 143 for SIGTERM. */
  readonly exitCode: number;

  /** `signal` is what stopped the run, e.g. 'SIGINT'. */
  constructor(
    message: string,
    readonly signal: string = 'SIGINT',
    /** The checkpoint saved at the interrupt, if any. */
    readonly checkpointSaved = false,
  ) {
    super(message);
    this.exitCode = signal === 'SIGTERM' ? 143 : 130;
  }
}

/** Formats a shape the way error messages show it, e.g. `[2, 8]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
