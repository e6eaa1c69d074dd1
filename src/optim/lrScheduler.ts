/**
 * Learning-rate schedulers as objects, torch.optim.lr_scheduler's: StepLR, CosineAnnealingLR,
 * LinearLR and SequentialLR. Construct one on an optimiser (it sets the epoch-0 rate at once), call
 * `step()` after each epoch's `optimizer.step()`s, read `getLastLr()`. Each computes its rate in
 * closed form from the group's initial rate (PyTorch's `initial_lr`), so a scheduler can be restarted
 * inside a SequentialLR and stays exact however many epochs pass. Adam's parameter groups are
 * scheduled one by one; another optimiser's single `lr` is one group.
 */
import { ArgumentError, formatValue } from '../errors.js';
import { checkOptions } from '../tensor/options.js';
import type { Optimizer } from './optimizer.js';

/** The rates a scheduler reads and writes: an optimiser's parameter groups, or its one `lr`. */
interface RateSlots {
  get(): number[];
  set(rates: readonly number[]): void;
}

function slots(optimizer: Optimizer): RateSlots {
  const groups = (optimizer as { paramGroups?: { lr: number }[] }).paramGroups;
  if (groups !== undefined)
    return {
      get: () => groups.map((g) => g.lr),
      set: (r) => groups.forEach((g, i) => (g.lr = r[i]!)),
    };
  return { get: () => [optimizer.lr], set: (r) => (optimizer.lr = r[0]!) };
}

/** Each optimiser's rates before its first scheduler touched them (PyTorch's group['initial_lr']). */
const initialRates = new WeakMap<Optimizer, number[]>();

function positiveInteger(v: unknown, what: string): number {
  if (!(Number.isInteger(v) && (v as number) > 0)) {
    throw new ArgumentError(`${what} must be a positive integer, got ${formatValue(v)}.`);
  }
  return v as number;
}

/** Base of the schedulers: the epoch counter, the initial rates and the writes. */
export abstract class LRScheduler {
  /** Epochs stepped so far (0 right after construction). */
  lastEpoch = 0;
  /** The initial rate of each group. */
  readonly baseLrs: readonly number[];
  private readonly slots: RateSlots;

  /** Schedules `optimizer`'s rates; the subclass then calls `begin` to set the epoch-0 rate. */
  constructor(readonly optimizer: Optimizer) {
    if (typeof (optimizer as Partial<Optimizer> | undefined)?.step !== 'function') {
      throw new ArgumentError(
        `${new.target.name}: the first argument must be an optimiser, e.g. new optim.SGD(…).`,
      );
    }
    this.slots = slots(optimizer);
    if (!initialRates.has(optimizer)) initialRates.set(optimizer, this.slots.get());
    this.baseLrs = initialRates.get(optimizer)!;
  }

  /**
   * Writes the epoch-0 rates, unless `apply` is false (a scheduler built for a SequentialLR, which
   * writes its own); called by each subclass once its own fields are set.
   */
  protected begin(apply: boolean): void {
    if (apply) this.slots.set(this.ratesAt(0));
  }

  /** The rate at `epoch` of a group whose initial rate is `base`. */
  abstract lrAt(epoch: number, base: number): number;

  /** Every group's rate at `epoch`. */
  ratesAt(epoch: number): number[] {
    return this.baseLrs.map((b) => this.lrAt(epoch, b));
  }

  /** Moves to the next epoch and writes its rates into the optimiser. */
  step(): void {
    this.lastEpoch++;
    this.slots.set(this.ratesAt(this.lastEpoch));
  }

  /** The rates last written (PyTorch's get_last_lr()). */
  getLastLr(): number[] {
    return this.slots.get();
  }
}

/** lr = base · γ^⌊epoch / stepSize⌋ (torch.optim.lr_scheduler.StepLR). */
export class StepLR extends LRScheduler {
  /** Decays by `gamma` (default 0.1) every `stepSize` epochs. */
  constructor(
    optimizer: Optimizer,
    readonly stepSize: number,
    readonly opts: { gamma?: number | undefined } = {},
  ) {
    checkOptions('StepLR', opts, ['gamma']);
    positiveInteger(stepSize, 'StepLR: stepSize');
    super(optimizer);
    this.begin(true);
  }
  /** base · γ^⌊epoch / stepSize⌋. */
  lrAt(epoch: number, base: number): number {
    return base * (this.opts.gamma ?? 0.1) ** Math.floor(epoch / this.stepSize);
  }
}

