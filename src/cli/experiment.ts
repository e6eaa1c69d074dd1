/**
 * `dropout-lab experiment NAME`: one experiment of src/experiments/presets.ts (the deck's claims, the
 * book's seven exercises, and norm, schedule, rdrop beyond the deck), each configuration for several seeds in worker processes, reported as
 * mean ± std tables, val_acc and training-loss bands, and a verdict written from the numbers.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { ArgumentError } from '../errors.js';
import { DEFAULT_EXPERIMENT, type ExperimentConfig } from '../experiments/config.js';
import type { RunRecord } from '../experiments/pool.js';
import { PRESET_NAMES, PRESETS, type GroupNumbers, type Preset } from '../experiments/presets.js';
import { formatMeanStd, meanStd } from '../experiments/stats.js';
import { writeFileAtomic } from '../node/atomicWrite.js';
import { bandChart, writeChart, type BandPoint } from '../node/charts.js';
import {
  addExperimentOptions,
  curveBands,
  epochEvent,
  METRIC_NOTES,
  experimentCommand,
  runExperiments,
  SUMMARY_METRICS,
  type ExperimentFlags,
} from './experiments.js';
import { resolveRuns } from '../run/resolve.js';
import { printNotes } from './runOptions.js';
import { formatTable } from './format.js';
import { integerAtLeast } from './options.js';
import { shownArgv } from './queueOptions.js';

/** Flags of `experiment`. */
export type PresetFlags = ExperimentFlags & {
  epochs?: number;
  trainLimit?: number;
  valLimit?: number;
  /** MC dropout passes of the experiments that measure them (default 100). */
  samples?: number;
};

/** MC passes of an experiment that measures them, as the `mc` command's default. */
export const DEFAULT_SAMPLES = 100;

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

/** A metric of a run at one epoch: from its epoch event, or (MC metrics) its `mc` event at the end. */
type MetricGet = (e: Record<string, unknown>, r: RunRecord, last: boolean) => number;

/** The metrics of the experiments' tables: the summary's, then the variance shift. */
const METRICS: [string, MetricGet][] = [
  ...SUMMARY_METRICS.filter(([n]) => !n.startsWith('zeros')).map(([n, get]): [string, MetricGet] => [
    n,
    (e) => get(e),
  ]),
  ['train_var_bn2', (e) => shiftOf(e, 2, 'train_var')],
  ['eval_var_bn2', (e) => shiftOf(e, 2, 'eval_var')],
  ['shift_bn2', (e) => shiftOf(e, 2, 'shift')],
  ['shift_bn1', (e) => shiftOf(e, 1, 'shift')],
];

/** A hidden layer's activation statistic (eval mode, the probe batch) of an epoch event. */
function activation(e: Record<string, unknown>, layer: number, key: 'mean' | 'variance'): number {
  return (e['activations'] as Record<string, number>[] | undefined)?.[layer - 1]?.[key] ?? Number.NaN;
}

/**
 * The variance the next layer sees in training, after the inverted-dropout mask m/(1 − p), in
 * expectation over masks: E[h'²] = E[h²]/(1 − p) and E[h'] = E[h], so Var = (σ² + μ²)/(1 − p) − μ².
 */
function maskedVariance(e: Record<string, unknown>, layer: number, p: number): number {
  const mu = activation(e, layer, 'mean');
  const v = activation(e, layer, 'variance');
  return p >= 1 ? Number.NaN : (v + mu * mu) / (1 - p) - mu * mu;
}

/** A number of a run's `mc` event, read at the last epoch only (it is measured after training). */
function mcOf(r: RunRecord, last: boolean, get: (mc: Record<string, unknown>) => unknown): number {
  if (!last) return Number.NaN;
  const mc = r.events.find((v) => v['event'] === 'mc');
  const v = mc === undefined ? undefined : get(mc);
  return typeof v === 'number' ? v : Number.NaN;
}

