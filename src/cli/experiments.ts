/**
 * Shared machinery of the multi-seed experiment commands (`sweep`, `mc`, `compare --seeds`): common
 * flags, the pool call, per-epoch metric lookup, mean ± std tables, and `compare --seeds` itself.
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_EXPERIMENT, type ExperimentConfig } from '../experiments/config.js';
import type { RunConfig } from '../run/config.js';
import { modelEntry, type ModelName } from '../run/models.js';
import { bandChart, writeChart, type BandPoint } from '../node/charts.js';
import { runPool, type RunRecord } from '../experiments/pool.js';
import { formatMeanStd, meanStd } from '../experiments/stats.js';
import { writeFileAtomic } from '../node/atomicWrite.js';
import { formatTable } from './format.js';
import { integerAtLeast, pathFlag } from './options.js';
import { prepareOutDir } from '../node/outDir.js';
import { addQueueOptions, runQueueWithFlags, shownArgv, type QueueFlags } from './queueOptions.js';
import { currentInterruptSignal, interruptible } from './signals.js';
import { InterruptedError } from '../errors.js';

/** Flags every experiment command has. */
export interface ExperimentFlags extends QueueFlags {
  seeds: number;
  seed: number;
  out: string;
  runsDir?: string;
  workers: number;
  dataDir?: string;
  backend: string;
  json: boolean;
  verbose: boolean;
}

/** Adds --seeds, --seed, --out, --runs-dir, --workers, --data-dir, --json, --verbose. */
export function addExperimentOptions(cmd: Command, defaultOut: string): Command {
  return addQueueOptions(cmd, 'run on worker machines')
    .option(
      '--seeds <n>',
      'independent seeds per configuration',
      integerAtLeast('--seeds', 1, 'e.g. --seeds 3'),
      3,
    )
    .option('--seed <n>', 'first seed (seeds are seed, seed+1, …)', integerAtLeast('--seed', 0, 'e.g. 0'), 0)
    .option('--out <dir>', 'output directory (JSONL, plots, summary.md)', pathFlag('--out'), defaultOut)
    .option(
      '--runs-dir <dir>',
      'per-run JSONL files, reused on restart (default <out>/runs)',
      pathFlag('--runs-dir'),
    )
    .option(
      '--workers <n>',
      'parallel worker processes, one core each (default: the available cores)',
      integerAtLeast('--workers', 1, 'e.g. 2'),
      availableParallelism(),
    )
    .option('--data-dir <dir>', 'folder with the four Fashion-MNIST IDX files', pathFlag('--data-dir'))
    .option('--backend <name>', 'compute backend of the workers (wasm or js)', 'wasm')
    .option('--json', 'print the results as JSON lines (no progress bar)', false)
    .option('--verbose', 'print stack traces on errors', false);
}

/** Where notes go: the command's output in text mode, stderr with --json (stdout is JSON lines). */
function noteTo(f: { json: boolean }, log: (line: string) => void): (line: string) => void {
  return (line) => {
    if (f.json) process.stderr.write(line + '\n');
    else log(line);
  };
}

/** What an interrupted experiment command keeps and how to go on, for its last line. */
function resumeHint(): string {
  return `finished runs are kept; rerun to resume: dropout-lab ${shownArgv()}`;
}

/**
 * Runs an experiment command (sweep, mc, compare --seeds, experiment, report) inside the process's
 * interrupt scope: the first Ctrl-C/SIGTERM stops the pool or the queue wait, removes temp files and
 * the --out lock, and the command ends with one line naming the command that resumes it.
 */
