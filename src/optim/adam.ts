/**
 * Adam (Kingma & Ba 2015, https://arxiv.org/abs/1412.6980), torch.optim.Adam's algorithm, defaults
 * and parameter groups. Per parameter, at step t, with L2 weight decay λ added to the gradient
 * (coupled, unlike AdamW's):
 *
 *   g ← g + λw;  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²
 *   w ← w − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 *
 * Parameter groups (PyTorch's form): `new Adam([{ params: body, lr: 1e-4 }, { params: head }], { lr: 1e-3 })`;
 * a group's own options override the defaults. Composed from tensor ops; the results are copied into
 * the parameters' and moments' own storage, so tensors keep their identity.
 */
import { ArgumentError, formatValue } from '../errors.js';
import { zeros } from '../tensor/creation.js';
import { keep, noGrad, tidy } from '../tensor/engine.js';
import { checkOptions, isPlainObject } from '../tensor/options.js';
import { Tensor } from '../tensor/tensor.js';
import type { AdamHparams, Optimizer, OptimizerState } from './optimizer.js';

/** Hyperparameters of Adam (PyTorch's names and defaults, camel-cased). */
export interface AdamOptions {
  /** Learning rate η (default 1e-3). */
  lr?: number | undefined;
  /** Decay rates (β₁, β₂) of the moment estimates (default [0.9, 0.999]). */
  betas?: readonly [number, number] | undefined;
  /** ε added to the denominator (default 1e-8). */
  eps?: number | undefined;
  /** L2 penalty λ added to the gradient (default 0). */
  weightDecay?: number | undefined;
}

/** A parameter group as given: its parameters and any options that differ from the defaults. */
export interface ParamGroupInput extends AdamOptions {
  /** The parameters of this group. */
  params: Iterable<Tensor>;
}

/** A parameter group as Adam holds it: every option resolved; `lr` is writable (schedules set it). */
export interface ParamGroup {
  readonly params: Tensor[];
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
}

const KEYS = ['lr', 'betas', 'eps', 'weightDecay'];

function resolveGroup(params: Tensor[], o: AdamOptions, base: Omit<ParamGroup, 'params'>): ParamGroup {
  const g: ParamGroup = {
    params,
    lr: o.lr ?? base.lr,
    betas: o.betas ?? base.betas,
    eps: o.eps ?? base.eps,
    weightDecay: o.weightDecay ?? base.weightDecay,
  };
  if (!(Number.isFinite(g.lr) && g.lr > 0))
    throw new ArgumentError(`Adam: lr must be a positive number, got ${formatValue(g.lr)}; e.g. 0.001.`);
  if (!(
    Array.isArray(g.betas) &&
    g.betas.length === 2 &&
    g.betas.every((b) => typeof b === 'number' && b >= 0 && b < 1)
  ))
    throw new ArgumentError(
      `Adam: betas must be two numbers in [0, 1), got ${formatValue(g.betas)}; e.g. [0.9, 0.999].`,
    );
  if (!(Number.isFinite(g.eps) && g.eps >= 0))
    throw new ArgumentError(`Adam: eps must be ≥ 0, got ${formatValue(g.eps)}; e.g. 1e-8.`);
  if (!(Number.isFinite(g.weightDecay) && g.weightDecay >= 0))
    throw new ArgumentError(`Adam: weightDecay must be ≥ 0, got ${formatValue(g.weightDecay)}.`);
  return g;
}

/** Copies `src` into the storage of `dst` (same shape), keeping `dst`'s identity. */
function assign(dst: Tensor, src: Tensor): void {
  dst.backend.unary('copy', src.id, src.strides(), dst.id, dst.shape);
}

/** torch.optim.Adam; see the file comment. */
export class Adam implements Optimizer {
  /** The parameter groups, each with its own options. */
  readonly paramGroups: ParamGroup[];
  /** Every parameter, group after group (the order of the state's buffers). */
  readonly params: Tensor[];
  private steps = 0;
  private readonly expAvg = new Map<Tensor, Tensor>();
  private readonly expAvgSq = new Map<Tensor, Tensor>();