/** The metrics a preset adds as columns (`Preset.metrics`), by name. */
const EXTRA_METRICS: Readonly<Record<string, MetricGet>> = {
  mean_h1: (e) => activation(e, 1, 'mean'),
  mean_h2: (e) => activation(e, 2, 'mean'),
  var_h1: (e) => activation(e, 1, 'variance'),
  var_h2: (e) => activation(e, 2, 'variance'),
  var_h1_masked: (e, r) => maskedVariance(e, 1, r.config.dropout1),
  var_h2_masked: (e, r) => maskedVariance(e, 2, r.config.dropout2),
  ws_error: (_e, r, last) => mcOf(r, last, (m) => m['ws_error']),
  mc1_error: (_e, r, last) => mcOf(r, last, (m) => (m['mc_error'] as number[] | undefined)?.[0]),
  mcT_error: (_e, r, last) => mcOf(r, last, (m) => (m['mc_error'] as number[] | undefined)?.at(-1)),
  ws_nll: (_e, r, last) => mcOf(r, last, (m) => m['ws_nll']),
  mc_nll: (_e, r, last) => mcOf(r, last, (m) => m['mc_nll']),
  ws_ece: (_e, r, last) => mcOf(r, last, (m) => m['ws_ece']),
  mc_ece: (_e, r, last) => mcOf(r, last, (m) => m['mc_ece']),
  mc_passes: (_e, r, last) => mcOf(r, last, (m) => m['samples']),
};

/** The metrics of a preset's tables: the standard ones, then its own. */
function metricsOf(preset: Preset): [string, MetricGet][] {
  return [
    ...METRICS,
    ...(preset.metrics ?? []).map((n): [string, MetricGet] => {
      const get = EXTRA_METRICS[n];
      if (get === undefined) throw new Error(`preset ${preset.name}: unknown metric ${n}`);
      return [n, get];
    }),
  ];
}

