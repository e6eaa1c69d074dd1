/**
 * The lab's settings, described once: each field's URL key (the CLI's option name, so a shared link
 * reads like a command line: `?model=dropout-mlp&dropout1=0.2&epochs=3`), its form element, its limits
 * (the same as the CLI's parsers in src/cli/options.ts) and its default. The page sets the inputs'
 * `name`, `min`, `max` and `step` from this table, so the HTML limits and the script's cannot disagree,
 * and it parses the form and the query string with the same function. Pure: unit-tested in Node.
 */
import { LAB_MODELS, type LabModel } from './protocol.js';

/** A numeric setting. */
export interface NumberField {
  /** URL key and form `name`: the CLI's option name without the dashes. */
  readonly key: string;
  /** Form element id. */
  readonly id: string;
  /** Words for messages. */
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** When true the value must be greater than `min` (the CLI's "positive number"). */
  readonly exclusiveMin?: boolean;
  readonly integer: boolean;
  readonly defaultValue: number;
  /** Step of the arrow keys: 1 for integers; a float step relative to 0 (min = 0 keeps 0.1 → 0.11). */
  readonly step: number;
  /** Which panel validates it: the run form, or the MC gallery. */
  readonly group: 'run' | 'gallery';
}

const MAX_SEED = Number.MAX_SAFE_INTEGER;

/** The numeric settings, in form order. */
export const NUMBER_FIELDS: readonly NumberField[] = [
  {
    key: 'dropout1',
    id: 'p1',
    label: 'p₁ (dropout 1)',
    min: 0,
    max: 1,
    integer: false,
    defaultValue: 0.5,
    step: 0.05,
    group: 'run',
  },
  {
    key: 'dropout2',
    id: 'p2',
    label: 'p₂ (dropout 2)',
    min: 0,
    max: 1,
    integer: false,
    defaultValue: 0.5,
    step: 0.05,
    group: 'run',
  },
  {
    key: 'batch-size',
    id: 'batch',
    label: 'Batch size',
    min: 1,
    max: 60000,
    integer: true,
    defaultValue: 256,
    step: 1,
    group: 'run',
  },
  {
    key: 'lr',
    id: 'lr',
    label: 'Learning rate',
    min: 0,
    exclusiveMin: true,
    max: 100,
    integer: false,
    defaultValue: 0.1,
    step: 0.01,
    group: 'run',
  },
  {
    key: 'epochs',
    id: 'epochs',
    label: 'Epochs',
    min: 1,
    max: 1000,
    integer: true,
    defaultValue: 10,
    step: 1,
    group: 'run',
  },
  {
    key: 'seed',
    id: 'seed',
    label: 'Seed',
    min: 0,
    max: MAX_SEED,
    integer: true,
    defaultValue: 0,
    step: 1,
    group: 'run',
  },
  {
    key: 'train-limit',
    id: 'train-limit',
    label: 'Train subset',
    min: 1,
    max: 60000,
    integer: true,
    defaultValue: 60000,
    step: 1,
    group: 'run',
  },
  {
    key: 'val-limit',
    id: 'val-limit',
    label: 'Validation subset',
    min: 1,
    max: 10000,
    integer: true,
    defaultValue: 10000,
    step: 1,
    group: 'run',
  },
  // The gallery's T is the `mc` command's --samples; the image count has no CLI twin.
  {
    key: 'images',
    id: 'gcount',
    label: 'Images',
    min: 1,
    max: 200,
    integer: true,
    defaultValue: 24,
    step: 1,
    group: 'gallery',
  },
  {
    key: 'samples',
    id: 'gpasses',
    label: 'Passes T',
    min: 2,
    max: 200,
    integer: true,
    defaultValue: 30,
    step: 1,
    group: 'gallery',
  },
];

/** URL key of the model select. */
export const MODEL_KEY = 'model';
/** The model a fresh page starts with. */
export const DEFAULT_MODEL: LabModel = 'dropout-mlp';

/** Every setting as a value, keyed by URL key. */
export type Settings = Readonly<Record<string, number>> & { readonly model: LabModel };

/** A value, or the one-line reason it is not valid (naming the field and the fix). */
export type Parsed =
  { readonly ok: true; readonly value: number } | { readonly ok: false; readonly error: string };

/** The limits of a field in words, e.g. "an integer in [1, 60000]" or "a number in (0, 100]". */
export function describeLimits(f: NumberField): string {
  const open = f.exclusiveMin === true ? '(' : '[';
  const max = f.max === MAX_SEED ? '2^53 − 1' : String(f.max);
  return `${f.integer ? 'an integer' : 'a number'} in ${open}${f.min}, ${max}]`;
}

/** Parses one field's text as the CLI would. */
export function parseField(f: NumberField, text: string): Parsed {
  const v = text.trim() === '' ? Number.NaN : Number(text);
  const ok =
    Number.isFinite(v) &&
    (f.exclusiveMin === true ? v > f.min : v >= f.min) &&
    v <= f.max &&
    (!f.integer || Number.isSafeInteger(v));
  if (ok) return { ok, value: v };
  const got = text.trim() === '' ? 'nothing' : `'${text.slice(0, 24)}'`;
  return { ok: false, error: `${f.label} must be ${describeLimits(f)}; got ${got}.` };
}

/** Parses a model name. */
export function parseModel(text: string): { ok: true; value: LabModel } | { ok: false; error: string } {
  if ((LAB_MODELS as readonly string[]).includes(text)) return { ok: true, value: text as LabModel };
  return { ok: false, error: `Model must be one of ${LAB_MODELS.join(', ')}; got '${text.slice(0, 32)}'.` };
}

/** The query string of `values` (model first, then the table's order): the shareable link. */
export function toQuery(values: Readonly<Record<string, string>>): string {
  const q = new URLSearchParams();
  for (const key of [MODEL_KEY, ...NUMBER_FIELDS.map((f) => f.key)]) {
    const v = values[key];
    if (v !== undefined) q.set(key, v);
  }
  return q.toString();
}

/** The settings a query string names (known keys only; values are text, validated like typed input). */
export function fromQuery(search: string): Record<string, string> {
  const q = new URLSearchParams(search);
  const out: Record<string, string> = {};
  for (const key of [MODEL_KEY, ...NUMBER_FIELDS.map((f) => f.key)]) {
    const v = q.get(key);
    if (v !== null) out[key] = v;
  }
  return out;
}