/** lr = ηmin + (base − ηmin)·(1 + cos(π·epoch / tMax)) / 2 (torch.optim.lr_scheduler.CosineAnnealingLR, SGDR without restarts). */
export class CosineAnnealingLR extends LRScheduler {
  /** Anneals from the initial rate to `etaMin` (default 0) over `tMax` epochs. */
  constructor(
    optimizer: Optimizer,
    readonly tMax: number,
    readonly opts: { etaMin?: number | undefined } = {},
    apply = true,
  ) {
    checkOptions('CosineAnnealingLR', opts, ['etaMin']);
    positiveInteger(tMax, 'CosineAnnealingLR: tMax');
    super(optimizer);
    this.begin(apply);
  }
  /** ηmin + (base − ηmin)·(1 + cos(π·epoch / tMax)) / 2. */
  lrAt(epoch: number, base: number): number {
    const etaMin = this.opts.etaMin ?? 0;
    return etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

/** lr = base · factor, the factor moving linearly from startFactor to endFactor over totalIters epochs (LinearLR). */
export class LinearLR extends LRScheduler {
  /** PyTorch's defaults: startFactor 1/3, endFactor 1, totalIters 5. */
  constructor(
    optimizer: Optimizer,
    readonly opts: {
      startFactor?: number | undefined;
      endFactor?: number | undefined;
      totalIters?: number | undefined;
    } = {},
    apply = true,
  ) {
    checkOptions('LinearLR', opts, ['startFactor', 'endFactor', 'totalIters']);
    const { startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = opts;
    if (!(startFactor > 0 && startFactor <= 1 && endFactor >= 0 && endFactor <= 1)) {
      throw new ArgumentError(
        `LinearLR: startFactor must be in (0, 1] and endFactor in [0, 1], got ${formatValue(startFactor)} and ${formatValue(endFactor)}.`,
      );
    }
    positiveInteger(totalIters, 'LinearLR: totalIters');
    super(optimizer);
    this.begin(apply);
  }
  /** base · (start + (end − start)·min(epoch, total)/total). */
  lrAt(epoch: number, base: number): number {
    const { startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = this.opts;
    return base * (startFactor + ((endFactor - startFactor) * Math.min(epoch, totalIters)) / totalIters);
  }
}

/**
 * One scheduler after another (torch.optim.lr_scheduler.SequentialLR): `schedulers[i]` runs from
 * `milestones[i − 1]` on, restarted at its own epoch 0 — e.g. a LinearLR warm-up, then cosine.
 */
export class SequentialLR extends LRScheduler {
  /** Chains `schedulers` (built on the same optimiser), switching at the `milestones` epochs. */
  constructor(
    optimizer: Optimizer,
    readonly schedulers: readonly LRScheduler[],
    readonly milestones: readonly number[],
  ) {
    if (schedulers.length === 0 || milestones.length !== schedulers.length - 1) {
      throw new ArgumentError(
        `SequentialLR: ${schedulers.length} schedulers need ${Math.max(0, schedulers.length - 1)} milestones, got ${formatValue(milestones)}.`,
      );
    }
    if (schedulers.some((s) => s.optimizer !== optimizer)) {
      throw new ArgumentError(
        'SequentialLR: every scheduler must be built on the optimiser given to SequentialLR.',
      );
    }
    milestones.forEach((m, i) => {
      positiveInteger(m, 'SequentialLR: a milestone');
      if (i > 0 && m <= milestones[i - 1]!)
        throw new ArgumentError('SequentialLR: milestones must increase.');
    });
    super(optimizer);
    this.begin(true);
  }
  /** The active scheduler's rate at its own epoch (epochs since its milestone). */
  lrAt(epoch: number, base: number): number {
    let i = 0;
    while (i < this.milestones.length && epoch >= this.milestones[i]!) i++;
    const start = i === 0 ? 0 : this.milestones[i - 1]!;
    return this.schedulers[i]!.lrAt(epoch - start, base);
  }
}
