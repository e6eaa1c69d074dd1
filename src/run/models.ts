/**
 * The model registry: every model a run can name, how it is built from a RunConfig, which of the
 * config's fields it does not use, and what it refuses. The CLI's `--model` choices, the lab's model
 * menu, the sweep's axis and the experiments all read this one table; a new model is one entry here.
 */
import { ArgumentError } from '../errors.js';
import { LeNetCNN } from '../models/cnn.js';
import { DropoutMLP, DropoutMLPScratch, MLP } from '../models/dropoutMlp.js';
import { NormMLP, type NormDropout, type NormKind } from '../models/normMlp.js';
import { VisionTransformer, VIT_HPARAMS } from '../models/vit.js';
import type { DropMode, DropSchedule } from '../train/dropoutSchedule.js';
import type { Classifier } from '../train/module.js';

/** Which noise the dropout layers apply: Bernoulli (inverted dropout) or Gaussian N(1, p/(1 − p)). */
export const DROPOUT_VARIANTS = ['bernoulli', 'gaussian'] as const;
/** A dropout variant. */
export type DropoutVariant = (typeof DROPOUT_VARIANTS)[number];
/** The optimisers a run can train with: the book's SGD, or AdamW (decoupled weight decay). */
export const OPTIMIZERS = ['sgd', 'adamw'] as const;
/** The learning-rate schedules of a run: constant, or linear warm-up then cosine decay to 0. */
export const LR_SCHEDULES = ['constant', 'warmup-cosine'] as const;

/** The fields of a run that shape the model and its optimiser (RunConfig adds the rest). */
export interface ModelSettings {
  readonly variant: DropoutVariant;
  readonly dropout1: number;
  readonly dropout2: number;
  /** DropConnect rate on the two hidden Linear layers; 0 = off. */
  readonly dropConnect: number;
  readonly numHiddens1: number;
  readonly numHiddens2: number;
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  /** Max-norm c on each unit's incoming weights; 0 = off. */
  readonly maxNorm: number;
  /** Liu et al.'s dropout schedule: standard (p every epoch), early (p until cutoffEpoch), late (p from it). */
  readonly dropMode: DropMode;
  /** constant, or (early only) linear: p ramps down to 0 over the early epochs. */
  readonly dropSchedule: DropSchedule;
  /** The epoch (0-based) where early dropout stops and late dropout starts. */
  readonly cutoffEpoch: number;
  /** R-Drop's α: two dropout passes per batch, loss = mean CE + α · symmetric KL; 0 = off. */
  readonly rdropAlpha: number;
  /** sgd (momentum, L2 weight decay, max-norm) or adamw (beta1, beta2, eps, decoupled weight decay). */
  readonly optimizer: (typeof OPTIMIZERS)[number];
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** constant, or warm-up + cosine over the run's steps. */
  readonly lrSchedule: (typeof LR_SCHEDULES)[number];
  /** Epochs of linear warm-up before the cosine (timm's warmup_epochs); the rate moves every step. */
  readonly warmupEpochs: number;
}

/** One registered model. */
export interface ModelEntry {
  /** Words for menus and help. */
  readonly description: string;
  /** Whether the model has dropout layers (the lab's gallery and network view ask). */
  readonly hasDropout: boolean;
  /** Fields the model ignores, with the value its canonical form records (the plain MLP: no noise). */
  readonly fixed: Partial<ModelSettings>;
  /** Its own defaults for run fields (e.g. a ViT: AdamW, warm-up + cosine); explicit settings win. */
  readonly defaults?: Partial<ModelSettings>;
  /**
   * What p₁ (`--dropout1`) and p₂ (`--dropout2`) are in this model, in words for the help and the
   * lab's labels; absent: the model has no such rate (and `fixed` records it as 0).
   */
  readonly p1?: string;
  readonly p2?: string;
  /** Refuses settings the model cannot honour (one line naming the field). */
  readonly check?: (c: ModelSettings) => void;
  /** True when it normalises with batch statistics in training (BatchNorm): a batch needs 2 examples. */
  readonly batchStatistics?: boolean;
  /** Builds the model; its initial draws come from the global generator (`manualSeed`). */
  readonly build: (c: ModelSettings) => Classifier;
}

