/**
 * The option table: every field of a RunConfig once, with its flag, limits, default, help and the
 * surfaces it appears on. The CLI's flags (train, compare, sweep), the sweep's axes, the lab's form
 * and shareable URL, config.json and the checkpoint's identity are all derived from this table, so a
 * new hyperparameter is one entry here (plus what the model does with it). Pure data and pure
 * functions: it runs in Node and in the browser.
 */
import { ArgumentError } from '../errors.js';
import { DROPOUT_VARIANTS, FULL_SIZES, type RunConfig } from './config.js';
import { checkDropoutSchedule } from '../train/dropoutSchedule.js';
import { BOOK_HPARAMS } from '../models/dropoutMlp.js';
import { LR_SCHEDULES, MODEL_NAMES, modelEntry, OPTIMIZERS, rateMeaning } from './models.js';

/** Where an option appears: the single-seed commands, the sweep's axes, the lab's form, `mc`. */
export type Surface = 'train' | 'compare' | 'sweep' | 'lab' | 'mc';

/** How the lab draws a field: its element id and its label (a choice row: a <select>). */
export interface LabField {
  readonly id: string;
  readonly label: string;
  /** The folded group it sits in (a <details> with this summary), so the form stays one screen tall. */
  readonly more?: string;
}

/** How the lab draws a number field: also the arrow keys' step. */
export interface LabNumberField extends LabField {
  readonly step: number;
  /** What the form shows for the default when it differs (e.g. 60000 for "all" training examples). */
  readonly shown?: number;
}

interface OptionBase<K extends keyof RunConfig> {
  readonly key: K;
  /** The CLI flag (and, without its dashes, the lab's URL key). */
  readonly flag: string;
  readonly help: string;
  /** An example value, for messages: "e.g. --dropout1 0.5". */
  readonly example: string;
  readonly default: RunConfig[K];
  readonly surfaces: readonly Surface[];
  readonly lab?: LabField;
  /**
   * What happens when the option is given but does nothing for any of a command's runs (its model
   * fixes the field, or another setting makes it moot: betas with SGD): 'refuse' (the default: one
   * line before any work) or 'warn' (a note, and the run goes ahead). See ./resolve.ts.
   */
  readonly ifUnused?: 'refuse' | 'warn';
}

/** A numeric option: an integer or a finite number in [min, max] (or (min, max] with exclusiveMin). */
export interface NumberOption<K extends keyof RunConfig = keyof RunConfig> extends OptionBase<K> {
  readonly kind: 'integer' | 'number';
  readonly min: number;
  readonly max: number;
  readonly exclusiveMin?: boolean;
  readonly exclusiveMax?: boolean;
  /** The default 0 stands for this (e.g. "all" examples, "off"); 0 itself is not accepted as input. */
  readonly zeroMeans?: string;
  readonly lab?: LabNumberField;
}

/** An option taking one of a fixed list of names. */
export interface ChoiceOption<K extends keyof RunConfig = keyof RunConfig> extends OptionBase<K> {
  readonly kind: 'choice';
  readonly choices: readonly string[];
}

/** One row of the option table. */
export type RunOption = NumberOption | ChoiceOption;

const ALL: readonly Surface[] = ['train', 'compare', 'sweep', 'lab'];
/** The fields `mc` lets a user set: it trains the book's dropout MLP, so the rates, length and subset. */
const WITH_MC: readonly Surface[] = [...ALL, 'mc'];
/** The lab's folded group of the noise kind and Liu et al.'s schedule. */
const NOISE = 'Dropout noise and schedule';
const CLI: readonly Surface[] = ['train', 'compare', 'sweep'];

