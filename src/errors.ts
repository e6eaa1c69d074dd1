/**
 * Typed errors, one class per kind, so the CLI can print one line (problem + fix) and callers can
 * `instanceof`-test or switch on the stable `code`. Messages are complete sentences that name the
 * problem and how to fix it, in the library's terms (option names, not command-line flags).
 */

/** Stable machine-readable codes of dropout-lab's errors (`err.code`); messages may change, codes do not. */
export type ErrorCode =
  | 'ERR_DROPOUT_LAB'
  | 'ERR_ARGUMENT'
  | 'ERR_SHAPE'
  | 'ERR_DATA'
  | 'ERR_NUMERIC'
  | 'ERR_OUT_OF_MEMORY'
  | 'ERR_TENSOR_DISPOSED'
  | 'ERR_GRAPH_RELEASED'
  | 'ERR_ASYNC_TIDY'
  | 'ERR_NO_PARAMETERS'
  | 'ERR_INTERRUPTED';

/** The `name` of each error class. */
export type ErrorName =
  'DropoutLabError' | 'ArgumentError' | 'ShapeError' | 'DataError' | 'NumericError' | 'InterruptedError';

/** Options of every dropout-lab error: a specific code (default: the class's) and the cause. */
export interface DropoutLabErrorOptions {
  /** A more specific stable code than the class's default. */
  code?: ErrorCode | undefined;
  /** The underlying error, when one was caught. */
  cause?: unknown;
}

/** Base class of every error dropout-lab throws on purpose. */
export class DropoutLabError extends Error {
  override readonly name: ErrorName = 'DropoutLabError';
  /** Stable code, e.g. `ERR_OUT_OF_MEMORY`. */
  readonly code: ErrorCode;

  /** An error with a one-line message naming the problem and the fix. */
  constructor(message: string, opts: DropoutLabErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = opts.code ?? (new.target as { defaultCode?: ErrorCode }).defaultCode ?? 'ERR_DROPOUT_LAB';
  }
}

/** An argument is out of range or of the wrong kind (e.g. dropout p outside [0, 1]). */
export class ArgumentError extends DropoutLabError {
  override readonly name = 'ArgumentError' as const;
  /** The code of errors of this class unless a specific one is given. */
  static readonly defaultCode: ErrorCode = 'ERR_ARGUMENT';
}

/** Tensor shapes do not fit an operation; the message names both shapes. */
export class ShapeError extends DropoutLabError {
  override readonly name = 'ShapeError' as const;
  /** The code of errors of this class unless a specific one is given. */
  static readonly defaultCode: ErrorCode = 'ERR_SHAPE';
}

/** A data file is missing, truncated, corrupt, or fails its checksum. */
export class DataError extends DropoutLabError {
  override readonly name = 'DataError' as const;
  /** The code of errors of this class unless a specific one is given. */
  static readonly defaultCode: ErrorCode = 'ERR_DATA';
}

/** Training diverged or hit a non-finite value. */
export class NumericError extends DropoutLabError {
  override readonly name = 'NumericError' as const;
  /** The code of errors of this class unless a specific one is given. */
  static readonly defaultCode: ErrorCode = 'ERR_NUMERIC';
}

/** A run was stopped on request (Ctrl-C or SIGTERM); `exitCode` is the shell's 128 + signal number. */
export class InterruptedError extends DropoutLabError {
  override readonly name = 'InterruptedError' as const;
  /** The code of errors of this class. */
  static readonly defaultCode: ErrorCode = 'ERR_INTERRUPTED';
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
