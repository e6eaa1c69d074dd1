/** Parsing and validation of CLI flag values: each bad value is one line naming the flag and the fix. */
import { InvalidArgumentError } from 'commander';

/** A commander parser for a finite number in [min, max]. */
export function numberIn(flag: string, min: number, max: number, hint: string): (value: string) => number {
  return (value) => {
    const v = value.trim() === '' ? Number.NaN : Number(value);
    if (!Number.isFinite(v) || v < min || v > max) {
      throw new InvalidArgumentError(
        `${flag} must be a number in [${min}, ${max}], got '${value}'; ${hint}.`,
      );
    }
    return v;
  };
}

/** A commander parser for an integer ≥ min. */
export function integerAtLeast(flag: string, min: number, hint: string): (value: string) => number {
  return (value) => {
    const v = /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(v) || v < min) {
      throw new InvalidArgumentError(`${flag} must be an integer ≥ ${min}, got '${value}'; ${hint}.`);
    }
    return v;
  };
}

/** A commander parser for an integer in [min, max] (the library states its own limits without flag names). */
export function integerIn(flag: string, min: number, max: number): (value: string) => number {
  const range = max === min + 1 ? `${min} or ${max}` : `in ${min}…${max}`;
  const atLeast = integerAtLeast(flag, min, `use ${range}`);
  return (value) => {
    const v = atLeast(value);
    if (v > max) throw new InvalidArgumentError(`${flag} must be ${range}, got ${v}.`);
    return v;
  };
}

/** A commander parser for a positive finite number. */
export function positiveNumber(flag: string, hint: string): (value: string) => number {
  return (value) => {
    const v = value.trim() === '' ? Number.NaN : Number(value);
    if (!Number.isFinite(v) || v <= 0) {
      throw new InvalidArgumentError(`${flag} must be a positive number, got '${value}'; ${hint}.`);
    }
    return v;
  };
}

/** A commander parser for a path: an empty or blank value (an unset shell variable) is refused. */
export function pathFlag(flag: string): (value: string) => string {
  return (value) => {
    if (value.trim() === '') {
      throw new InvalidArgumentError(
        `${flag} is empty; pass a directory (an empty value usually means an unset shell variable).`,
      );
    }
    return value;
  };
}