/** The option table, in help and form order. */
export const RUN_OPTIONS: readonly RunOption[] = [
  {
    key: 'model',
    flag: '--model',
    kind: 'choice',
    choices: MODEL_NAMES,
    help: 'which model',
    example: 'dropout-mlp',
    default: 'dropout-mlp',
    surfaces: ['train', 'sweep', 'lab'],
  },
  {
    key: 'variant',
    flag: '--variant',
    kind: 'choice',
    choices: DROPOUT_VARIANTS,
    help: 'dropout noise: bernoulli (inverted dropout) or gaussian N(1, p/(1 − p))',
    example: 'gaussian',
    default: 'bernoulli',
    surfaces: ['sweep', 'lab'],
    lab: { id: 'variant', label: 'Dropout noise', more: NOISE },
  },
  {
    key: 'dropout1',
    flag: '--dropout1',
    kind: 'number',
    min: 0,
    max: 1,
    help: `dropout rate p₁: ${rateMeaning('p1')}`,
    example: '0.5',
    default: BOOK_HPARAMS.dropout1,
    surfaces: WITH_MC,
    lab: { id: 'p1', label: 'p₁ (dropout 1)', step: 0.05 },
  },
  {
    key: 'dropout2',
    flag: '--dropout2',
    kind: 'number',
    min: 0,
    max: 1,
    help: `dropout rate p₂: ${rateMeaning('p2')}`,
    example: '0.5',
    default: BOOK_HPARAMS.dropout2,
    surfaces: WITH_MC,
    lab: { id: 'p2', label: 'p₂ (dropout 2)', step: 0.05 },
  },
  {
    key: 'dropConnect',
    flag: '--drop-connect',
    kind: 'number',
    min: 0,
    max: 1,
    help: 'DropConnect rate on the hidden Linear layers (0 = off)',
    example: '0.5',
    default: 0,
    surfaces: ['sweep'],
  },
  {
    key: 'numHiddens1',
    flag: '--num-hiddens1',
    kind: 'integer',
    min: 1,
    max: 100_000,
    help: 'units in hidden layer 1',
    example: '256',
    default: 256,
    surfaces: CLI,
  },
  {
    key: 'numHiddens2',
    flag: '--num-hiddens2',
    kind: 'integer',
    min: 1,
    max: 100_000,
    help: 'units in hidden layer 2',
    example: '256',
    default: 256,
    surfaces: CLI,
  },
  {
    key: 'batchSize',
    flag: '--batch-size',
    kind: 'integer',
    min: 1,
    max: FULL_SIZES.trainLimit,
    help: 'examples per minibatch',
    example: '256',
    default: 256,
    surfaces: ALL,
    lab: { id: 'batch', label: 'Batch size', step: 1 },
  },
  {
    key: 'lr',
    flag: '--lr',
    kind: 'number',
    min: 0,
    exclusiveMin: true,
    max: 100,
    help: 'learning rate',
    example: '0.1',
    default: 0.1,
    surfaces: ALL,
    lab: { id: 'lr', label: 'Learning rate', step: 0.01 },
  },
  {
    key: 'momentum',
    flag: '--momentum',
    kind: 'number',
    min: 0,
    max: 1,
    exclusiveMax: true,
    help: 'SGD momentum μ (0 = plain SGD, the book)',
    example: '0.9',
    default: 0,
    surfaces: ALL,
    lab: { id: 'momentum', label: 'Momentum', step: 0.05 },
  },
  {
    key: 'weightDecay',
    flag: '--weight-decay',
    kind: 'number',
    min: 0,
    max: 1,
    help: 'weight decay λ: L2 added to the gradient with sgd (0 = off, the book), decoupled with adamw',
    example: '0.0005',
    default: 0,
    surfaces: ALL,
    lab: { id: 'weight-decay', label: 'Weight decay', step: 0.0001 },
  },
  {
    key: 'maxNorm',
    flag: '--max-norm',
    kind: 'number',
    min: 0,
    max: 1e6,
    zeroMeans: 'off',
    help: "max-norm c on each unit's incoming weights (the paper's 3 to 4; default off)",
    example: '3',
    default: 0,
    surfaces: ['sweep'],
  },
  {
    key: 'optimizer',
    flag: '--optimizer',
    kind: 'choice',
    choices: OPTIMIZERS,
    help: "sgd (the book's), or adamw: Adam with decoupled weight decay, with torch.optim.AdamW's defaults (lr 0.001, weight decay 0.01) unless given",
    example: 'adamw',
    default: 'sgd',
    surfaces: CLI,
  },
  {
    key: 'beta1',
    flag: '--beta1',
    kind: 'number',
    min: 0,
    max: 1,
    exclusiveMax: true,
    help: "AdamW's β₁, the decay of the gradient's running mean",
    example: '0.9',
    default: 0.9,
    surfaces: CLI,
    ifUnused: 'warn',
  },
  {
    key: 'beta2',
    flag: '--beta2',
    kind: 'number',
    min: 0,
    max: 1,
    exclusiveMax: true,
    help: "AdamW's β₂, the decay of the squared gradient's running mean",
    example: '0.999',
    default: 0.999,
    surfaces: CLI,
    ifUnused: 'warn',
  },
  {
    key: 'eps',
    flag: '--eps',
    kind: 'number',
    min: 0,
    max: 1,
    help: "AdamW's ε, added to the denominator",
    example: '1e-8',
    default: 1e-8,
    surfaces: CLI,
    ifUnused: 'warn',
  },
  {
    key: 'lrSchedule',
    flag: '--lr-schedule',
    kind: 'choice',
    choices: LR_SCHEDULES,
    help: 'constant, or warmup-cosine: linear warm-up over the warm-up epochs, then cosine decay to 0 at the last step (set every step)',
    example: 'warmup-cosine',
    default: 'constant',
    surfaces: CLI,
  },
  {
    key: 'warmupEpochs',
    flag: '--warmup-epochs',
    kind: 'integer',
    min: 0,
    max: 10_000,
    help: "epochs of linear warm-up of the warm-up + cosine schedule (timm's warmup_epochs)",
    example: '1',
    default: 0,
    surfaces: CLI,
    ifUnused: 'warn',
  },
  {
    key: 'dropMode',
    flag: '--drop-mode',
    kind: 'choice',
    choices: ['standard', 'early', 'late'],
    help: 'dropout schedule (Liu et al. 2023): standard (every epoch), early (until the cutoff epoch), late (from it)',
    example: 'early',
    default: 'standard',
    surfaces: ALL,
    lab: { id: 'drop-mode', label: 'Drop mode', more: NOISE },
  },
  {
    key: 'dropSchedule',
    flag: '--drop-schedule',
    kind: 'choice',
    choices: ['constant', 'linear'],
    help: 'early dropout at a constant p, or p ramping linearly down to 0 by the cutoff epoch',
    example: 'linear',
    default: 'constant',
    surfaces: ALL,
    ifUnused: 'warn',
    lab: { id: 'drop-schedule', label: 'Drop schedule', more: NOISE },
  },
  {
    key: 'cutoffEpoch',
    flag: '--cutoff-epoch',
    kind: 'integer',
    min: 0,
    max: 10_000,
    help: 'epochs of dropout (early) or without it (late) before the switch',
    example: '5',
    default: 0,
    surfaces: ALL,
    ifUnused: 'warn',
    lab: { id: 'cutoff-epoch', label: 'Cutoff epoch', step: 1, more: NOISE },
  },
  {
    key: 'rdropAlpha',
    flag: '--rdrop-alpha',
    kind: 'number',
    min: 0,
    max: 1000,
    help: 'R-Drop α: two dropout passes per batch, loss = mean CE + α · symmetric KL (0 = off)',
    example: '1',
    default: 0,
    surfaces: ALL,
    lab: { id: 'rdrop-alpha', label: 'R-Drop α', step: 0.1 },
  },
  {
    key: 'epochs',
    flag: '--epochs',
    kind: 'integer',
    min: 1,
    max: 10_000,
    help: 'passes over the training set',
    example: '10',
    default: 10,
    surfaces: WITH_MC,
    lab: { id: 'epochs', label: 'Epochs', step: 1 },
  },
  {
    key: 'seed',
    flag: '--seed',
    kind: 'integer',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    help: 'random seed (same seed ⇒ identical run)',
    example: '0',
    default: 0,
    surfaces: ['train', 'compare', 'lab'],
    lab: { id: 'seed', label: 'Seed', step: 1 },
  },
  {
    key: 'trainLimit',
    flag: '--train-limit',
    kind: 'integer',
    min: 1,
    max: FULL_SIZES.trainLimit,
    zeroMeans: 'all',
    help: 'use only the first N training examples',
    example: '6000',
    default: 0,
    surfaces: WITH_MC,
    lab: { id: 'train-limit', label: 'Train subset', step: 1, shown: FULL_SIZES.trainLimit },
  },
  {
    key: 'valLimit',
    flag: '--val-limit',
    kind: 'integer',
    min: 1,
    max: FULL_SIZES.valLimit,
    zeroMeans: 'all',
    help: 'use only the first N validation examples',
    example: '2000',
    default: 0,
    surfaces: WITH_MC,
    lab: { id: 'val-limit', label: 'Validation subset', step: 1, shown: FULL_SIZES.valLimit },
  },
];

