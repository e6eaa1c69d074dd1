/**
 * The lab's settings, described once: each field's URL key (the CLI's option name, so a shared link
 * reads like a command line: `?model=dropout-mlp&dropout1=0.2&epochs=3`), its form element, its limits
 * (the same as the CLI's parsers in src/cli/options.ts) and its default. The page sets the inputs'
 * `name`, `min`, `max` and `step` from this table, so the HTML limits and the script's cannot disagree,
 * and it parses the form and the query string with the same function. The table's choice rows are
 * menus (ChoiceField: a <select> of the row's names). Pure: unit-tested in Node.
 */
import { describeLimits as describeRange, optionsFor, type RunOption } from '../run/options.js';
import type { RunConfig } from '../run/config.js';
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
  /** When true the value must be less than `max` (momentum < 1). */
  readonly exclusiveMax?: boolean;
  /** The RunConfig field a run field fills (gallery fields have none). */
  readonly runKey?: keyof RunConfig;
  readonly integer: boolean;
  readonly defaultValue: number;
  /** Step of the arrow keys: 1 for integers; a float step relative to 0 (min = 0 keeps 0.1 → 0.11). */
  readonly step: number;
  /** Which panel validates it: the run form, or the MC gallery. */
  readonly group: 'run' | 'gallery';
  /** The folded group of the run form it sits in (the option table's `lab.more`). */
  readonly more?: string;
}

/** A run field of the lab, from the option table's row (src/run/options.ts). */
function runField(o: RunOption): NumberField {
  if (o.kind === 'choice' || o.lab === undefined) throw new Error(`${o.key} has no lab field`);
  return {
    key: o.flag.slice(2),
    id: o.lab.id,
    label: o.lab.label,
    min: o.min,
    max: o.max,
    ...(o.exclusiveMin === true ? { exclusiveMin: true } : {}),
    ...(o.exclusiveMax === true ? { exclusiveMax: true } : {}),
    integer: o.kind === 'integer',
    defaultValue: o.lab.shown ?? (o.default as number),
    step: o.lab.step,
    group: 'run',
    runKey: o.key,
    ...(o.lab.more === undefined ? {} : { more: o.lab.more }),
  };
}

/** The numeric settings, in form order: the option table's lab fields, then the gallery's. */
export const NUMBER_FIELDS: readonly NumberField[] = [
  ...optionsFor('lab')
    .filter((o) => o.kind !== 'choice')
    .map(runField),
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

/** A setting with a fixed list of names (a choice row of the option table): drawn as a <select>. */
export interface ChoiceField {
  /** URL key and form `name`: the CLI's option name without the dashes. */
  readonly key: string;
  /** Form element id. */
  readonly id: string;
  /** Words for messages. */
  readonly label: string;
  readonly choices: readonly string[];
  readonly defaultValue: string;
  /** The RunConfig field it fills. */
  readonly runKey: keyof RunConfig;
  /** The folded group of the run form it sits in (the option table's `lab.more`). */
  readonly more?: string;
}

/**
 * The choice settings, in form order: the option table's lab choice rows (the dropout noise, the
 * drop mode and schedule, …). The model is not among them: its menu names each model in words.
 */
export const CHOICE_FIELDS: readonly ChoiceField[] = optionsFor('lab').flatMap((o) =>
  o.kind === 'choice' && o.key !== 'model' && o.lab !== undefined
    ? [
        {
          key: o.flag.slice(2),
          id: o.lab.id,
          label: o.lab.label,
          choices: o.choices,
          defaultValue: o.default as string,
          runKey: o.key,
          ...(o.lab.more === undefined ? {} : { more: o.lab.more }),
        },
      ]
    : [],
);

/** The run form's fields in the option table's order: numbers and choices, each drawn as its kind. */
export const RUN_FORM_FIELDS: readonly (NumberField | ChoiceField)[] = optionsFor('lab').flatMap((o) => [
  ...NUMBER_FIELDS.filter((f) => f.group === 'run' && f.runKey === o.key),
  ...CHOICE_FIELDS.filter((f) => f.runKey === o.key),
]);

/** True for a choice field. */
export function isChoiceField(f: NumberField | ChoiceField): f is ChoiceField {
  return 'choices' in f;
}

/** Parses a choice as the CLI would; the message names the field and its choices. */
export function parseChoice(
  f: ChoiceField,
  text: string,
): { ok: true; value: string } | { ok: false; error: string } {
  if (f.choices.includes(text)) return { ok: true, value: text };
  return {
    ok: false,
    error: `${f.label} must be one of ${f.choices.join(', ')}; got '${text.slice(0, 32)}'.`,
  };
}

/** URL key of the model select. */
export const MODEL_KEY = 'model';
/** The model a fresh page starts with. */
export const DEFAULT_MODEL: LabModel = 'dropout-mlp';

/** Every setting as a value, keyed by URL key. */
export type Settings = Readonly<Record<string, number | string>> & { readonly model: LabModel };

/** A value, or the one-line reason it is not valid (naming the field and the fix). */
export type Parsed =
  { readonly ok: true; readonly value: number } | { readonly ok: false; readonly error: string };

/** The limits of a field in words, e.g. "an integer in [1, 60000]" or "a number in (0, 100]". */
export function describeLimits(f: NumberField): string {
  return describeRange({ ...f, kind: f.integer ? 'integer' : 'number' } as unknown as RunOption);
}

/** Parses one field's text as the CLI would. */
export function parseField(f: NumberField, text: string): Parsed {
  const v = text.trim() === '' ? Number.NaN : Number(text);
  const ok =
    Number.isFinite(v) &&
    (f.exclusiveMin === true ? v > f.min : v >= f.min) &&
    (f.exclusiveMax === true ? v < f.max : v <= f.max) &&
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

/** Every URL key, in the address bar's order: the model, the number fields, the choice fields. */
const URL_KEYS = [MODEL_KEY, ...NUMBER_FIELDS.map((f) => f.key), ...CHOICE_FIELDS.map((f) => f.key)];

/** The query string of `values` (model first, then the table's order): the shareable link. */
export function toQuery(values: Readonly<Record<string, string>>): string {
  const q = new URLSearchParams();
  for (const key of URL_KEYS) {
    const v = values[key];
    if (v !== undefined) q.set(key, v);
  }
  return q.toString();
}

/** The settings a query string names (known keys only; values are text, validated like typed input). */
export function fromQuery(search: string): Record<string, string> {
  const q = new URLSearchParams(search);
  const out: Record<string, string> = {};
  for (const key of URL_KEYS) {
    const v = q.get(key);
    if (v !== null) out[key] = v;
  }
  return out;
}
