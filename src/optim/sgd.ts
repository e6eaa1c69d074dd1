/** Minibatch stochastic gradient descent with optional momentum and weight decay (torch.optim.SGD). */
import { ArgumentError, formatValue } from '../errors.js';
import { applyMaxNorm } from '../ops/maxNorm.js';
import { zeros } from '../tensor/creation.js';
import { keep } from '../tensor/engine.js';
import { checkOptions, isPlainObject } from '../tensor/options.js';
import { Tensor } from '../tensor/tensor.js';
import type { Optimizer, OptimizerState, SGDHparams } from './optimizer.js';

/** Hyperparameters of SGD. */
export interface SGDOptions {
  /** Learning rate η. */
  lr: number;
  /** Momentum μ (0 = plain SGD). */
  momentum?: number | undefined;
  /** L2 penalty λ added to the gradient: g + λw. */
  weightDecay?: number | undefined;
  /** Max-norm c: after each step every row of each 2-D weight is rescaled to ‖w‖₂ ≤ c (paper §5.1); off by default. */
  maxNorm?: number | undefined;
}

/** A parameter group as given: its parameters and any options that differ from the defaults. */
export interface SGDParamGroupInput {
  /** The parameters of this group. */
  params: Iterable<Tensor>;
  /** This group's learning rate (default: the options'). */
  lr?: number | undefined;
  /** This group's momentum (default: the options'). */
  momentum?: number | undefined;
  /** This group's weight decay (default: the options'; e.g. 0 for biases and norms). */
  weightDecay?: number | undefined;
}

/** A parameter group as SGD holds it: every option resolved; `lr` is writable (schedules set it). */
export interface SGDParamGroup {
  readonly params: Tensor[];
  lr: number;
  momentum: number;
  weightDecay: number;
}

function checkGroup(g: SGDParamGroup): SGDParamGroup {
  if (!(Number.isFinite(g.lr) && g.lr > 0))
    throw new ArgumentError(`SGD: lr must be a positive number, got ${formatValue(g.lr)}; e.g. 0.1.`);
  if (!(typeof g.momentum === 'number' && g.momentum >= 0 && g.momentum < 1))
    throw new ArgumentError(`SGD: momentum must be in [0, 1), got ${formatValue(g.momentum)}.`);
  if (!(typeof g.weightDecay === 'number' && g.weightDecay >= 0))
    throw new ArgumentError(`SGD: weightDecay must be ≥ 0, got ${formatValue(g.weightDecay)}.`);
  return g;
}

/**
 * w ← w − η·v, v ← μ·v + (g + λ·w) (PyTorch's formulation), one fused kernel per parameter; then,
 * with `maxNorm`, each weight row is projected onto ‖w‖₂ ≤ c (the paper's recipe).
 */
export class SGD implements Optimizer {
  /** Every parameter, group after group (the order of the state's buffers). */
  readonly params: Tensor[];
  /** The parameter groups, each with its own lr, momentum and weight decay (one group unless given several). */
  readonly paramGroups: SGDParamGroup[];
  /** The defaults (the options given), which groups without their own override. */
  readonly momentum: number;
  readonly weightDecay: number;
  readonly maxNorm: number | undefined;
  private readonly velocity = new Map<Tensor, Tensor>();
  private steps = 0;

  /** Optimises `params` (e.g. `model.parameters()`). */
  constructor(params: Tensor[] | readonly SGDParamGroupInput[], opts: SGDOptions) {
    const list = [...(params as Iterable<unknown>)];
    const grouped = list.length > 0 && list.every(isPlainObject);
    if (!grouped && !list.every((p) => p instanceof Tensor)) {
      throw new ArgumentError(
        'SGD: pass model.parameters(), or parameter groups such as [{ params: a.parameters(), lr: 0.01 }, { params: b.parameters() }].',
      );
    }
    const groupInputs = (
      grouped ? (list as unknown as SGDParamGroupInput[]) : [{ params: list as Tensor[] }]
    ).map((g) => ({ ...g, params: [...g.params] }));
    const flat = groupInputs.flatMap((g) => [...g.params]);
    if (flat.length === 0) {
      throw new ArgumentError(
        'SGD: got no parameters to optimise; pass model.parameters() of a model whose layers are fields ' +
          '(or registered with registerModule), after lazy layers have seen an input or loaded a state dict.',
        { code: 'ERR_NO_PARAMETERS' },
      );
    }
    checkOptions('SGD', opts, ['lr', 'momentum', 'weightDecay', 'maxNorm'], {
      nesterov: 'this SGD has heavy-ball momentum only; remove nesterov (or use AdamW)',
      dampening: 'momentum is undampened here, as PyTorch by default; remove dampening',
      maximize: 'minimise the negated loss instead',
      weight_decay: "the option is spelt 'weightDecay'",
    });
    if (opts?.lr === undefined) {
      throw new ArgumentError('SGD: give a learning rate, e.g. new SGD(params, { lr: 0.1 }).');
    }
    const { lr, momentum = 0, weightDecay = 0, maxNorm } = opts;
    if (!(Number.isFinite(lr) && lr > 0))
      throw new ArgumentError(`SGD: lr must be a positive number, got ${formatValue(lr)}; e.g. 0.1.`);
    if (!(typeof momentum === 'number' && momentum >= 0 && momentum < 1))
      throw new ArgumentError(`SGD: momentum must be in [0, 1), got ${formatValue(momentum)}.`);
    if (!(typeof weightDecay === 'number' && weightDecay >= 0))
      throw new ArgumentError(`SGD: weightDecay must be ≥ 0, got ${formatValue(weightDecay)}.`);
    this.momentum = momentum;
    this.weightDecay = weightDecay;
    this.paramGroups = groupInputs.map((g, i) => {
      if (grouped) checkOptions(`SGD parameter group ${i}`, g, ['params', 'lr', 'momentum', 'weightDecay']);
      return checkGroup({
        params: [...g.params],
        lr: g.lr ?? lr,
        momentum: g.momentum ?? momentum,
        weightDecay: g.weightDecay ?? weightDecay,
      });
    });
    this.params = this.paramGroups.flatMap((g) => g.params);
    if (maxNorm !== undefined && !(Number.isFinite(maxNorm) && maxNorm > 0)) {
      throw new ArgumentError(
        `SGD: maxNorm must be a positive number, got ${maxNorm}; the paper uses 3 to 4.`,
      );
    }
    this.maxNorm = maxNorm;
  }