/** The book's run: dropout MLP 256/256, p = 0.5/0.5, lr 0.1, batch 256, 10 epochs, plain SGD, seed 0. */
export const DEFAULT_CONFIG: RunConfig = Object.freeze(
  Object.fromEntries(RUN_OPTIONS.map((o) => [o.key, o.default])) as unknown as RunConfig,
);

/** torch.optim.AdamW's defaults for the fields it shares with SGD: an AdamW run takes them unless given. */
export const ADAMW_DEFAULTS: Partial<RunConfig> = Object.freeze({ lr: 1e-3, weightDecay: 0.01 });

/**
 * A run's config from the fields given (explicit flags, a sweep's axes; undefined = not given): each
 * missing field takes the model's own default (its registry entry's `defaults`), else, in an AdamW
 * run, torch.optim.AdamW's (ADAMW_DEFAULTS), else the table's.
 */
export function completeConfig(given: Partial<RunConfig>): RunConfig {
  const explicit = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  const model = (explicit['model'] as RunConfig['model'] | undefined) ?? DEFAULT_CONFIG.model;
  const own = modelEntry(model).defaults ?? {};
  const optimizer = explicit['optimizer'] ?? own.optimizer ?? DEFAULT_CONFIG.optimizer;
  return {
    ...DEFAULT_CONFIG,
    ...(optimizer === 'adamw' ? ADAMW_DEFAULTS : {}),
    ...own,
    ...explicit,
  } as RunConfig;
}

