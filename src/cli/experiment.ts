/**
 * `dropout-lab experiment NAME`: one of the experiments beyond the deck (src/experiments/presets.ts:
 * norm, schedule, rdrop), each configuration for several seeds in worker processes, reported as
 * mean ± std tables, val_acc and training-loss bands, and a verdict written from the numbers.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { ArgumentError } from '../errors.js';
import { DEFAULT_EXPERIMENT, type ExperimentConfig } from '../experiments/config.js';
import type { RunRecord } from '../experiments/pool.js';
import { PRESET_NAMES, PRESETS, type GroupNumbers, type Preset } from '../experiments/presets.js';
import { formatMeanStd } from '../experiments/stats.js';
import { writeFileAtomic } from '../node/atomicWrite.js';
import { bandChart, writeChart } from '../node/charts.js';
import {
  addExperimentOptions,
  curveBands,
  epochEvent,
  METRIC_NOTES,
  runExperiments,
  SUMMARY_METRICS,
  type ExperimentFlags,
} from './experiments.js';
import { formatTable } from './format.js';
import { integerAtLeast } from './options.js';
import { shownArgv } from './queueOptions.js';

/** Flags of `experiment`. */
export type PresetFlags = ExperimentFlags & { epochs?: number; trainLimit?: number; valLimit?: number };

/** What one experiment measured and wrote. */
export interface PresetOutcome {
  readonly preset: Preset;
  readonly epochs: number;
  readonly seeds: number;
  /** Each group's numbers at the last epoch. */
  readonly numbers: readonly GroupNumbers[];
  /** The mean ± std table(s) as Markdown, one per read epoch. */
  readonly markdown: string;
  readonly verdict: string;
  /** The charts written (SVG paths). */
  readonly charts: readonly string[];
  readonly outDir: string;
}

/** Variance-shift columns of an epoch event (BatchNorm models only; NaN elsewhere). */
function shiftOf(e: Record<string, unknown>, layer: number, key: string): number {
  const v = (e['variance_shift'] as Record<string, number>[] | undefined)?.find((x) => x['layer'] === layer);
  return v?.[key] ?? Number.NaN;
}

/** The metrics of the experiments' tables: the summary's, then the variance shift. */
const METRICS: [string, (e: Record<string, unknown>) => number][] = [
  ...SUMMARY_METRICS.filter(([n]) => !n.startsWith('zeros')),
  ['train_var_bn2', (e) => shiftOf(e, 2, 'train_var')],
  ['eval_var_bn2', (e) => shiftOf(e, 2, 'eval_var')],
  ['shift_bn2', (e) => shiftOf(e, 2, 'shift')],
  ['shift_bn1', (e) => shiftOf(e, 1, 'shift')],
];

/** A Markdown table of groups × metrics (mean ± std), leaving out metrics no group has. */
function markdownTable(rows: readonly GroupNumbers[]): { md: string; text: string } {
  const used = METRICS.filter(([n]) => rows.some((r) => (r.metrics[n] ?? []).some(Number.isFinite)));
  const cols = ['configuration', 'seeds', ...used.map(([n]) => n)];
  const cells = rows.map((r) => [
    r.label,
    String(r.metrics['val_acc']?.length ?? 0),
    ...used.map(([n]) =>
      (r.metrics[n] ?? []).some(Number.isFinite) ? formatMeanStd(r.metrics[n]!, 4) : '—',
    ),
  ]);
  const md = [
    `| ${cols.join(' | ')} |`,
    `| ${cols.map(() => '---').join(' | ')} |`,
    ...cells.map((c) => `| ${c.join(' | ')} |`),
  ].join('\n');
  return { md, text: formatTable(cols, cells) };
}

