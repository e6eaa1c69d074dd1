/**
 * Every run a command will do, resolved once, before any data, file or training is touched: the
 * settings given (flags, the lab's form, a sweep's grid point, a preset's group) are completed with
 * the model's own defaults and the option table's, checked (each field against the table, the rules
 * between fields, what the model refuses), a setting that does nothing for any of the command's runs
 * is refused or noted (the table's `ifUnused`), and each run is put in its canonical form. runOne and
 * the experiment pool train what comes out of here without checking it again.
 */
import { ArgumentError } from '../errors.js';
import type { RunConfig } from './config.js';
import { modelEntry } from './models.js';
import { canonicalConfig, checkRun, completeConfig, RUN_OPTIONS, type RunOption } from './options.js';

/** The runs of one command, in order, and the notes to print before the first starts. */
export interface ResolvedRuns {
  readonly configs: readonly RunConfig[];
  /** One line per setting given that does nothing for any run (its table row says 'warn'). */
  readonly notes: readonly string[];
}

/** How the settings were given. */
export interface ResolveOptions {
  /** 'flags' (default): messages name the CLI's flags; 'fields': RunConfig's field names. */
  readonly spelling?: 'flags' | 'fields';
  /**
   * Refuse or note settings that do nothing (default true). Off for the lab's form, which sends every
   * field and greys out the rates a model does not have.
   */
  readonly checkUnused?: boolean;
  /**
   * Return the configs as given (complete and checked) rather than canonical: the lab shows a run's
   * settings back in its form, where "all 60000 examples" is 60000, not the canonical 0.
   */
  readonly asGiven?: boolean;
}

/** Fields that always act: the data subset (a limit at the set's size is "all"), the seed, the epochs. */
const ALWAYS_USED: ReadonlySet<keyof RunConfig> = new Set([
  'model',
  'seed',
  'epochs',
  'trainLimit',
  'valLimit',
]);

/** The fields of `p` that are set (undefined = not given). */
function setFields(p: Partial<RunConfig>): Partial<RunConfig> {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as Partial<RunConfig>;
}

/**
 * The complete, checked, canonical configs of a command's runs: run i is `given` overridden by
 * `runs[i]` (a model of `compare --models`, a sweep's grid point, a seed), each missing field taking
 * the model's default, else the table's. Throws one ArgumentError line naming the setting and the
 * fix, before any work; a setting whose row says 'warn' comes back as a note instead.
 */
export function resolveRuns(
  given: Partial<RunConfig>,
  runs: readonly Partial<RunConfig>[] = [{}],
  opts: ResolveOptions = {},
): ResolvedRuns {
  const spelling = opts.spelling ?? 'flags';
  const asked = runs.map((r) => ({ ...setFields(given), ...setFields(r) }));
  const complete = asked.map((a) => completeConfig(a));
  for (const c of complete) {
    try {
      checkRun(c);
      // Known before any data: the Trainer would refuse it at the model's turn, after the others trained.
      if (modelEntry(c.model).batchStatistics === true && c.batchSize < 2) {
        throw new ArgumentError(
          `BatchNorm needs at least 2 examples per training batch, got a batch size of ${c.batchSize}; use 2 or more.`,
        );
      }
    } catch (e) {
      // One model of several: say which, so `compare --models mlp,vit` names the one that refuses.
      if (e instanceof ArgumentError && complete.some((o) => o.model !== c.model)) {
        throw new ArgumentError(`${c.model}: ${e.message}`);
      }
      throw e;
    }
  }
  const canonical = complete.map(canonicalConfig);
  const notes = opts.checkUnused === false ? [] : unusedSettings(asked, complete, canonical, spelling);
  return { configs: opts.asGiven === true ? complete : canonical, notes };
}

/**
 * The settings given that do nothing in every run they were given for: the canonical form replaced
 * the value (the model fixes the field, as a ViT its widths, or another setting makes it moot, as SGD
 * the betas). Refused (one line) or returned as notes, per the table's `ifUnused`.
 */
function unusedSettings(
  asked: readonly Partial<RunConfig>[],
  complete: readonly RunConfig[],
  canonical: readonly RunConfig[],
  spelling: 'flags' | 'fields',
): string[] {
  const notes: string[] = [];
  for (const o of RUN_OPTIONS) {
    if (ALWAYS_USED.has(o.key)) continue;
    const runsGiven = asked.flatMap((a, i) => (a[o.key] === undefined ? [] : [i]));
    if (runsGiven.length === 0) continue;
    if (runsGiven.some((i) => canonical[i]![o.key] === complete[i]![o.key])) continue;
    const line = unusedLine(
      o,
      runsGiven.map((i) => complete[i]!),
      spelling,
    );
    if (o.ifUnused === 'warn') notes.push(`note: ${line}`);
    else throw new ArgumentError(line);
  }
  return notes;
}

/** Why `o` does nothing in `runs`, and the fix, in one line. */
function unusedLine(o: RunOption, runs: readonly RunConfig[], spelling: 'flags' | 'fields'): string {
  const name = spelling === 'flags' ? o.flag : o.key;
  const c = runs[0]!;
  const models = [...new Set(runs.map((r) => r.model))];
  const moot: Partial<Record<keyof RunConfig, string>> = {
    beta1: `optimizer ${c.optimizer} has no betas`,
    beta2: `optimizer ${c.optimizer} has no betas`,
    eps: `optimizer ${c.optimizer} has no ε`,
    warmupEpochs: `learning-rate schedule ${c.lrSchedule} has no warm-up`,
    dropSchedule: `drop mode ${c.dropMode} has no schedule`,
    cutoffEpoch: `drop mode ${c.dropMode} has no cutoff`,
  };
  const fixedByModel = runs.every((r) => o.key in modelEntry(r.model).fixed);
  const why =
    fixedByModel || moot[o.key] === undefined
      ? `${models.join(', ')} ${models.length > 1 ? 'do' : 'does'} not use it`
      : moot[o.key]!;
  const rate = o.key === 'dropout1' || o.key === 'dropout2' ? ', or pick a model that has this rate' : '';
  return `${name} does nothing here (${why}); drop it${rate}.`;
}