/** The options of one surface, in table order. */
export function optionsFor(surface: Surface): RunOption[] {
  return RUN_OPTIONS.filter((o) => o.surfaces.includes(surface));
}

/** The table's row of `key`. */
export function optionOf(key: keyof RunConfig): RunOption {
  return RUN_OPTIONS.find((o) => o.key === key)!;
}

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

/** The value of `key` in `c` as it is valid input (0 for a "zeroMeans" default is valid too). */
function validValue(o: RunOption, v: unknown): boolean {
  if (o.kind === 'choice') return typeof v === 'string' && o.choices.includes(v);
  if (typeof v !== 'number') return false;
  return withinLimits(o, v) || (o.zeroMeans !== undefined && v === 0);
}

/**
 * Validates a whole RunConfig where it enters the library (a worker's job, a page's message, a
 * library caller's object): each field against the table, then the rules between fields. One line
 * naming the field and the fix.
 */
export function checkRun(c: RunConfig): void {
  for (const o of RUN_OPTIONS) {
    const v = c[o.key];
    if (!validValue(o, v)) {
      throw new ArgumentError(
        `run config: ${o.key} must be ${describeLimits(o).replace(/^a number /, '')}${o.kind !== 'choice' && o.zeroMeans ? ` (or 0: ${o.zeroMeans})` : ''}, got ${JSON.stringify(v)}.`,
      );
    }
  }
  const extra = Object.keys(c).filter((k) => !RUN_OPTIONS.some((o) => o.key === k));
  if (extra.length > 0) {
    throw new ArgumentError(
      `run config: unknown field ${extra.join(', ')}; the fields are ${RUN_OPTIONS.map((o) => o.key).join(', ')}.`,
    );
  }
  if (c.variant === 'gaussian' && (c.dropout1 === 1 || c.dropout2 === 1)) {
    throw new ArgumentError(
      'run config: gaussian dropout needs p < 1 (its variance p/(1 − p) is infinite at 1).',
    );
  }
  if (c.dropMode !== 'standard' && (c.variant !== 'bernoulli' || c.dropConnect !== 0)) {
    throw new ArgumentError(
      `run config: drop mode ${c.dropMode} schedules nn.Dropout's p only; use variant bernoulli and dropConnect 0 with it.`,
    );
  }
  checkDropoutSchedule({ mode: c.dropMode, schedule: c.dropSchedule, cutoffEpoch: c.cutoffEpoch });
  if (c.optimizer === 'adamw' && (c.momentum !== 0 || c.maxNorm !== 0)) {
    throw new ArgumentError(
      `run config: ${c.momentum !== 0 ? 'momentum' : 'maxNorm'} is SGD's; with optimizer adamw set it to 0 (AdamW's momentum is beta1).`,
    );
  }
  if (c.lrSchedule === 'warmup-cosine' && c.warmupEpochs > c.epochs) {
    throw new ArgumentError(
      `run config: warmupEpochs ${c.warmupEpochs} exceeds the run's ${c.epochs} epochs; warm up for at most epochs.`,
    );
  }
  modelEntry(c.model).check?.(c);
}

