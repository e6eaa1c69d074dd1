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

/** Formats a shape the way error messages show it, e.g. `[2, 8]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