/** What a model without dropout records for the noise fields: none, and so no schedule and no R-Drop. */
const NO_NOISE = {
  variant: 'bernoulli',
  dropout1: 0,
  dropout2: 0,
  dropConnect: 0,
  dropMode: 'standard',
  dropSchedule: 'constant',
  cutoffEpoch: 0,
  rdropAlpha: 0,
} as const;

/**
 * The sizes every MLP of d2l's Dropout section (and the CNN's head) takes from a run. The optimiser's
 * settings are not the model's: the run builds its optimiser (./optimizer.ts).
 */
function mlpHparams(c: ModelSettings) {
  return { numHiddens1: c.numHiddens1, numHiddens2: c.numHiddens2 };
}

/** Refuses the dropout kinds a normalised MLP does not build (it has nn.Dropout layers only). */
function bernoulliOnly(name: string): (c: ModelSettings) => void {
  return (c) => {
    if (c.variant !== 'bernoulli' || c.dropConnect !== 0) {
      throw new ArgumentError(
        `run config: ${name} applies only Bernoulli dropout (nn.Dropout); use model dropout-mlp for variant or dropConnect.`,
      );
    }
  };
}

/**
 * The CNNs apply Bernoulli dropout only; refused rather than silently ignored. A drop mode schedules
 * nn.Dropout layers only (src/train/dropoutSchedule.ts), so with p₁ > 0 (spatial dropout or DropBlock
 * after the conv blocks) it is refused here, where the config enters, not when the run starts.
 */
function refuseCnnNoise(name: string, p1Layer: string): (c: ModelSettings) => void {
  return (c) => {
    if (c.variant !== 'bernoulli' || c.dropConnect !== 0) {
      throw new ArgumentError(
        `run config: ${name} applies only Bernoulli (spatial) dropout; use model dropout-mlp for variant or dropConnect.`,
      );
    }
    if (c.dropMode !== 'standard' && c.dropout1 > 0) {
      throw new ArgumentError(
        `run config: drop mode ${c.dropMode} schedules nn.Dropout only, not ${name}'s ${p1Layer} (p₁ = ${c.dropout1}); use drop mode standard, or dropout1 0 to schedule only the head's dropout.`,
      );
    }
  };
}

/**
 * What the ViTs record for the fields they do not use: their MLP-style widths (fixed by the
 * architecture: the token width and the blocks' MLP width) and max-norm (no Linear hidden layers
 * to constrain).
 */
const VIT_FIXED = { numHiddens1: VIT_HPARAMS.width, numHiddens2: VIT_HPARAMS.mlpDim, maxNorm: 0 } as const;

/**
 * How a ViT is trained unless told otherwise (DeiT/timm's recipe, scaled down): AdamW at lr 1e-3 with
 * weight decay 0.05, one warm-up epoch, then cosine decay to zero at the last epoch.
 */
const VIT_DEFAULTS = {
  optimizer: 'adamw',
  lr: 1e-3,
  weightDecay: 0.05,
  lrSchedule: 'warmup-cosine',
  warmupEpochs: 1,
} as const;

/** The ViT's dropout is its own (attention, residual, DropPath); other kinds and schedules are refused. */
function refuseVitNoise(c: ModelSettings): void {
  if (c.variant !== 'bernoulli' || c.dropConnect !== 0 || c.dropMode !== 'standard') {
    throw new ArgumentError(
      'run config: vit-dropout applies Bernoulli attention/residual dropout and DropPath at fixed rates; use variant bernoulli, dropConnect 0 and drop mode standard with it.',
    );
  }
}

/** p₁ and p₂ of the book's MLPs. */
const MLP_P1 = 'dropout after hidden layer 1';
const MLP_P2 = 'dropout after hidden layer 2';
/** p₂ of the CNNs: the head's dropout. */
const CNN_P2 = 'dropout after each hidden layer of the head';

