/**
 * What an experiment preset is (labelled groups of run changes, the epochs it is read at, a verdict
 * written from the numbers) and the words its verdicts compare numbers with. The presets themselves
 * are data in presets.ts (beyond the deck) and chapter.ts (the deck's claims, the book's exercises).
 */
import type { ExperimentConfig } from './config.js';
import { meanStd } from './stats.js';

/** One configuration of an experiment: its label and what it changes from the book's run. */
export interface PresetGroup {
  readonly label: string;
  readonly config: Partial<ExperimentConfig>;
}

/** A group's measured numbers at one epoch: every metric's values over seeds. */
export interface GroupNumbers {
  readonly label: string;
  readonly metrics: Readonly<Record<string, readonly number[]>>;
}

/** What a preset's groups may depend on besides the epochs: the data subset and the report mode. */
export interface PresetContext {
  /** The first N training examples the runs use; 0 = all 60,000. */
  readonly trainLimit: number;
  /** MC dropout passes, for the presets that measure them (`usesSamples`). */
  readonly samples: number;
}

/** An extra per-epoch plot: a metric of the tables, with its title. */
export interface PresetCurve {
  readonly metric: string;
  readonly title: string;
}

/** An experiment preset. */
export interface Preset {
  readonly name: string;
  /** Where the report puts it: the deck's claims, the book's exercises, or beyond the deck. */
  readonly part: 'deck' | 'exercise' | 'beyond';
  readonly title: string;
  /** The question it answers, for summary.md and the report. */
  readonly question: string;
  /** Epochs of a full run (overridable with --epochs). */
  readonly epochs: number;
  /** The configurations, for a run of `epochs` epochs. */
  readonly groups: (epochs: number, ctx: PresetContext) => readonly PresetGroup[];
  /** The epochs at which the tables are read (the last one is the verdict's). */
  readonly readAt: (epochs: number) => readonly number[];
  /**
   * A paragraph written from the numbers at the last epoch; `at` holds every read epoch's numbers
   * (for verdicts about how a difference evolves).
   */
  readonly verdict: (
    groups: readonly GroupNumbers[],
    at: ReadonlyMap<number, readonly GroupNumbers[]>,
  ) => string;
  /** What the configurations are, in words (summary.md). */
  readonly notes: string;
  /** Per-epoch plots besides val_acc and train_loss_eval. */
  readonly curves?: readonly PresetCurve[];
  /** Whether the groups use `ctx.samples` (MC passes): the command then names `--samples`. */
  readonly usesSamples?: boolean;
  /** Table columns besides the standard ones (activation and MC metrics, src/cli/experiment.ts). */
  readonly metrics?: readonly string[];
}

/** Mean of a group's metric. */
export function mean(g: GroupNumbers, metric: string): number {
  return meanStd(g.metrics[metric] ?? []).mean;
}

/** "m ± s" of a group's metric over seeds (just "m" for one seed). */
export function fmt(g: GroupNumbers, metric: string, digits = 4): string {
  const { mean: m, std, n } = meanStd(g.metrics[metric] ?? []);
  return n > 1 ? `${m.toFixed(digits)} ± ${std.toFixed(digits)}` : m.toFixed(digits);
}

/**
 * What a verdict says when a group has a single seed: a sample standard deviation needs two values, so
 * one seed shows a difference but no spread to call it clear or slight against.
 */
export const ONE_SEED = 'one seed: no spread to judge by';

/** How a difference compares with the seeds' spread (see compareGroups). */
export type Clarity = 'clearly' | 'slightly' | 'within the seed spread' | typeof ONE_SEED;

/**
 * The words for a difference `diff` against a combined standard deviation `spread` measured over
 * `seeds` seeds (the fewest of the groups compared): with fewer than 2 there is no spread to judge by.
 */
export function clarity(diff: number, spread: number, seeds: number): Clarity {
  if (seeds < 2) return ONE_SEED;
  return Math.abs(diff) > 2 * spread
    ? 'clearly'
    : Math.abs(diff) > spread
      ? 'slightly'
      : 'within the seed spread';
}

/** Whether `words` claim a difference (clearly or slightly): the seed spread and one seed do not. */
export function isDifference(words: Clarity): boolean {
  return words === 'clearly' || words === 'slightly';
}

/**
 * How a difference a − b of two groups' means compares with the seeds' spread: "clearly" when it
 * exceeds twice the combined standard deviation √(s_a² + s_b²), "within the seed spread" when under one.
 */
export function compareGroups(
  a: GroupNumbers,
  b: GroupNumbers,
  metric: string,
): { diff: number; words: Clarity } {
  const x = meanStd(a.metrics[metric] ?? []);
  const y = meanStd(b.metrics[metric] ?? []);
  const diff = x.mean - y.mean;
  return { diff, words: clarity(diff, Math.sqrt(x.std ** 2 + y.std ** 2), Math.min(x.n, y.n)) };
}

/**
 * "higher than B's: a vs b (clearly)": a sentence fragment comparing a metric of two groups. With one
 * seed the direction is the numbers' and the parenthesis says there is no spread to judge it by.
 */
export function versus(
  a: GroupNumbers,
  b: GroupNumbers,
  metric: string,
  higher = 'higher',
  lower = 'lower',
): string {
  const c = compareGroups(a, b, metric);
  const dir =
    c.words === 'within the seed spread' || c.diff === 0
      ? 'no different from'
      : c.diff > 0
        ? `${higher} than`
        : `${lower} than`;
  return `${dir} ${b.label}'s: ${fmt(a, metric)} vs ${fmt(b, metric)} (${c.words})`;
}

/** The group labelled `label` (a preset's own labels: a missing one is a bug). */
export function find(groups: readonly GroupNumbers[], label: string): GroupNumbers {
  const g = groups.find((x) => x.label === label);
  if (g === undefined) throw new Error(`no group ${label}`);
  return g;
}

/** The group with the highest mean of `metric`. */
export function best(groups: readonly GroupNumbers[], metric: string): GroupNumbers {
  return groups.reduce((b, g) => (mean(g, metric) > mean(b, metric) ? g : b));
}

/**
 * A metric's per-seed difference a − b (seeds pair up: the same seed index in both groups), as
 * mean ± std over seeds and its clarity against that std: paired, so a seed's shared luck cancels.
 */
export function pairedDiff(
  a: GroupNumbers,
  b: GroupNumbers,
  metric: string,
): { mean: number; std: number; n: number; words: Clarity } {
  const xs = a.metrics[metric] ?? [];
  const ys = b.metrics[metric] ?? [];
  const d = xs.slice(0, ys.length).map((x, i) => x - ys[i]!);
  const s = meanStd(d);
  return { ...s, words: clarity(s.mean, s.std, s.n) };
}

/** Signed text of a number: "+0.0123" / "−0.0123". */
export function signed(x: number, digits = 4): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
}