  /** Optimises `params` (a list of tensors, or of parameter groups) with `opts` as the defaults. */
  constructor(params: Iterable<Tensor> | readonly ParamGroupInput[], opts: AdamOptions = {}) {
    checkOptions('Adam', opts, KEYS, {
      amsgrad: 'AMSGrad is not implemented; remove amsgrad',
      weight_decay: "the option is spelt 'weightDecay'",
      maximize: 'minimise the negated loss instead',
    });
    const base = resolveGroup([], opts, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
    const list = [...(params as Iterable<unknown>)];
    const grouped = list.length > 0 && list.every(isPlainObject);
    if (!grouped && !list.every((p) => p instanceof Tensor)) {
      throw new ArgumentError(
        'Adam: pass model.parameters(), or parameter groups such as [{ params: a.parameters(), lr: 1e-4 }, { params: b.parameters() }].',
      );
    }
    this.paramGroups = grouped
      ? (list as unknown as ParamGroupInput[]).map((g, i) => {
          checkOptions(`Adam parameter group ${i}`, g, ['params', ...KEYS]);
          return resolveGroup([...g.params], g, base);
        })
      : [{ ...base, params: list as Tensor[] }];
    this.params = this.paramGroups.flatMap((g) => g.params);
    if (this.params.length === 0) {
      throw new ArgumentError('Adam: got no parameters to optimise; pass model.parameters().', {
        code: 'ERR_NO_PARAMETERS',
      });
    }
  }

  /** The first group's learning rate; setting it sets every group's (a Trainer schedule's single rate). */
  get lr(): number {
    return this.paramGroups[0]!.lr;
  }
  set lr(value: number) {
    for (const g of this.paramGroups) g.lr = value;
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
            if (p.grad === null) continue;
            const g = group.weightDecay > 0 ? p.grad.add(p.mul(group.weightDecay)) : p.grad;
            const m = this.moment(this.expAvg, p);
            const v = this.moment(this.expAvgSq, p);
            assign(m, m.mul(b1).add(g.mul(1 - b1)));
            assign(v, v.mul(b2).add(g.mul(g).mul(1 - b2)));
            const denom = v.sqrt().div(bc2Sqrt).add(group.eps);
            assign(p, p.sub(m.div(denom).mul(stepSize)));
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

  /** The first group's hyperparameters, with the current `lr`. */
  hparams(): AdamHparams {
    const g = this.paramGroups[0]!;
    return { name: 'Adam', lr: g.lr, betas: g.betas, eps: g.eps, weightDecay: g.weightDecay };
  }

  /** Copies of the step count and both moments (`exp_avg`, `exp_avg_sq`) in `params` order; CPU backends. */
  state(): OptimizerState {
    const read = (store: Map<Tensor, Tensor>): (Float32Array | null)[] =>
      this.params.map((p) => store.get(p)?.dataSync() ?? null);
    return { step: this.steps, buffers: { exp_avg: read(this.expAvg), exp_avg_sq: read(this.expAvgSq) } };
  }

  /** Restores a state saved by `state()` (same parameters, same order). */
  loadState(state: OptimizerState): void {
    if (!(Number.isInteger(state.step) && state.step >= 0))
      throw new ArgumentError(
        `Adam: the saved step count must be an integer ≥ 0, got ${formatValue(state.step)}.`,
      );
    for (const [key, store] of [
      ['exp_avg', this.expAvg],
      ['exp_avg_sq', this.expAvgSq],
    ] as const) {
      const list = state.buffers[key] ?? this.params.map(() => null);
      if (list.length !== this.params.length) {
        throw new ArgumentError(`Adam: ${list.length} ${key} buffers for ${this.params.length} parameters.`);
      }
      this.params.forEach((p, i) => {
        const values = list[i]!;
        store.get(p)?.dispose();
        store.delete(p);
        if (values === null) return;
        if (values.length !== p.size) {
          throw new ArgumentError(
            `Adam: ${key} ${i} has ${values.length} values but its parameter has ${p.size}.`,
          );
        }
        const m = keep(zeros(p.shape, { backend: p.backend }));
        p.backend.write(m.id, values);
        store.set(p, m);
      });
    }
    this.steps = state.step;
  }
}
