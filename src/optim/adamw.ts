/**
 * AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019, https://arxiv.org/abs/1711.05101),
 * torch.optim.AdamW's algorithm and defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay
 * 0.01). Per parameter, at step t:
 *
 *   w ← w·(1 − η·λ);  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²
 *   w ← w − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 *
 * in PyTorch's operation order. Composed from tensor ops on the parameter's backend (no new kernel);
 * the results are copied back into the parameter's and the moments' own storage, so tensors keep
 * their identity (the model and a checkpoint see the same objects).
 */
import { checkOptions, isPlainObject } from '../tensor/options.js';
import { ArgumentError, formatValue } from '../errors.js';
import { zeros } from '../tensor/creation.js';
import { keep, noGrad, tidy } from '../tensor/engine.js';
import { stridesOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { AdamWHparams, Optimizer, OptimizerState } from './optimizer.js';

/** Hyperparameters of AdamW (PyTorch's names, camel-cased). */
export interface AdamWOptions {
  /** Learning rate η (default 1e-3). */
  lr?: number | undefined;
  /** Decay rates (β₁, β₂) of the first and second moment estimates (default [0.9, 0.999]). */
  betas?: readonly [number, number] | undefined;
  /** ε added to the denominator (default 1e-8). */
  eps?: number | undefined;
  /** Decoupled weight decay λ: w shrinks by η·λ per step, apart from the gradient (default 0.01). */
  weightDecay?: number | undefined;
}

/** A parameter group as given: its parameters and any options that differ from the defaults. */
export interface AdamWParamGroupInput extends AdamWOptions {
  /** The parameters of this group. */
  params: Iterable<Tensor>;
}

/** A parameter group as AdamW holds it: every option resolved; `lr` is writable (schedules set it). */
export interface AdamWParamGroup {
  readonly params: Tensor[];
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
}

/** Refuses hyperparameters outside their ranges, with one line naming the fix. */
function checkHparams(
  where: string,
  lr: number,
  betas: readonly [number, number],
  eps: number,
  weightDecay: number,
): void {
  if (!(Number.isFinite(lr) && lr > 0))
    throw new ArgumentError(`${where}: lr must be a positive number, got ${formatValue(lr)}; e.g. 0.001.`);
  if (!(
    Array.isArray(betas) &&
    betas.length === 2 &&
    betas.every((b) => typeof b === 'number' && b >= 0 && b < 1)
  ))
    throw new ArgumentError(
      `${where}: betas must be in [0, 1), got ${formatValue(betas)}; e.g. [0.9, 0.999].`,
    );
  if (!(Number.isFinite(eps) && eps >= 0))
    throw new ArgumentError(`${where}: eps must be ≥ 0, got ${formatValue(eps)}; e.g. 1e-8.`);
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0))
    throw new ArgumentError(`${where}: weightDecay must be ≥ 0, got ${formatValue(weightDecay)}; e.g. 0.01.`);
}

/** Copies `src` into the storage of `dst` (same shape), keeping `dst`'s identity. */
function assign(dst: Tensor, src: Tensor): void {
  dst.backend.unary('copy', src.id, stridesOf(src.shape), dst.id, dst.shape);
}

/** torch.optim.AdamW; see the file comment. `lr` is writable so a schedule can set it every step. */
export class AdamW implements Optimizer {
  /** Every parameter, group after group (the order of the state's buffers). */
  readonly params: Tensor[];
  /** The parameter groups (one unless given several, e.g. biases and norms without weight decay). */
  readonly paramGroups: AdamWParamGroup[];
  /** The defaults (the options given), which groups without their own override. */
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  /** Steps taken (PyTorch keeps one per parameter; they move together here, as in a plain training loop). */
  private steps = 0;
  private readonly expAvg = new Map<Tensor, Tensor>();
  private readonly expAvgSq = new Map<Tensor, Tensor>();

