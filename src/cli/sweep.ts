/**
 * `dropout-lab sweep`: trains every combination of the listed flag values for several seeds (d2l
 * dropout exercises 1, 2 and 5; the paper's Fig. 9 and 10) and reports mean ± std per combination.
 * A list of epochs costs only the longest: a run of E epochs is the first E epochs of a longer run
 * (constant learning rate, the same random streams), so metrics are read at each listed epoch.
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { ArgumentError } from '../errors.js';
import { DEFAULT_EXPERIMENT, type ExperimentConfig } from '../experiments/config.js';
import type { RunConfig } from '../run/config.js';
import { completeConfig, describeLimits, optionsFor, parseOption, type RunOption } from '../run/options.js';
import { resolveRuns } from '../run/resolve.js';
import { printNotes } from './runOptions.js';
import { bandChart, heatmap, writeChart, type BandPoint } from '../node/charts.js';
import { meanStd } from '../experiments/stats.js';
import { writeFileAtomic } from '../node/atomicWrite.js';
import {
  addExperimentOptions,
  aggregateRow,
  curveBands,
  epochEvent,
  METRIC_NOTES,
  experimentCommand,
  runExperiments,
  summaryTables,
  type ExperimentFlags,
} from './experiments.js';
import { integerAtLeast, positiveNumber } from './options.js';
import { shownArgv } from './queueOptions.js';

/** A sweepable flag: its RunConfig field and how one value parses. */
interface Axis {
  readonly flag: string;
  readonly key: keyof RunConfig;
  readonly parse: (v: string) => number | string;
}

/** One value of a list flag, parsed by the option table; a bad one names the flag and the fix. */
function listValue(o: RunOption): (v: string) => number | string {
  return (v) => {
    const parsed = parseOption(o, v);
    if (parsed.ok) return parsed.value;
    const example = o.kind === 'choice' ? o.choices.slice(0, 2).join(',') : `${o.example},${o.example}`;
    throw new ArgumentError(
      `${o.flag} values must be ${describeLimits(o, true)}, got '${v}'; e.g. ${o.flag} ${example}.`,
    );
  };
}

/** The flags `sweep` accepts as comma-separated lists: the option table's sweep axes. */
export const AXES: readonly Axis[] = optionsFor('sweep').map((o) => ({
  flag: o.flag,
  key: o.key,
  parse: listValue(o),
}));

type SweepFlags = ExperimentFlags & { fixedPn?: number; maxRuns?: number } & Record<string, unknown>;

/** Default cap on the runs one sweep may start (combinations × seeds); `--max-runs` raises it. */
export const DEFAULT_MAX_RUNS = 1000;