/** A Markdown table of groups × metrics (mean ± std), leaving out metrics no group has. */
function markdownTable(
  rows: readonly GroupNumbers[],
  metrics: readonly [string, MetricGet][],
): { md: string; text: string } {
  const used = metrics.filter(([n]) => rows.some((r) => (r.metrics[n] ?? []).some(Number.isFinite)));
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

/** Test error of the MC average of k = 1…T passes (mean ± std over seeds) against weight scaling. */
function mcErrorChart(preset: Preset, groups: readonly { label: string; runs: RunRecord[] }[]) {
  const points: BandPoint[] = [];
  for (const g of groups) {
    const mcs = g.runs.map((r) => r.events.find((v) => v['event'] === 'mc')!);
    const curves = mcs.map((m) => m['mc_error'] as number[]);
    const ws = meanStd(mcs.map((m) => m['ws_error'] as number));
    const T = Math.min(...curves.map((c) => c.length));
    for (let k = 1; k <= T; k++) {
      const { mean, std } = meanStd(curves.map((c) => c[k - 1]!));
      points.push({
        series: `${g.label}: MC average of k passes`,
        x: k,
        mean,
        lo: mean - std,
        hi: mean + std,
      });
      points.push({
        series: `${g.label}: weight scaling (dropout off)`,
        x: k,
        mean: ws.mean,
        lo: ws.mean - ws.std,
        hi: ws.mean + ws.std,
      });
    }
  }
  return bandChart(points, {
    title: `${preset.name}: test error vs MC passes k, mean ± std over seeds`,
    xTitle: 'passes k',
    yTitle: 'test error',
  });
}

/** Runs one preset with the flags; writes summary.md, results.jsonl and the charts into the out dir. */
export async function runPreset(
  preset: Preset,
  f: PresetFlags,
  log: (line: string) => void,
): Promise<PresetOutcome> {
  const epochs = f.epochs ?? preset.epochs;
  const groups = preset.groups(epochs, {
    trainLimit: f.trainLimit ?? 0,
    samples: f.samples ?? DEFAULT_SAMPLES,
  });
  const metrics = metricsOf(preset);
  const seeds = Array.from({ length: f.seeds }, (_, i) => f.seed + i);
  // Every run of every group, resolved before any work: a group's model brings its own defaults (a
  // ViT: AdamW, warm-up + cosine), as on the command line; the MLPs have none, so their runs (and
  // cached run ids) are as before.
  const asked = groups.flatMap((g) => {
    const { kind: _kind, mcSamples: _samples, mcConsistent: _consistent, ...run } = g.config;
    return seeds.map((seed) => ({ ...run, seed }));
  });
  const data = { epochs, trainLimit: f.trainLimit ?? 0, valLimit: f.valLimit ?? 0 };
  const runs = printNotes(resolveRuns(data, asked, { spelling: 'fields' }));
  const configs = runs.map((c, i): ExperimentConfig => ({
    ...DEFAULT_EXPERIMENT,
    ...groups[Math.floor(i / seeds.length)]!.config,
    ...c,
  }));
  const { records, outDir } = await runExperiments(configs, f, log);
  const runsOf = groups.map((g, i) => ({
    label: g.label,
    runs: records.slice(i * seeds.length, (i + 1) * seeds.length) as RunRecord[],
  }));
  const numbersAt = (epoch: number): GroupNumbers[] =>
    runsOf.map((g) => ({
      label: g.label,
      metrics: Object.fromEntries(
        metrics.map(([n, get]) => [n, g.runs.map((r) => get(epochEvent(r, epoch), r, epoch === epochs))]),
      ),
    }));
  const md: string[] = [];
  const jsonl: string[] = [];
  const at = new Map<number, GroupNumbers[]>();
  for (const epoch of preset.readAt(epochs)) {
    const rows = numbersAt(epoch);
    at.set(epoch, rows);
    const t = markdownTable(rows, metrics);
    if (!f.json) log(`\n${preset.name}, epoch ${epoch}\n${t.text}`);
    md.push(`### After ${epoch} epoch${epoch === 1 ? '' : 's'}`, '', t.md, '');
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
  const last = at.get(epochs) ?? numbersAt(epochs);
  const verdict = preset.verdict(last, at);
  if (f.json) for (const l of jsonl) log(l);
  else log(`\n${verdict}`);
  const charts: string[] = [
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
  for (const c of preset.curves ?? []) {
    const get = metrics.find(([n]) => n === c.metric)![1];
    charts.push(
      await writeChart(
        outDir,
        c.metric,
        bandChart(
          // A group's runs differ only in the seed, so its first run stands for the config.
          runsOf.flatMap((g) => curveBands([g], epochs, (e) => get(e, g.runs[0]!, false))),
          {
            title: `${preset.name}: ${c.title}, mean ± std over ${seeds.length} seeds`,
            xTitle: 'epoch',
            yTitle: c.metric,
          },
        ),
      ),
    );
  }
  const mcRuns = runsOf.filter((g) => g.runs.some((r) => r.events.some((v) => v['event'] === 'mc')));
  if (mcRuns.length > 0) charts.push(await writeChart(outDir, 'mc_error', mcErrorChart(preset, mcRuns)));
  const summary = [
    `# ${preset.title}`,
    '',
    `**Question.** ${preset.question}`,
    '',
    `Command: \`dropout-lab ${shownArgv()}\` (${seeds.length} seeds: ${seeds.join(', ')}; ${epochs} epochs${data.trainLimit > 0 ? `, first ${data.trainLimit} training examples` : ''}${data.valLimit > 0 ? `, first ${data.valLimit} test examples` : ''}).`,
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
      "an experiment with seeds, plots, summary.md and a verdict from the numbers: the deck's claims (deck-*), the book's seven exercises (ex1-… to ex7-…), and beyond the deck: norm (BatchNorm/LayerNorm vs dropout, variance shift), schedule (early/late dropout), rdrop (R-Drop), cnn (head dropout vs spatial dropout vs DropBlock), vit (Transformer dropout and DropPath), architectures (MLP vs CNN vs ViT)",
    );
  addSubsetOptions(cmd, "epochs (default: the experiment's: 10 to 50)").option(
    '--samples <T>',
    `MC dropout passes of ex4-test-time (default ${DEFAULT_SAMPLES})`,
    integerAtLeast('--samples', 1, 'e.g. 100'),
  );
  addExperimentOptions(cmd, 'out/experiment').action(async (name: string, f: PresetFlags) => {
    const preset = PRESETS[name];
    if (preset === undefined) {
      throw new ArgumentError(`unknown experiment '${name}'; use one of ${PRESET_NAMES.join(', ')}.`);
    }
    const out = f.out === 'out/experiment' ? `out/experiment-${name}` : f.out;
    await experimentCommand(f, print, () => runPreset(preset, { ...f, out }, print));
  });
}