  /** Optimises `params` (e.g. `model.parameters()`). */
  constructor(params: Tensor[] | readonly AdamWParamGroupInput[], opts: AdamWOptions = {}) {
    const list = [...(params as Iterable<unknown>)];
    const grouped = list.length > 0 && list.every(isPlainObject);
    if (!grouped && !list.every((p) => p instanceof Tensor)) {
      throw new ArgumentError(
        'AdamW: pass model.parameters(), or parameter groups such as [{ params: decay }, { params: noDecay, weightDecay: 0 }].',
      );
    }
    // Each group's params read once (they may be a one-shot iterable).
    const groupInputs = (
      grouped ? (list as unknown as AdamWParamGroupInput[]) : [{ params: list as Tensor[] }]
    ).map((g) => ({ ...g, params: [...g.params] }));
    if (groupInputs.every((g) => [...g.params].length === 0)) {
      throw new ArgumentError('AdamW: got no parameters to optimise; pass model.parameters().', {
        code: 'ERR_NO_PARAMETERS',
      });
    }
    checkOptions('AdamW', opts, ['lr', 'betas', 'eps', 'weightDecay'], {
      amsgrad: 'AMSGrad is not implemented; remove amsgrad',
      maximize: 'minimise the negated loss instead',
      weight_decay: "the option is spelt 'weightDecay'",
    });
    const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0.01 } = opts;
    checkHparams('AdamW', lr, betas, eps, weightDecay);
    this.betas = [betas[0], betas[1]];
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.paramGroups = groupInputs.map((g, i) => {
      if (!grouped) return { params: [...g.params], lr, betas: this.betas, eps, weightDecay };
      checkOptions(`AdamW parameter group ${i}`, g, ['params', 'lr', 'betas', 'eps', 'weightDecay']);
      const group: AdamWParamGroup = {
        params: [...g.params],
        lr: g.lr ?? lr,
        betas: g.betas ?? this.betas,
        eps: g.eps ?? eps,
        weightDecay: g.weightDecay ?? weightDecay,
      };
      checkHparams(`AdamW parameter group ${i}`, group.lr, group.betas, group.eps, group.weightDecay);
      return group;
    });
    this.params = this.paramGroups.flatMap((g) => g.params);
  }

  /** The first group's learning rate; setting it sets every group's (a Trainer schedule's single rate). */
  get lr(): number {
    return this.paramGroups[0]!.lr;
  }
  set lr(value: number) {
    for (const g of this.paramGroups) g.lr = value;
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.steps;
  }

  private moment(store: Map<Tensor, Tensor>, p: Tensor): Tensor {
    let m = store.get(p);
    if (m === undefined) {
      m = keep(zeros(p.shape, { backend: p.backend }));
      store.set(p, m);
    }
    return m;
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    this.steps++;
    const t = this.steps;
    noGrad(() =>
      tidy(() => {
        for (const group of this.paramGroups) {
          const [b1, b2] = group.betas;
          const stepSize = group.lr / (1 - b1 ** t);
          const bc2Sqrt = Math.sqrt(1 - b2 ** t);
          for (const p of group.params) {
            const g = p.grad;
            if (g === null) continue;
            const m = this.moment(this.expAvg, p);
            const v = this.moment(this.expAvgSq, p);
            const decayed = group.weightDecay > 0 ? p.mul(1 - group.lr * group.weightDecay) : p;
            assign(m, m.mul(b1).add(g.mul(1 - b1)));
            assign(v, v.mul(b2).add(g.mul(g).mul(1 - b2)));
            const root = Tensor.uninitialized(v.backend, v.shape);
            v.backend.unary('sqrt', v.id, stridesOf(v.shape), root.id, v.shape);
            const denom = root.div(bc2Sqrt).add(group.eps);
            assign(p, decayed.sub(m.div(denom).mul(stepSize)));
            root.dispose();
          }
        }
      }),
    );
  }

  /** Resets gradients to null (set_to_none semantics). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** The hyperparameters, with the current `lr` (a checkpoint's record of the optimiser). */
  hparams(): AdamWHparams {
    return { name: 'AdamW', lr: this.lr, betas: this.betas, eps: this.eps, weightDecay: this.weightDecay };
  }

  /**
   * Copies of the step count and both moments (PyTorch's `exp_avg`, `exp_avg_sq`), one entry per
   * parameter in `params` order (null before its first step); synchronous (CPU backends).
   */
  state(): OptimizerState {
    const read = (store: Map<Tensor, Tensor>): (Float32Array | null)[] =>
      this.params.map((p) => store.get(p)?.dataSync() ?? null);
    return { step: this.steps, buffers: { exp_avg: read(this.expAvg), exp_avg_sq: read(this.expAvgSq) } };
  }

  /** Restores a state saved by `state()` (same parameter order and sizes); missing moments start at zero. */
  loadState(state: OptimizerState): void {
    if (!(Number.isInteger(state.step) && state.step >= 0))
      throw new ArgumentError(
        `AdamW: the saved step count must be an integer ≥ 0, got ${formatValue(state.step)}.`,
      );
    for (const [what, list, store] of [
      ['first moments', state.buffers['exp_avg'] ?? this.params.map(() => null), this.expAvg],
      ['second moments', state.buffers['exp_avg_sq'] ?? this.params.map(() => null), this.expAvgSq],
    ] as const) {
      if (list.length !== this.params.length) {
        throw new ArgumentError(
          `AdamW: ${list.length} ${what} for ${this.params.length} parameters; load the state of the same model.`,
        );
      }
      this.params.forEach((p, i) => {
        const values = list[i]!;
        if (values === null) {
          store.get(p)?.dispose();
          store.delete(p);
          return;
        }
        if (values.length !== p.size) {
          throw new ArgumentError(
            `AdamW: ${what} ${i} has ${values.length} values but its parameter has ${p.size}.`,
          );
        }
        p.backend.write(this.moment(store, p).id, values);
      });
    }
    this.steps = state.step;
  }
}