/** A registry entry of the normalised MLPs (src/models/normMlp.ts). */
function normEntry(norm: NormKind, dropout: NormDropout, description: string, name: string): ModelEntry {
  const norms = norm === 'batch' ? 'BatchNorm' : 'LayerNorm';
  // Before a BatchNorm, p₁'s noise shifts the variance the next BatchNorm sees (Li et al.).
  const p1 = norm === 'batch' ? `${MLP_P1}, before the second BatchNorm` : MLP_P1;
  return {
    description,
    hasDropout: dropout !== 'none',
    ...(norm === 'batch' ? { batchStatistics: true } : {}),
    fixed: dropout === 'none' ? NO_NOISE : dropout === 'after' ? { dropout1: 0 } : {},
    ...(dropout === 'before' ? { p1, p2: MLP_P2 } : {}),
    ...(dropout === 'after' ? { p2: `dropout after the last ${norms} (hidden layer 2)` } : {}),
    ...(dropout === 'none' ? {} : { check: bernoulliOnly(name) }),
    build: (c: ModelSettings) =>
      new NormMLP({ ...mlpHparams(c), norm, dropout, dropout1: c.dropout1, dropout2: c.dropout2 }),
  };
}

/** The registry, by name (the CLI's `--model`). */
export const MODELS = {
  'dropout-mlp': {
    description: 'Dropout MLP (nn.Dropout)',
    hasDropout: true,
    fixed: {},
    p1: MLP_P1,
    p2: MLP_P2,
    build: (c: ModelSettings) =>
      new DropoutMLP({
        ...mlpHparams(c),
        dropout1: c.dropout1,
        dropout2: c.dropout2,
        variant: c.variant,
        dropConnect: c.dropConnect,
      }),
  },
  'dropout-mlp-scratch': {
    description: 'Dropout MLP (scratch dropoutLayer)',
    hasDropout: true,
    fixed: {},
    p1: MLP_P1,
    p2: MLP_P2,
    check: (c: ModelSettings) => {
      if (c.variant !== 'bernoulli' || c.dropConnect !== 0 || c.dropMode !== 'standard') {
        throw new ArgumentError(
          "run config: dropout-mlp-scratch applies only the book's Bernoulli dropoutLayer at a fixed p; use model dropout-mlp for variant, dropConnect or a drop mode.",
        );
      }
    },
    build: (c: ModelSettings) =>
      new DropoutMLPScratch({ ...mlpHparams(c), dropout1: c.dropout1, dropout2: c.dropout2 }),
  },
  mlp: {
    description: 'Plain MLP (no dropout)',
    hasDropout: false,
    fixed: NO_NOISE,
    build: (c: ModelSettings) => new MLP(mlpHparams(c)),
  },
  'mlp-bn': normEntry('batch', 'none', 'MLP with BatchNorm (Linear → BatchNorm1d → ReLU)', 'mlp-bn'),
  'dropout-mlp-bn': normEntry(
    'batch',
    'before',
    'Dropout MLP with BatchNorm, dropout before BatchNorm (the variance-shift order)',
    'dropout-mlp-bn',
  ),
  'dropout-mlp-bn-after': normEntry(
    'batch',
    'after',
    'MLP with BatchNorm, dropout (p₂) only after the last BatchNorm',
    'dropout-mlp-bn-after',
  ),
  'mlp-ln': normEntry('layer', 'none', 'MLP with LayerNorm (Linear → LayerNorm → ReLU)', 'mlp-ln'),
  'dropout-mlp-ln': normEntry('layer', 'before', 'Dropout MLP with LayerNorm', 'dropout-mlp-ln'),
  cnn: {
    description: 'LeNet-style CNN (no dropout)',
    hasDropout: false,
    fixed: NO_NOISE,
    build: (c: ModelSettings) => new LeNetCNN(mlpHparams(c)),
  },
  'cnn-dropout': {
    description: 'LeNet-style CNN, spatial dropout p₁ after each conv block, dropout p₂ in the head',
    hasDropout: true,
    fixed: { variant: 'bernoulli', dropConnect: 0 },
    p1: 'spatial dropout (whole feature maps) after each conv block',
    p2: CNN_P2,
    check: refuseCnnNoise('cnn-dropout', 'spatial dropout'),
    build: (c: ModelSettings) =>
      new LeNetCNN({ ...mlpHparams(c), spatialDropout: c.dropout1, dropout: c.dropout2 }),
  },
  'cnn-dropblock': {
    description: 'LeNet-style CNN, DropBlock p₁ (3×3 blocks) after each conv block, dropout p₂ in the head',
    hasDropout: true,
    fixed: { variant: 'bernoulli', dropConnect: 0 },
    p1: 'DropBlock (3×3 blocks) after each conv block',
    p2: CNN_P2,
    check: refuseCnnNoise('cnn-dropblock', 'DropBlock'),
    build: (c: ModelSettings) =>
      new LeNetCNN({ ...mlpHparams(c), dropBlock: c.dropout1, dropout: c.dropout2 }),
  },
  vit: {
    description:
      'Tiny ViT (7×7 patches → 16 tokens + class token, width 64, 4 blocks × 4 heads, MLP 128; no dropout)',
    hasDropout: false,
    fixed: { ...NO_NOISE, ...VIT_FIXED },
    defaults: VIT_DEFAULTS,
    build: () => new VisionTransformer(),
  },
  'vit-dropout': {
    // The Transformer's standard rates are 0.1 and 0.1 (--dropout1 0.1 --dropout2 0.1).
    description:
      'Tiny ViT, dropout p₁ on the attention probabilities and each residual branch, DropPath p₂ (last block; linearly less before)',
    hasDropout: true,
    fixed: { variant: 'bernoulli', dropConnect: 0, ...VIT_FIXED },
    defaults: { ...VIT_DEFAULTS, dropout1: 0.1, dropout2: 0.1 },
    p1: 'dropout on the attention probabilities and each residual branch',
    p2: 'DropPath (stochastic depth) of the last block, linearly less in earlier blocks',
    check: refuseVitNoise,
    build: (c: ModelSettings) => new VisionTransformer({ dropout: c.dropout1, dropPath: c.dropout2 }),
  },
} as const satisfies Record<string, ModelEntry>;

