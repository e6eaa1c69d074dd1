/**
 * One option's value as every surface reads it (a CLI flag, a sweep's list, the lab's field): its
 * limits in words, the parse of its text, and the one-line message naming the flag and the fix.
 */
import type { NumberOption, RunOption } from './optionTable.js';

/** A value, or the one-line reason it is not valid (naming the option and the fix). */
export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const MAX_SAFE = '2^53 − 1';

/** The limits of an option in words, e.g. "an integer in [1, 60000]" (plural: "integers in …"). */
export function describeLimits(o: RunOption, plural = false): string {
  if (o.kind === 'choice') return `${plural ? 'among' : 'one of'} ${o.choices.join(', ')}`;
  const open = o.exclusiveMin === true ? '(' : '[';
  const close = o.exclusiveMax === true ? ')' : ']';
  const max = o.max === Number.MAX_SAFE_INTEGER ? MAX_SAFE : String(o.max);
  const what = o.kind === 'integer' ? (plural ? 'integers' : 'an integer') : plural ? 'numbers' : 'a number';
  return `${what} in ${open}${o.min}, ${max}${close}`;
}

/** The limits as a flag's message says them: "an integer ≥ 1 and ≤ 10000", "a positive number ≤ 100". */
function describeForFlag(o: RunOption): string {
  if (o.kind === 'choice' || o.exclusiveMax === true) return describeLimits(o);
  const upTo = o.max === Number.MAX_SAFE_INTEGER ? '' : ` and ≤ ${o.max}`;
  if (o.kind === 'integer') return `an integer ≥ ${o.min}${upTo}`;
  if (o.exclusiveMin === true && o.min === 0) return `a positive number ≤ ${o.max}`;
  return describeLimits(o);
}

/** True when `v` is within a numeric option's limits. */
export function withinLimits(o: NumberOption, v: number): boolean {
  return (
    Number.isFinite(v) &&
    (o.exclusiveMin === true ? v > o.min : v >= o.min) &&
    (o.exclusiveMax === true ? v < o.max : v <= o.max) &&
    (o.kind === 'number' || Number.isSafeInteger(v))
  );
}

/** Parses one option's text as every surface does; the message names the flag and the fix. */
export function parseOption(o: RunOption, text: string): Parsed<number | string> {
  if (o.kind === 'choice') {
    if (o.choices.includes(text)) return { ok: true, value: text };
  } else {
    const v = text.trim() === '' ? Number.NaN : Number(text);
    if (withinLimits(o, v)) return { ok: true, value: v };
  }
  const got = text.trim() === '' ? 'nothing' : `'${text.slice(0, 32)}'`;
  return {
    ok: false,
    error: `${o.flag} must be ${describeForFlag(o)}, got ${got}; e.g. ${o.flag} ${o.example}.`,
  };
}

/** True when `v` is valid input for `o` (0 for a "zeroMeans" default is valid too). */
export function validValue(o: RunOption, v: unknown): boolean {
  if (o.kind === 'choice') return typeof v === 'string' && o.choices.includes(v);
  if (typeof v !== 'number') return false;
  return withinLimits(o, v) || (o.zeroMeans !== undefined && v === 0);
}