  /** The first group's learning rate; setting it sets every group's (a Trainer schedule's single rate). */
  get lr(): number {
    return this.paramGroups[0]!.lr;
  }
  set lr(value: number) {
    for (const g of this.paramGroups) g.lr = value;
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    this.steps++;
    for (const group of this.paramGroups) this.stepGroup(group);
    if (this.maxNorm !== undefined) applyMaxNorm(this.params, this.maxNorm);
  }

  private stepGroup(group: SGDParamGroup): void {
    for (const p of group.params) {
      if (p.grad === null) continue;
      let v = -1;
      if (group.momentum > 0) {
        let buf = this.velocity.get(p);
        if (buf === undefined) {
          buf = keep(zeros(p.shape, { backend: p.backend }));
          this.velocity.set(p, buf);
        }
        v = buf.id;
      }
      p.backend.sgdStep(p.id, p.grad.id, v, p.size, {
        lr: group.lr,
        momentum: group.momentum,
        weightDecay: group.weightDecay,
      });
    }
  }

  /**
   * Copies of the momentum buffers, one per parameter in `params` order (null where none exists yet,
   * e.g. before the first step or with momentum 0), for checkpoints; synchronous (CPU backends).
   */
  velocityState(): (Float32Array | null)[] {
    return this.params.map((p) => this.velocity.get(p)?.dataSync() ?? null);
  }

  /** Restores buffers saved by `velocityState` (same parameter order and sizes); null drops a buffer. */
  loadVelocityState(state: readonly (Float32Array | null)[]): void {
    if (state.length !== this.params.length) {
      throw new ArgumentError(
        `SGD: ${state.length} momentum buffers for ${this.params.length} parameters; load the state of the same model.`,
      );
    }
    this.params.forEach((p, i) => {
      const values = state[i]!;
      const old = this.velocity.get(p);
      if (values === null) {
        old?.dispose();
        this.velocity.delete(p);
        return;
      }
      if (values.length !== p.size) {
        throw new ArgumentError(
          `SGD: momentum buffer ${i} has ${values.length} values but its parameter has ${p.size}.`,
        );
      }
      const buf = old ?? keep(zeros(p.shape, { backend: p.backend }));
      p.backend.write(buf.id, values);
      this.velocity.set(p, buf);
    });
  }

  /** The hyperparameters, with the current `lr` (a checkpoint's record of the optimiser). */
  hparams(): SGDHparams {
    return {
      name: 'SGD',
      lr: this.lr,
      momentum: this.momentum,
      weightDecay: this.weightDecay,
      maxNorm: this.maxNorm ?? null,
    };
  }

  /** Steps taken and the momentum buffers (PyTorch's `momentum_buffer`), for checkpoints. */
  state(): OptimizerState {
    return { step: this.steps, buffers: { momentum: this.velocityState() } };
  }

  /** Restores a state saved by `state()`; a state without momentum buffers drops them. */
  loadState(state: OptimizerState): void {
    if (!(Number.isInteger(state.step) && state.step >= 0))
      throw new ArgumentError(
        `SGD: the saved step count must be an integer ≥ 0, got ${formatValue(state.step)}.`,
      );
    this.loadVelocityState(state.buffers['momentum'] ?? this.params.map(() => null));
    this.steps = state.step;
  }

  /** Resets gradients to null (set_to_none semantics). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }
}

/**
 * SGD from a model's or run's hyperparameters, where max-norm 0 means off (the book's plain SGD,
 * or the paper's recipe with momentum, weight decay and max-norm): the one recipe every model and
 * the run layer build.
 */
export function sgdFromHparams(
  params: Tensor[],
  h: {
    readonly lr: number;
    readonly momentum: number;
    readonly weightDecay: number;
    readonly maxNorm: number;
  },
): SGD {
  return new SGD(params, {
    lr: h.lr,
    momentum: h.momentum,
    weightDecay: h.weightDecay,
    ...(h.maxNorm > 0 ? { maxNorm: h.maxNorm } : {}),
  });
}
