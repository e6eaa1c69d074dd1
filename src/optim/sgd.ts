/** Minibatch stochastic gradient descent with optional momentum and weight decay (torch.optim.SGD). */
import { ArgumentError, formatValue } from '../errors.js';
import { applyMaxNorm } from '../ops/maxNorm.js';
import { zeros } from '../tensor/creation.js';
import { keep } from '../tensor/engine.js';
import { checkOptions } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';
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

/**
 * w ← w − η·v, v ← μ·v + (g + λ·w) (PyTorch's formulation), one fused kernel per parameter; then,
 * with `maxNorm`, each weight row is projected onto ‖w‖₂ ≤ c (the paper's recipe).
 */
export class SGD implements Optimizer {
  /** The learning rate of the next step (a schedule may set it before each step). */
  lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly maxNorm: number | undefined;
  private readonly velocity = new Map<Tensor, Tensor>();
  private steps = 0;

  /** Optimises `params` (e.g. `model.parameters()`). */
  constructor(
    readonly params: Tensor[],
    opts: SGDOptions,
  ) {
    if (params.length === 0) {
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
    this.lr = lr;
    this.momentum = momentum;
    this.weightDecay = weightDecay;
    if (maxNorm !== undefined && !(Number.isFinite(maxNorm) && maxNorm > 0)) {
      throw new ArgumentError(
        `SGD: maxNorm must be a positive number, got ${maxNorm}; the paper uses 3 to 4.`,
      );
    }
    this.maxNorm = maxNorm;
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    this.steps++;
    for (const p of this.params) {
      if (p.grad === null) continue;
      let v = -1;
      if (this.momentum > 0) {
        let buf = this.velocity.get(p);
        if (buf === undefined) {
          buf = keep(zeros(p.shape, { backend: p.backend }));
          this.velocity.set(p, buf);
        }
        v = buf.id;
      }
      p.backend.sgdStep(p.id, p.grad.id, v, p.size, {
        lr: this.lr,
        momentum: this.momentum,
        weightDecay: this.weightDecay,
      });
    }
    if (this.maxNorm !== undefined) applyMaxNorm(this.params, this.maxNorm);
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