/**
 * The canonical form of a run: the fields a model does not use take the values it fixes (the plain
 * MLP has no dropout), and limits at or above Fashion-MNIST's sizes are "all" (0). Two spellings of the
 * same run have the same canonical form.
 */
export function canonicalConfig(c: RunConfig): RunConfig {
  const fixed: Partial<Record<string, unknown>> = modelEntry(c.model).fixed;
  const out: Record<string, unknown> = {};
  for (const o of RUN_OPTIONS) out[o.key] = o.key in fixed ? fixed[o.key] : c[o.key];
  // Standard dropout has no schedule: its cutoff and ramp change nothing.
  if (out['dropMode'] === 'standard') Object.assign(out, { dropSchedule: 'constant', cutoffEpoch: 0 });
  // SGD has no betas or ε, a constant rate no warm-up.
  if (out['optimizer'] === 'sgd') {
    Object.assign(out, { beta1: DEFAULT_CONFIG.beta1, beta2: DEFAULT_CONFIG.beta2, eps: DEFAULT_CONFIG.eps });
  }
  if (out['lrSchedule'] === 'constant') out['warmupEpochs'] = 0;
  if (c.trainLimit >= FULL_SIZES.trainLimit) out['trainLimit'] = 0;
  if (c.valLimit >= FULL_SIZES.valLimit) out['valLimit'] = 0;
  return out as unknown as RunConfig;
}

/** snake_case of a camelCase key (config.json's and the JSON events' spelling). */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

/** config.json's record of a run: every option in table order, snake_case; an unset limit is null. */
export function configRecord(c: RunConfig): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const o of RUN_OPTIONS) {
    const v = c[o.key];
    out[snakeCase(o.key)] = o.kind !== 'choice' && o.zeroMeans === 'all' && v === 0 ? null : v;
  }
  return out;
}

/**
 * The identity a checkpoint written before some of the table's rows existed would have now: each
 * missing field takes the table's default, which is how every run trained before the row was added
 * (a new row's default is the old behaviour: SGD at a constant rate, no R-Drop).
 */
export function upgradeIdentity(
  config: Readonly<Record<string, string | number | boolean | null>>,
): Record<string, string | number | boolean | null> {
  const out = { ...config };
  for (const o of RUN_OPTIONS) if (o.key !== 'epochs' && !(o.key in out)) out[o.key] = o.default;
  return out;
}

/**
 * A checkpoint's identity: the fields a resumed run must share with the one that saved it. Every
 * option but `epochs` (a resumed run may train longer); the Trainer refuses a checkpoint whose
 * identity differs and names the field.
 */
export function checkpointIdentity(c: RunConfig): Record<string, string | number> {
  const canon = canonicalConfig(c);
  return Object.fromEntries(RUN_OPTIONS.filter((o) => o.key !== 'epochs').map((o) => [o.key, canon[o.key]]));
}
