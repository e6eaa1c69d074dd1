/**
 * Checks of the argument forms JavaScript callers get wrong, since TypeScript's checks do not reach
 * them: an options object with a misspelt or unsupported key (`momentun`, `nesterov`), a shape spread
 * into numbers (`zeros(2, 3)`). Each refuses with one ArgumentError that names the fix, where a
 * silently ignored option would train something else than was asked for.
 */
import { ArgumentError, formatValue } from '../errors.js';
import type { Shape } from './shape.js';

/** Edit distance of two short strings (for "did you mean"). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** True for `{ … }` written as a literal (not an array, a tensor or a class instance). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Refuses an options argument that is not a plain object, or that has a key outside `known`; the
 * message names the closest known key, or what to do instead for a PyTorch option this library
 * leaves out on purpose (`unsupported`: key → advice). `undefined` passes (all defaults).
 */
export function checkOptions(
  where: string,
  opts: unknown,
  known: readonly string[],
  unsupported: Readonly<Record<string, string>> = {},
): void {
  if (opts === undefined) return;
  if (!isPlainObject(opts)) {
    throw new ArgumentError(
      `${where}: options must be an object such as { ${known[0] ?? ''}: … }, got ${formatValue(opts)}.`,
    );
  }
  for (const key of Object.keys(opts)) {
    if (known.includes(key)) continue;
    const advice = unsupported[key];
    if (advice !== undefined)
      throw new ArgumentError(`${where}: option '${key}' is not supported; ${advice}.`);
    const a = key.toLowerCase();
    const close = known.filter((k) => {
      const c = k.toLowerCase();
      // A typo (momentun), or the same stem (reduce for reduction).
      return distance(c, a) <= 2 || (a.length >= 5 && c.slice(0, 5) === a.slice(0, 5));
    });
    const hint = close.length > 0 ? `did you mean '${close[0]}'? ` : '';
    throw new ArgumentError(
      `${where}: unknown option '${key}'; ${hint}the options are ${known.map((k) => `'${k}'`).join(', ')}.`,
    );
  }
}

/**
 * Refuses a shape that is not one array of non-negative integers; `spread` is the argument after it,
 * which holds a number when the shape was spread (`zeros(2, 3)` for `zeros([2, 3])`).
 */
export function checkShapeArg(where: string, shape: unknown, spread?: unknown): Shape {
  if (typeof shape === 'number') {
    throw new ArgumentError(
      `${where}: pass the shape as one array, e.g. ${where}([${[shape, spread].filter((d) => typeof d === 'number').join(', ')}]), not as separate numbers.`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new ArgumentError(
      `${where}: a shape is an array of non-negative integers such as [2, 3], got ${formatValue(shape)}.`,
    );
  }
  return shape as Shape;
}
