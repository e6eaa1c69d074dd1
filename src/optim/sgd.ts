/** Minibatch stochastic gradient descent with optional momentum and weight decay (torch.optim.SGD). */
import { ArgumentError } from '../errors.js';
import { zeros } from '../tensor/creation.js';
import { keep } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';

/** Hyperparameters of SGD. */
export interface SGDOptions {
  /** Learning rate η. */
  lr: number;
  /** Momentum μ (0 = plain SGD). */
  momentum?: number;
  /** L2 penalty λ added to the gradient: g + λw. */
  weightDecay?: number;
}

/** w ← w − η·v, v ← μ·v + (g + λ·w) (PyTorch's formulation), one fused kernel per parameter. */
export class SGD {
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  private readonly velocity = new Map<Tensor, Tensor>();

  /** Optimises `params` (e.g. `model.parameters()`). */
  constructor(
    readonly params: Tensor[],
    opts: SGDOptions,
  ) {
    const { lr, momentum = 0, weightDecay = 0 } = opts;
    if (!(Number.isFinite(lr) && lr > 0))
      throw new ArgumentError(`SGD: lr must be a positive number, got ${lr}; e.g. 0.1.`);
    if (!(momentum >= 0 && momentum < 1))
      throw new ArgumentError(`SGD: momentum must be in [0, 1), got ${momentum}.`);
    if (!(weightDecay >= 0)) throw new ArgumentError(`SGD: weightDecay must be ≥ 0, got ${weightDecay}.`);
    this.lr = lr;
    this.momentum = momentum;
    this.weightDecay = weightDecay;
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
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
  }

  /** Resets gradients to null (set_to_none semantics). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }
}
