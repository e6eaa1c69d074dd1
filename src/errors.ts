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

/**
 * Quotes a value the way error messages show what they got: numbers plain (`0.5`, `NaN`), anything
 * else with its kind (`"0.5" (a string)`, `[2, 3] (an array)`), so a wrong type is never mistaken for
 * a wrong number.
 */
export function formatValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string')
    return `${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)} (a string)`;
  if (value === undefined || value === null) return String(value);
  if (typeof value === 'boolean') return `${value} (a boolean)`;
  if (typeof value === 'bigint') return `${value}n (a bigint)`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return `${String(value)} (a symbol)`;
  if (Array.isArray(value)) {
    const items = value
      .slice(0, 8)
      .map((v) => (typeof v === 'number' ? String(v) : typeof v === 'string' ? JSON.stringify(v) : typeof v));
    return `[${items.join(', ')}${value.length > 8 ? ', …' : ''}] (an array)`;
  }
  const name = (value as object).constructor?.name;
  if (name !== undefined && name !== 'Object') return `a ${name}`;
  const keys = Object.keys(value as object);
  return `{${keys.slice(0, 6).join(', ')}${keys.length > 6 ? ', …' : ''}} (an object)`;
}
