/**
 * The models of d2l's "Dropout" section: the from-scratch DropoutMLPScratch, the concise
 * DropoutMLP, and the plain MLP baseline with the same architecture (784→256→256→10).
 */
import { GaussianDropout } from '../nn/dropoutVariants.js';
import type { ListsHiddenActivations } from '../nn/activationStats.js';
import { Dropout, Flatten, LazyLinear, ReLU, Sequential } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import { ArgumentError } from '../errors.js';
import { checkDropoutP, dropoutLayer } from '../ops/dropout.js';
import type { Generator } from '../random/generator.js';
import type { Tensor } from '../tensor/tensor.js';
import { Classifier } from '../train/module.js';

/** Hyperparameters of the dropout MLPs; the defaults are the book's. */
export interface DropoutMLPConfig {
  numOutputs?: number | undefined;
  numHiddens1?: number | undefined;
  numHiddens2?: number | undefined;
  dropout1?: number | undefined;
  dropout2?: number | undefined;
  lr?: number | undefined;
  /** SGD momentum μ (the book: 0). */
  momentum?: number | undefined;
  /** L2 weight decay λ (the book: 0). */
  weightDecay?: number | undefined;
  /** Max-norm c on each hidden unit's incoming weights, 0 = off (the paper's recipe; the book: off). */
  maxNorm?: number | undefined;
  /** The dropout noise of DropoutMLP: Bernoulli (inverted dropout, the book) or Gaussian N(1, p/(1 − p)). */
  variant?: 'bernoulli' | 'gaussian' | undefined;
  /** DropConnect rate on DropoutMLP's two hidden Linear layers, 0 = off. */
  dropConnect?: number | undefined;
  /** Generator for initialisation and masks; defaults to the global one (`manualSeed`). */
  generator?: Generator | undefined;
}

/** The resolved hyperparameters (what `config.json` records). */
export type ResolvedDropoutMLPConfig = {
  readonly [K in Exclude<keyof DropoutMLPConfig, 'generator'>]-?: Exclude<DropoutMLPConfig[K], undefined>;
};

/** The book's hparams: 10 outputs, 256/256 hidden units, dropout 0.5/0.5, lr 0.1, plain SGD. */
export const BOOK_HPARAMS: ResolvedDropoutMLPConfig = {
  numOutputs: 10,
  numHiddens1: 256,
  numHiddens2: 256,
  dropout1: 0.5,
  dropout2: 0.5,
  lr: 0.1,
  momentum: 0,
  weightDecay: 0,
  maxNorm: 0,
  variant: 'bernoulli',
  dropConnect: 0,
};

function resolve(config: DropoutMLPConfig): ResolvedDropoutMLPConfig {
  const { generator: _generator, ...rest } = config;
  // An option given as undefined takes the book's value, as an omitted one does.
  const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  const c = { ...BOOK_HPARAMS, ...given } as ResolvedDropoutMLPConfig;
  // The rates are checked where they enter a layer (nn.Dropout, nn.GaussianDropout) or, for the
  // scratch model's functional dropoutLayer, in its constructor; DropConnect here, because a
  // LazyLinear builds its Linear (which would check it) only at the first forward.
  checkDropoutP(c.dropConnect, 'dropConnect');
  return c;
}

function genOpts(config: DropoutMLPConfig): { generator?: Generator } {
  return config.generator ? { generator: config.generator } : {};
}

/** Refuses the options a model does not implement, rather than silently training without them. */
function refuseNoise(model: string, h: ResolvedDropoutMLPConfig): void {
  if (h.variant !== 'bernoulli' || h.dropConnect !== 0) {
    throw new ArgumentError(
      `${model} applies only Bernoulli dropout; use DropoutMLP for variant 'gaussian' or dropConnect.`,
    );
  }
}

/** d2l's DropoutMLPScratch: applies the from-scratch `dropoutLayer` after each hidden ReLU, only when training. */
export class DropoutMLPScratch extends Classifier implements ListsHiddenActivations {
  override readonly hparams: ResolvedDropoutMLPConfig;
  readonly lin1: LazyLinear;
  readonly lin2: LazyLinear;
  readonly lin3: LazyLinear;
  readonly relu = new ReLU();
  private readonly generator: Generator | undefined;