export function experimentCommand<T>(
  f: { json: boolean },
  log: (line: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  return interruptible({ note: noteTo(f, log), quitLine: resumeHint }, fn);
}

/**
 * Runs `configs` through the worker pool with the command's flags; returns their records. Their run
 * parts come from resolveRuns (src/run/resolve.ts), checked before this call, so a refused setting
 * leaves no output folder behind; the pool (or the queue) checks each again where it crosses a process.
 */
export async function runExperiments(
  configs: readonly ExperimentConfig[],
  f: ExperimentFlags,
  log: (line: string) => void,
): Promise<{ records: RunRecord[]; outDir: string }> {
  const out = await prepareOutDir(f.out, { log: noteTo(f, log) });
  try {
    if (f.queue) return { records: await runQueueWithFlags(configs, f, out.path, log), outDir: out.path };
    const records = await runPool(configs, {
      runsDir: resolve(f.runsDir ?? join(out.path, 'runs')),
      workers: f.workers,
      dataDir: f.dataDir,
      backend: f.backend,
      progress: !f.json,
      log: f.json ? () => {} : log,
      signal: currentInterruptSignal(),
    });
    return { records, outDir: out.path };
  } catch (e) {
    if (!(e instanceof InterruptedError)) throw e;
    out.release();
    throw new InterruptedError(`${e.message}; rerun to resume: dropout-lab ${shownArgv()}`, e.signal);
  }
}

/** The `epoch` event of a run at `epoch` (a run of E epochs is the prefix of a longer one: constant lr, same streams). */
export function epochEvent(r: RunRecord, epoch: number): Record<string, unknown> {
  const e = r.events.find((v) => v['event'] === 'epoch' && v['epoch'] === epoch);
  if (e === undefined) throw new Error(`run ${r.id} has no epoch ${epoch}`);
  return e;
}

/** Hidden-layer zero fractions [layer1, layer2] of an epoch event. */
export function zeroFractions(e: Record<string, unknown>): number[] {
  return ((e['activations'] as { zeroFraction: number }[] | undefined) ?? []).map((a) => a.zeroFraction);
}

/** The metrics every summary reports, as [column, accessor]. */
export const SUMMARY_METRICS: [string, (e: Record<string, unknown>) => number][] = [
  ['val_acc', (e) => e['val_acc'] as number],
  ['val_loss', (e) => e['val_loss'] as number],
  ['train_loss_eval', (e) => e['train_loss_eval'] as number],
  ['gap_eval', (e) => e['gap_eval'] as number],
  ['gap_trainmode', (e) => e['gap'] as number],
  ['acc_gap', (e) => e['acc_gap'] as number],
  ['zeros_h1', (e) => zeroFractions(e)[0] ?? Number.NaN],
  ['zeros_h2', (e) => zeroFractions(e)[1] ?? Number.NaN],
];

/** One aggregated row: a label, the runs' epoch events, and mean ± std of each summary metric. */
export function aggregateRow(label: string, events: Record<string, unknown>[]): Record<string, unknown> {
  const row: Record<string, unknown> = { label, seeds: events.length };
  for (const [name, get] of SUMMARY_METRICS) {
    const { mean, std } = meanStd(events.map(get));
    row[`${name}_mean`] = mean;
    row[`${name}_std`] = std;
  }
  return row;
}

/** A text table (and the same as markdown) of labels × summary metrics as mean ± std. */
export function summaryTables(
  groups: readonly { label: string; events: Record<string, unknown>[] }[],
  header = 'configuration',
): { text: string; markdown: string } {
  const cols = [header, 'seeds', ...SUMMARY_METRICS.map(([n]) => n)];
  const rows = groups.map((g) => [
    g.label,
    String(g.events.length),
    ...SUMMARY_METRICS.map(([, get]) => formatMeanStd(g.events.map(get))),
  ]);
  const markdown = [
    `| ${cols.join(' | ')} |`,
    `| ${cols.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  return { text: formatTable(cols, rows), markdown };
}

/** What the metric columns mean, for summary.md. */
export const METRIC_NOTES = [
  '- `val_acc`, `val_loss`: on the Fashion-MNIST test set (eval mode, i.e. the weight-scaling rule).',
  '- `train_loss_eval`: loss on the first 10,000 training examples in eval mode (no dropout noise).',
  '- `gap_eval` = val_loss − train_loss_eval: the generalisation gap free of the dropout noise.',
  '- `gap_trainmode` = val_loss − (mean training loss of the epoch, dropout on): the gap `train`/`compare` print.',
  '- `acc_gap` = train accuracy (eval mode, 10,000 examples) − val_acc.',
  '- `zeros_h1`, `zeros_h2`: fraction of exactly-zero hidden activations (ReLU sparsity) on a fixed probe batch of 1000 training images.',
  '- Values are mean ± sample standard deviation over seeds.',
].join('\n');

/** Mean ± std band of `get` over epochs 1…E, one series per group. */
export function curveBands(
  groups: readonly { label: string; runs: RunRecord[] }[],
  epochs: number,
  get: (e: Record<string, unknown>) => number,
): BandPoint[] {
  const points: BandPoint[] = [];
  for (const g of groups) {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const { mean, std } = meanStd(g.runs.map((r) => get(epochEvent(r, epoch))));
      points.push({ series: g.label, x: epoch, mean, lo: mean - std, hi: mean + std });
    }
  }
  return points;
}

/** Flags of `compare --seeds`: the run (from the option table), its models and the pool's flags. */
export interface CompareSeedsFlags extends QueueFlags {
  /** Every run, model by model and seed by seed within a model, resolved (src/run/resolve.ts). */
  configs: readonly RunConfig[];
  models: readonly ModelName[];
  seeds: number;
  dataDir?: string;
  out?: string;
  runsDir?: string;
  workers: number;
  json: boolean;
  backend: string;
}

/**
 * `compare --seeds N`: each model for N seeds, in worker processes, reported as mean ± std at
 * epoch 10 (when trained that long) and at the last epoch.
 */
export function runCompareSeeds(f: CompareSeedsFlags, log: (line: string) => void): Promise<void> {
  return experimentCommand(f, log, () => compareSeeds(f, log));
}

async function compareSeeds(f: CompareSeedsFlags, log: (line: string) => void): Promise<void> {
  const c = f.configs[0]!;
  const models = f.models.map((model, i) => {
    const own = f.configs[i * f.seeds]!;
    return {
      label: modelEntry(model).hasDropout ? `${model} (p=${own.dropout1}/${own.dropout2})` : model,
      model,
    };
  });
  const seeds = f.configs.slice(0, f.seeds).map((r) => r.seed);
  const configs = f.configs.map((r): ExperimentConfig => ({ ...DEFAULT_EXPERIMENT, ...r }));
  const flags: ExperimentFlags = {
    seeds: f.seeds,
    seed: c.seed,
    out: f.out ?? `out/compare-${c.epochs}ep-${f.seeds}seeds`,
    workers: f.workers,
    backend: f.backend,
    json: f.json,
    verbose: false,
    ...(f.runsDir ? { runsDir: f.runsDir } : {}),
    ...(f.dataDir ? { dataDir: f.dataDir } : {}),
    ...(f.queue ? { queue: f.queue, queueName: f.queueName } : {}),
    ...(f.queuePasswordFile ? { queuePasswordFile: f.queuePasswordFile } : {}),
    ...(f.queueCa ? { queueCa: f.queueCa } : {}),
  };
  const { records, outDir } = await runExperiments(configs, flags, log);
  const groups = models.map((m, i) => ({
    label: m.label,
    runs: records.slice(i * f.seeds, (i + 1) * f.seeds),
  }));
  const checkpoints = [...new Set([Math.min(10, c.epochs), c.epochs])];
  const md: string[] = [
    `# compare: dropout vs no dropout, ${f.seeds} seeds`,
    '',
    `Command: \`dropout-lab ${shownArgv()}\` (seeds ${seeds.join(', ')}; lr ${c.lr}, momentum ${c.momentum}, weight decay ${c.weightDecay}, batch ${c.batchSize}, ${c.numHiddens1}/${c.numHiddens2} hidden units).`,
    '',
  ];
  const jsonl: string[] = [];
  for (const epoch of checkpoints) {
    const rows = groups.map((g) => ({ label: g.label, events: g.runs.map((r) => epochEvent(r, epoch)) }));
    const t = summaryTables(rows, 'model');
    if (!f.json) log(`\nepoch ${epoch}\n${t.text}`);
    md.push(`## After ${epoch} epochs`, '', t.markdown, '');
    for (const r of rows)
      jsonl.push(JSON.stringify({ event: 'summary', epoch, ...aggregateRow(r.label, r.events) }));
  }
  md.push(METRIC_NOTES, '');
  for (const r of records) {
    for (const e of r.events.filter((v) => v['event'] === 'epoch')) {
      jsonl.push(
        JSON.stringify({ event: 'epoch', run: r.id, model: r.config.model, seed: r.config.seed, ...e }),
      );
    }
  }
  if (f.json) for (const l of jsonl.filter((l) => l.includes('"summary"'))) log(l);
  await writeFileAtomic(join(outDir, 'results.jsonl'), jsonl.join('\n') + '\n');
  await writeFileAtomic(join(outDir, 'summary.md'), md.join('\n'));
  const acc = await writeChart(
    outDir,
    'val_acc',
    bandChart(
      curveBands(groups, c.epochs, (e) => e['val_acc'] as number),
      {
        title: `val_acc, mean ± std over ${f.seeds} seeds`,
        xTitle: 'epoch',
        yTitle: 'validation accuracy',
      },
    ),
  );
  const gap = await writeChart(
    outDir,
    'gap',
    bandChart(
      curveBands(groups, c.epochs, (e) => e['gap_eval'] as number),
      {
        title: `gap: val_loss − train_loss (eval mode), mean ± std over ${f.seeds} seeds`,
        xTitle: 'epoch',
        yTitle: 'gap',
      },
    ),
  );
  if (!f.json) log(`wrote ${join(outDir, 'summary.md')}, results.jsonl, ${acc}, ${gap} (+ .png)`);
}
