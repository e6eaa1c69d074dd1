/**
 * One experiment run, as plain data: everything that determines its result (so a stable hash of it
 * names the run's file and a restart can skip finished runs), plus the model it builds.
 */
import { createHash } from 'node:crypto';
import { ArgumentError } from '../errors.js';
import { GaussianDropout } from '../nn/dropoutVariants.js';
import { Dropout, Flatten, LazyLinear, ReLU, Sequential } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import { SGD } from '../optim/sgd.js';
import type { Tensor } from '../tensor/tensor.js';
import { Classifier } from '../train/module.js';

/** Models an experiment can train: the book's dropout MLP and the plain MLP (dropout forced to 0). */
export const EXPERIMENT_MODELS = ['dropout-mlp', 'mlp'] as const;
/** Which noise the dropout layers apply: Bernoulli (inverted dropout) or Gaussian N(1, p/(1 − p)). */
export const DROPOUT_VARIANTS = ['bernoulli', 'gaussian'] as const;

/** Everything that determines one run's result. */
export interface RunConfig {
  /** 'train': curves only; 'mc': also weight scaling vs MC dropout, calibration and certainty on the test set. */
  readonly kind: 'train' | 'mc';
  readonly model: (typeof EXPERIMENT_MODELS)[number];
  readonly variant: (typeof DROPOUT_VARIANTS)[number];
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  /** Max-norm c on each unit's incoming weights; 0 = off. */
  readonly maxNorm: number;
  readonly numHiddens1: number;
  readonly numHiddens2: number;
  readonly dropout1: number;
  readonly dropout2: number;
  /** DropConnect rate on the two hidden Linear layers; 0 = off. */
  readonly dropConnect: number;
  /** First N training examples; 0 = all 60000. */
  readonly trainLimit: number;
  /** First N test examples used for validation; 0 = all 10000. */
  readonly valLimit: number;
  readonly seed: number;
  /** MC passes for kind 'mc'. */
  readonly mcSamples: number;
}

/** The book's setup: dropout MLP 256/256, p = 0.5/0.5, lr 0.1, batch 256, 10 epochs, plain SGD. */
export const DEFAULT_RUN: RunConfig = {
  kind: 'train',
  model: 'dropout-mlp',
  variant: 'bernoulli',
  epochs: 10,
  batchSize: 256,
  lr: 0.1,
  momentum: 0,
  weightDecay: 0,
  maxNorm: 0,
  numHiddens1: 256,
  numHiddens2: 256,
  dropout1: 0.5,
  dropout2: 0.5,
  dropConnect: 0,
  trainLimit: 0,
  valLimit: 0,
  seed: 0,
  mcSamples: 0,
};

/**
 * The canonical form: the plain MLP has no dropout, and a dropout MLP with no noise at all is the
 * plain MLP (Dropout(0) is the identity and draws nothing), so both spellings share one run.
 */
export function canonicalRun(c: RunConfig): RunConfig {
  const noNoise = c.model === 'mlp' || (c.dropout1 === 0 && c.dropout2 === 0 && c.dropConnect === 0);
  const noiseFree = noNoise ? { ...c, model: 'mlp' as const, dropout1: 0, dropout2: 0, dropConnect: 0 } : c;
  // Limits at or above Fashion-MNIST's sizes (60000 / 10000) are the full sets.
  const base = {
    ...noiseFree,
    trainLimit: c.trainLimit >= 60_000 ? 0 : c.trainLimit,
    valLimit: c.valLimit >= 10_000 ? 0 : c.valLimit,
  };
  const ordered = Object.fromEntries(Object.keys(DEFAULT_RUN).map((k) => [k, base[k as keyof RunConfig]]));
  return { ...(ordered as unknown as RunConfig), variant: noNoise ? 'bernoulli' : base.variant };
}

/** A short stable id of a run: 16 hex digits of SHA-256 over its canonical JSON. */
export function runId(c: RunConfig): string {
  return createHash('sha256')
    .update(JSON.stringify(canonicalRun(c)))
    .digest('hex')
    .slice(0, 16);
}

/** Checks ranges once, before any process starts. */
export function checkRun(c: RunConfig): void {
  const bad = (what: string): never => {
    throw new ArgumentError(`run config: ${what}.`);
  };
  for (const k of ['dropout1', 'dropout2', 'dropConnect'] as const) {
    if (!(c[k] >= 0 && c[k] <= 1)) bad(`${k} must be in [0, 1], got ${c[k]}`);
  }
  if (c.variant === 'gaussian' && (c.dropout1 === 1 || c.dropout2 === 1)) bad('gaussian dropout needs p < 1');
  for (const k of ['epochs', 'batchSize', 'numHiddens1', 'numHiddens2'] as const) {
    if (!(Number.isInteger(c[k]) && c[k] >= 1)) bad(`${k} must be a positive integer, got ${c[k]}`);
  }
  if (!(c.lr > 0)) bad(`lr must be positive, got ${c.lr}`);
  if (!(c.momentum >= 0 && c.momentum < 1)) bad(`momentum must be in [0, 1), got ${c.momentum}`);
  if (!(c.weightDecay >= 0 && c.maxNorm >= 0)) bad('weightDecay and maxNorm must be ≥ 0');
}

/**
 * The experiment model: Flatten → Linear(h1) → ReLU → noise(p1) → Linear(h2) → ReLU → noise(p2) →
 * Linear(10), the book's DropoutMLP layer for layer (and MLP when there is no noise), with the
 * optimiser of the paper's recipe (momentum, weight decay, max-norm) when asked.
 */
export class ExperimentMLP extends Classifier {
  readonly net: Sequential;

  /** Builds the network for `config`; initial draws come from the global generator (`manualSeed`). */
  constructor(readonly config: RunConfig) {
    super();
    const c = canonicalRun(config);
    const noise = (p: number): Module[] => {
      if (p === 0) return [];
      return [c.variant === 'gaussian' ? new GaussianDropout(p) : new Dropout(p)];
    };
    const dc = c.dropConnect > 0 ? { dropConnect: c.dropConnect } : {};
    this.net = this.registerModule(
      'net',
      new Sequential(
        new Flatten(),
        new LazyLinear(c.numHiddens1, dc),
        new ReLU(),
        ...noise(c.dropout1),
        new LazyLinear(c.numHiddens2, dc),
        new ReLU(),
        ...noise(c.dropout2),
        new LazyLinear(10),
      ),
    );
  }

  /** Learning rate of the run. */
  get lr(): number {
    return this.config.lr;
  }

  /** Runs the Sequential. */
  forward(X: Tensor): Tensor {
    return this.net.forward(X);
  }

  /** SGD with the run's momentum, weight decay and max-norm. */
  override configureOptimizers(): SGD {
    const c = this.config;
    return new SGD(this.parameters(), {
      lr: c.lr,
      momentum: c.momentum,
      weightDecay: c.weightDecay,
      ...(c.maxNorm > 0 ? { maxNorm: c.maxNorm } : {}),
    });
  }
}