  /** The book's scratch model; omitted hyperparameters take the book's values. */
  constructor(config: DropoutMLPConfig = {}) {
    super();
    this.hparams = resolve(config);
    // p enters here: dropoutLayer would refuse it only at the first forward.
    checkDropoutP(this.hparams.dropout1, 'dropout1');
    checkDropoutP(this.hparams.dropout2, 'dropout2');
    refuseNoise('DropoutMLPScratch', this.hparams);
    const g = genOpts(config);
    this.generator = config.generator;
    this.lin1 = this.registerModule('lin1', new LazyLinear(this.hparams.numHiddens1, g));
    this.lin2 = this.registerModule('lin2', new LazyLinear(this.hparams.numHiddens2, g));
    this.lin3 = this.registerModule('lin3', new LazyLinear(this.hparams.numOutputs, g));
  }

  /** Its children are deterministic and `forward` drops H1 and H2 only when training: the flag is dropout alone. */
  override get trainingOnlySwitchesDropout(): boolean {
    return true;
  }

  /** H1 = relu(lin1(X)) and H2 = relu(lin2(H1)), without dropout (for nn.activationStats). */
  hiddenActivations(X: Tensor): Tensor[] {
    const H1 = this.relu.forward(this.lin1.forward(X.reshape([X.shape[0]!, -1])));
    return [H1, this.relu.forward(this.lin2.forward(H1))];
  }

  /** H1 = relu(lin1(X)), dropped if training; H2 likewise; logits = lin3(H2). */
  forward(X: Tensor): Tensor {
    const opts = this.generator ? { generator: this.generator } : {};
    let H1 = this.relu.forward(this.lin1.forward(X.reshape([X.shape[0]!, -1])));
    if (this.training) H1 = dropoutLayer(H1, this.hparams.dropout1, opts);
    let H2 = this.relu.forward(this.lin2.forward(H1));
    if (this.training) H2 = dropoutLayer(H2, this.hparams.dropout2, opts);
    return this.lin3.forward(H2);
  }
}

/** d2l's concise DropoutMLP: Sequential(Flatten, Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear). */
export class DropoutMLP extends Classifier {
  override readonly hparams: ResolvedDropoutMLPConfig;
  readonly net: Sequential;

  /** The book's concise model; omitted hyperparameters take the book's values. */
  constructor(config: DropoutMLPConfig = {}) {
    super();
    const h = (this.hparams = resolve(config));
    const g = genOpts(config);
    // DropConnect only when asked: a Linear without it draws nothing for its weights.
    const hidden = h.dropConnect > 0 ? { ...g, dropConnect: h.dropConnect } : g;
    const noise = (p: number): Module =>
      h.variant === 'gaussian' ? new GaussianDropout(p, g) : new Dropout(p, g);
    this.net = this.registerModule(
      'net',
      new Sequential(
        new Flatten(),
        new LazyLinear(h.numHiddens1, hidden),
        new ReLU(),
        noise(h.dropout1),
        new LazyLinear(h.numHiddens2, hidden),
        new ReLU(),
        noise(h.dropout2),
        new LazyLinear(h.numOutputs, g),
      ),
    );
  }

  /** Runs the Sequential. */
  forward(X: Tensor): Tensor {
    return this.net.forward(X);
  }
}

/** The plain MLP baseline: DropoutMLP's architecture with no dropout layers (its noise is recorded as 0). */
export class MLP extends Classifier {
  override readonly hparams: ResolvedDropoutMLPConfig;
  readonly net: Sequential;

  /** A 784→numHiddens1→numHiddens2→numOutputs ReLU MLP without dropout. */
  constructor(config: Omit<DropoutMLPConfig, 'dropout1' | 'dropout2' | 'variant' | 'dropConnect'> = {}) {
    super();
    this.hparams = { ...resolve(config), dropout1: 0, dropout2: 0, variant: 'bernoulli', dropConnect: 0 };
    const g = genOpts(config);
    this.net = this.registerModule(
      'net',
      new Sequential(
        new Flatten(),
        new LazyLinear(this.hparams.numHiddens1, g),
        new ReLU(),
        new LazyLinear(this.hparams.numHiddens2, g),
        new ReLU(),
        new LazyLinear(this.hparams.numOutputs, g),
      ),
    );
  }

  /** Runs the Sequential. */
  forward(X: Tensor): Tensor {
    return this.net.forward(X);
  }
}