/** A registered model's name. */
export type ModelName = keyof typeof MODELS;

/** The registered names, in menu order. */
export const MODEL_NAMES = Object.keys(MODELS) as ModelName[];

/** The registry's entry of `name` (typed as the general entry). */
export function modelEntry(name: ModelName): ModelEntry {
  return MODELS[name];
}

/** Builds the model a run names, with its hyperparameters (initial draws from the global generator). */
export function buildModel(c: ModelSettings & { readonly model: string }): Classifier {
  const entry: ModelEntry | undefined = (MODELS as Record<string, ModelEntry>)[c.model];
  if (entry === undefined) {
    throw new ArgumentError(`run config: unknown model '${c.model}'; use one of ${MODEL_NAMES.join(', ')}.`);
  }
  return entry.build(c);
}

/**
 * What the rate `which` (p₁ = `--dropout1`, p₂ = `--dropout2`) means, model by model, in one line:
 * models sharing a meaning are named together; those without the rate are listed last.
 */
export function rateMeaning(which: 'p1' | 'p2'): string {
  const byMeaning = new Map<string, ModelName[]>();
  const without: ModelName[] = [];
  for (const name of MODEL_NAMES) {
    const meaning = modelEntry(name)[which];
    if (meaning === undefined) without.push(name);
    else byMeaning.set(meaning, [...(byMeaning.get(meaning) ?? []), name]);
  }
  const parts = [...byMeaning].map(([meaning, names]) => `${meaning} (${names.join(', ')})`);
  return `${parts.join('; ')}; not used by ${without.join(', ')}`;
}