/** Runs one preset with the flags; writes summary.md, results.jsonl and the charts into the out dir. */
export async function runPreset(
  preset: Preset,
  f: PresetFlags,
  log: (line: string) => void,
): Promise<PresetOutcome> {
  const epochs = f.epochs ?? preset.epochs;
  const groups = preset.groups(epochs);
  const seeds = Array.from({ length: f.seeds }, (_, i) => f.seed + i);
  const base: ExperimentConfig = {
    ...DEFAULT_EXPERIMENT,
    epochs,
    trainLimit: f.trainLimit ?? 0,
    valLimit: f.valLimit ?? 0,
  };
  const configs = groups.flatMap((g) => seeds.map((seed) => ({ ...base, ...g.config, seed })));
  const { records, outDir } = await runExperiments(configs, f, log);
  const runsOf = groups.map((g, i) => ({
    label: g.label,
    runs: records.slice(i * seeds.length, (i + 1) * seeds.length) as RunRecord[],
  }));
  const numbersAt = (epoch: number): GroupNumbers[] =>
    runsOf.map((g) => ({
      label: g.label,
      metrics: Object.fromEntries(
        METRICS.map(([n, get]) => [n, g.runs.map((r) => get(epochEvent(r, epoch)))]),
      ),
    }));
  const md: string[] = [];
  const jsonl: string[] = [];
  for (const epoch of preset.readAt(epochs)) {
    const rows = numbersAt(epoch);
    const t = markdownTable(rows);
    if (!f.json) log(`\n${preset.name}, epoch ${epoch}\n${t.text}`);
    md.push(`### After ${epoch} epochs`, '', t.md, '');
    for (const r of rows) {
      const row: Record<string, unknown> = {
        event: 'summary',
        experiment: preset.name,
        epoch,
        label: r.label,
      };
      for (const [n, v] of Object.entries(r.metrics)) row[n] = v;
      jsonl.push(JSON.stringify(row));
    }
  }
  const last = numbersAt(epochs);
  const verdict = preset.verdict(last);
  if (f.json) for (const l of jsonl) log(l);
  else log(`\n${verdict}`);
  const charts = [
    await writeChart(
      outDir,
      'val_acc',
      bandChart(
        curveBands(runsOf, epochs, (e) => e['val_acc'] as number),
        {
          title: `${preset.name}: val_acc, mean ± std over ${seeds.length} seeds`,
          xTitle: 'epoch',
          yTitle: 'validation accuracy',
        },
      ),
    ),
    await writeChart(
      outDir,
      'train_loss_eval',
      bandChart(
        curveBands(runsOf, epochs, (e) => e['train_loss_eval'] as number),
        {
          title: `${preset.name}: training loss (eval mode), mean ± std over ${seeds.length} seeds`,
          xTitle: 'epoch',
          yTitle: 'train_loss_eval',
        },
      ),
    ),
  ];
  const summary = [
    `# ${preset.title}`,
    '',
    `**Question.** ${preset.question}`,
    '',
    `Command: \`dropout-lab ${shownArgv()}\` (${seeds.length} seeds: ${seeds.join(', ')}; ${epochs} epochs${base.trainLimit > 0 ? `, first ${base.trainLimit} training examples` : ''}${base.valLimit > 0 ? `, first ${base.valLimit} test examples` : ''}).`,
    '',
    preset.notes,
    '',
    ...md,
    `**Verdict.** ${verdict}`,
    '',
    METRIC_NOTES.split('\n')
      .filter((l) => !l.includes('zeros_h'))
      .join('\n'),
    "- `train_var_bn2`, `eval_var_bn2`: the second BatchNorm's input variance (mean over features) on 1000 training images with dropout on (training) and off (evaluation); `shift_bn1`, `shift_bn2`: eval variance ÷ training variance (Li et al.'s variance shift; 1 = none).",
    '',
  ].join('\n');
  await writeFileAtomic(join(outDir, 'summary.md'), summary);
  await writeFileAtomic(join(outDir, 'results.jsonl'), jsonl.join('\n') + '\n');
  if (!f.json) log(`wrote ${join(outDir, 'summary.md')}, results.jsonl, ${charts.join(', ')} (+ .png)`);
  return {
    preset,
    epochs,
    seeds: seeds.length,
    numbers: last,
    markdown: md.join('\n'),
    verdict,
    charts,
    outDir,
  };
}

/** Adds --epochs, --train-limit and --val-limit (the run's subset) to an experiment command. */
export function addSubsetOptions(cmd: Command, epochsHelp: string): Command {
  return cmd
    .option('--epochs <n>', epochsHelp, integerAtLeast('--epochs', 1, 'e.g. 10'))
    .option('--train-limit <n>', 'first N training examples', integerAtLeast('--train-limit', 1, 'e.g. 6000'))
    .option('--val-limit <n>', 'first N test examples', integerAtLeast('--val-limit', 1, 'e.g. 2000'));
}

/** Registers `experiment` on the program. */
export function registerExperiment(program: Command, print: (line: string) => void): void {
  const cmd = program
    .command('experiment')
    .argument('<name>', `which experiment: ${PRESET_NAMES.join(', ')}`)
    .description(
      'an experiment beyond the deck, with seeds, plots and summary.md: norm (BatchNorm/LayerNorm vs dropout, variance shift), schedule (early/late dropout), rdrop (R-Drop)',
    );
  addSubsetOptions(cmd, "epochs (default: the experiment's: norm 50, schedule 20, rdrop 10)");
  addExperimentOptions(cmd, 'out/experiment').action(async (name: string, f: PresetFlags) => {
    const preset = PRESETS[name];
    if (preset === undefined) {
      throw new ArgumentError(`unknown experiment '${name}'; use one of ${PRESET_NAMES.join(', ')}.`);
    }
    const out = f.out === 'out/experiment' ? `out/experiment-${name}` : f.out;
    await runPreset(preset, { ...f, out }, print);
  });
}
