/**
 * The option table: every field of a RunConfig once, with its flag, limits, default, help, the
 * surfaces it appears on and what happens when it does nothing for a run. The CLI's flags (train,
 * compare, sweep, mc), the sweep's axes, the lab's form and shareable URL, config.json and the
 * checkpoint's identity are all derived from this table, so a new hyperparameter is one entry here
 * (plus what the model does with it). Pure data: it runs in Node and in the browser.
 */
import { DROPOUT_VARIANTS, FULL_SIZES, type RunConfig } from './config.js';
import { BOOK_HPARAMS } from '../models/dropoutMlp.js';
import { LR_SCHEDULES, MODEL_NAMES, OPTIMIZERS, rateMeaning } from './models.js';

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

/** The options of one surface, in table order. */
export function optionsFor(surface: Surface): RunOption[] {
  return RUN_OPTIONS.filter((o) => o.surfaces.includes(surface));
}

/** The table's row of `key`. */
export function optionOf(key: keyof RunConfig): RunOption {
  return RUN_OPTIONS.find((o) => o.key === key)!;
}