function optionName(flag: string): string {
  return flag.slice(2).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Cartesian product of the axes' value lists. */
function grid(
  axes: readonly { key: keyof ExperimentConfig; values: (number | string)[] }[],
): Partial<ExperimentConfig>[] {
  let out: Partial<ExperimentConfig>[] = [{}];
  for (const a of axes) out = out.flatMap((o) => a.values.map((v) => ({ ...o, [a.key]: v })));
  return out;
}

function label(point: Partial<ExperimentConfig>, keys: readonly (keyof ExperimentConfig)[]): string {
  return keys.length === 0 ? 'book setup' : keys.map((k) => `${k}=${String(point[k])}`).join(' ');
}

/** Registers `sweep` on the program. */
export function registerSweep(program: Command, print: (line: string) => void): void {
  // program.command() (not new Command) so it inherits the one-line error output and exitOverride.
  const cmd = program
    .command('sweep')
    .description(
      'train every combination of comma-separated flag values for several seeds, e.g. --dropout1 0,0.2,0.5 --dropout2 0,0.2,0.5',
    );
  for (const a of AXES)
    cmd.option(`${a.flag} <list>`, `comma-separated values of ${a.flag} (default: the book's)`);
  cmd.option(
    '--fixed-pn <k>',
    'keep k = (1 − p)·n expected units per hidden layer: n_i = round(k / (1 − p_i)) (paper Fig. 9)',
    positiveNumber('--fixed-pn', 'e.g. --fixed-pn 256'),
  );
  cmd.option(
    '--max-runs <n>',
    `refuse a sweep of more runs (combinations × seeds) than this (default ${DEFAULT_MAX_RUNS})`,
    integerAtLeast('--max-runs', 1, `e.g. --max-runs ${DEFAULT_MAX_RUNS}`),
  );
  addExperimentOptions(cmd, 'out/sweep').action(async (f: SweepFlags) => {
    await experimentCommand(f, print, () => runSweep(f, print));
  });
}

/** Runs the sweep described by the flags. */
export async function runSweep(f: SweepFlags, log: (line: string) => void): Promise<void> {
  const axes = AXES.flatMap((a) => {
    const raw = f[optionName(a.flag)];
    if (typeof raw !== 'string') return [];
    const values = [...new Set(raw.split(',').map((v) => a.parse(v.trim())))];
    return [{ key: a.key, values }];
  });
  // Count before building anything: the grid of two 10,001-value lists is 10^8 objects.
  const runs = axes.reduce((n, a) => n * a.values.length, 1) * f.seeds;
  const maxRuns = f.maxRuns ?? DEFAULT_MAX_RUNS;
  if (runs > maxRuns) {
    throw new ArgumentError(
      `this sweep is ${runs.toLocaleString('en-US')} runs (${axes.map((a) => a.values.length).join(' × ')} combinations × ${f.seeds} seeds), over the limit of ${maxRuns}; list fewer values or pass --max-runs ${runs} to run them all.`,
    );
  }
  const swept = axes.filter((a) => a.values.length > 1).map((a) => a.key);
  const epochList = (axes.find((a) => a.key === 'epochs')?.values as number[] | undefined) ?? [
    DEFAULT_EXPERIMENT.epochs,
  ];
  const maxEpochs = Math.max(...epochList);
  const points = grid(axes);
  const seeds = Array.from({ length: f.seeds }, (_, i) => f.seed + i);
  // --fixed-pn: the widths follow each run's rates (its model's defaults where the axes leave them).
  const widths = (p: Partial<RunConfig>): Partial<RunConfig> => {
    if (f.fixedPn === undefined) return {};
    const c = completeConfig(p);
    const size = (q: number): number => {
      if (q >= 1) throw new ArgumentError('--fixed-pn needs dropout p < 1 in every layer.');
      return Math.max(1, Math.round(f.fixedPn! / (1 - q)));
    };
    const plain = c.model === 'mlp';
    return { numHiddens1: size(plain ? 0 : c.dropout1), numHiddens2: size(plain ? 0 : c.dropout2) };
  };
  // Every run of the grid, resolved before anything starts: a model's own defaults fill what the axes
  // leave (a ViT trains with AdamW unless swept otherwise), and a value one model refuses is one line.
  const asked = points.flatMap((p) =>
    seeds.map((seed) => ({
      ...(p as Partial<RunConfig>),
      ...widths(p as Partial<RunConfig>),
      epochs: maxEpochs,
      seed,
    })),
  );
  const runConfigs = printNotes(resolveRuns({}, asked));
  // Shorter runs are read off the longest one's epochs: right only when the rate does not depend on
  // the run's length, as a cosine does.
  if (epochList.length > 1 && runConfigs.some((c) => c.lrSchedule !== 'constant')) {
    throw new ArgumentError(
      'an epochs axis reads shorter runs off the longest, but a warm-up + cosine rate depends on the run length; sweep one epochs value at a time.',
    );
  }
  const configs = runConfigs.map((c): ExperimentConfig => ({ ...DEFAULT_EXPERIMENT, ...c }));
  const { records, outDir } = await runExperiments(configs, f, log);
  const groups = points.map((p, i) => {
    const runs = records.slice(i * seeds.length, (i + 1) * seeds.length);
    const epoch = (p.epochs as number | undefined) ?? maxEpochs;
    return { point: p, label: label(p, swept), runs, events: runs.map((r) => epochEvent(r, epoch)) };
  });

  const table = summaryTables(groups);
  if (!f.json) log('\n' + table.text);
  const jsonl = groups.map((g) =>
    JSON.stringify({ event: 'summary', ...g.point, ...aggregateRow(g.label, g.events) }),
  );
  for (const g of groups) {
    g.runs.forEach((r, i) =>
      jsonl.push(JSON.stringify({ event: 'run', run: r.id, ...g.point, seed: seeds[i], ...g.events[i] })),
    );
  }
  if (f.json) for (const l of jsonl.filter((l) => l.includes('"summary"'))) log(l);
  await writeFileAtomic(join(outDir, 'results.jsonl'), jsonl.join('\n') + '\n');
  const argv = shownArgv();
  const md = [
    `# sweep over ${swept.length > 0 ? swept.join(' × ') : 'seeds'}, ${f.seeds} seeds`,
    '',
    `Command: \`dropout-lab ${argv}\``,
    '',
    `Best val_acc: **${best(groups).label}**.`,
    '',
    table.markdown,
    '',
    METRIC_NOTES,
    '',
  ];
  await writeFileAtomic(join(outDir, 'summary.md'), md.join('\n'));

  const written: string[] = [];
  const x = swept.find((k) => k !== 'model' && k !== 'variant') ?? swept[0];
  if (x !== undefined && typeof groups[0]!.point[x] === 'number') {
    const others = swept.filter((k) => k !== x);
    for (const [metric, yTitle] of [
      ['val_acc', 'validation accuracy'],
      ['gap_eval', 'val_loss − train_loss (eval mode)'],
    ] as const) {
      const pts: BandPoint[] = groups.map((g) => {
        const { mean, std } = meanStd(g.events.map((e) => e[metric] as number));
        return {
          series: label(g.point, others),
          x: g.point[x] as number,
          mean,
          lo: mean - std,
          hi: mean + std,
        };
      });
      written.push(
        await writeChart(
          outDir,
          `sweep_${metric}`,
          bandChart(pts, {
            title: `${metric} vs ${x}, mean ± std over ${f.seeds} seeds`,
            xTitle: x,
            yTitle,
            style: 'errorbar',
            xLog: x === 'trainLimit',
          }),
        ),
      );
    }
  }
  if (swept.length === 2 && swept.every((k) => typeof groups[0]!.point[k] === 'number')) {
    const [a, b] = swept as [keyof ExperimentConfig, keyof ExperimentConfig];
    const cells = groups.map((g) => {
      const { mean, std } = meanStd(g.events.map((e) => e['val_acc'] as number));
      return {
        x: String(g.point[a]),
        y: String(g.point[b]),
        value: mean,
        label: f.seeds > 1 ? `${mean.toFixed(4)}±${std.toFixed(4)}` : mean.toFixed(4),
      };
    });
    written.push(
      await writeChart(
        outDir,
        'heatmap_val_acc',
        heatmap(cells, {
          title: f.seeds > 1 ? `val_acc, mean ± std over ${f.seeds} seeds` : 'val_acc, 1 seed',
          xTitle: a,
          yTitle: b,
          valueTitle: 'val_acc',
        }),
      ),
    );
  }
  if (groups.length <= 12) {
    written.push(
      await writeChart(
        outDir,
        'curves_val_acc',
        bandChart(
          curveBands(groups, maxEpochs, (e) => e['val_acc'] as number),
          {
            title: `val_acc per epoch, mean ± std over ${f.seeds} seeds`,
            xTitle: 'epoch',
            yTitle: 'validation accuracy',
          },
        ),
      ),
    );
    const zero = groups.flatMap((g) =>
      [0, 1].map((layer) => ({
        label: `${g.label} h${layer + 1}`,
        runs: g.runs,
        layer,
      })),
    );
    const pts = zero.flatMap((z) =>
      curveBands([{ label: z.label, runs: z.runs }], maxEpochs, (e) => {
        const acts = e['activations'] as { zeroFraction: number }[];
        return acts[z.layer]?.zeroFraction ?? Number.NaN;
      }),
    );
    written.push(
      await writeChart(
        outDir,
        'activations_zero_fraction',
        bandChart(pts, {
          title: 'fraction of exactly-zero hidden activations (probe batch, eval mode)',
          xTitle: 'epoch',
          yTitle: 'zero fraction',
        }),
      ),
    );
  }
  if (!f.json)
    log(
      `wrote ${join(outDir, 'summary.md')}, results.jsonl${written.map((w) => ', ' + w).join('')} (+ .png)`,
    );
}

function best<G extends { label: string; events: Record<string, unknown>[] }>(groups: readonly G[]): G {
  const score = (g: G): number => meanStd(g.events.map((e) => e['val_acc'] as number)).mean;
  return groups.reduce((a, b) => (score(b) > score(a) ? b : a));
}
