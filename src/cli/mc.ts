/**
 * `dropout-lab mc`: weight scaling vs Monte-Carlo dropout (Srivastava et al. 2014, Fig. 11): test
 * error of the MC average of k = 1…T passes against the single weight-scaled pass, with ± std bands
 * over seeds; calibration of both (reliability diagram, ECE); and the most and least certain test
 * images by MC predictive entropy.
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { FASHION_MNIST_LABELS } from '../data/fashionMnist.js';
import { DEFAULT_EXPERIMENT, type ExperimentConfig } from '../experiments/config.js';
import {
  bandChart,
  reliabilityChart,
  thumbnailGridSvg,
  writeChart,
  writeSvgPng,
  type BandPoint,
} from '../node/charts.js';
import { formatMeanStd, meanStd, type ReliabilityBin } from '../experiments/stats.js';
import { writeFileAtomic } from '../node/atomicWrite.js';
import {
  addExperimentOptions,
  experimentCommand,
  runExperiments,
  type ExperimentFlags,
} from './experiments.js';
import { formatTable } from './format.js';
import { integerAtLeast } from './options.js';
import type { RunConfig } from '../run/config.js';
import { resolveRuns } from '../run/resolve.js';
import { addRunOptions, givenFromFlags, printNotes } from './runOptions.js';
import { shownArgv } from './queueOptions.js';

/** The flags of `mc`: the run's (the option table's `mc` rows, unset = undefined), the experiment's, its own. */
type McFlags = ExperimentFlags &
  Partial<Record<keyof RunConfig, unknown>> & {
    samples: number;
    consistent: boolean;
  };

interface McEvent {
  ws_error: number;
  mc_error: number[];
  ws_nll: number;
  mc_nll: number;
  ws_ece: number;
  mc_ece: number;
  mc_entropy: number;
  mc_expected_entropy: number;
  mc_mutual_information: number;
  ws_reliability: ReliabilityBin[];
  mc_reliability: ReliabilityBin[];
  most_certain: { label: number; pred: number; entropy: number; pixels: number[] }[];
  least_certain: { label: number; pred: number; entropy: number; pixels: number[] }[];
}

/** Registers `mc` on the program. */
export function registerMc(program: Command, print: (line: string) => void): void {
  // program.command() (not new Command) so it inherits the one-line error output and exitOverride.
  const cmd = addRunOptions(
    program
      .command('mc')
      .description(
        'weight scaling vs Monte-Carlo dropout averaging (k = 1…T passes), calibration, certain/uncertain images',
      ),
    'mc',
  )
    .option(
      '--samples <T>',
      'MC passes (error reported for every k ≤ T)',
      integerAtLeast('--samples', 1, 'e.g. 100'),
      100,
    )
    .option(
      '--consistent',
      'the same T dropout masks for every test image (BaaL ConsistentDropout), not fresh masks per image',
      false,
    );
  addExperimentOptions(cmd, 'out/mc').action(async (f: McFlags) => {
    await experimentCommand(f, print, () => runMc(f, print));
  });
}

const KS = [1, 2, 5, 10, 20, 50, 100];

/** Runs the MC experiment described by the flags. */
export async function runMc(f: McFlags, log: (line: string) => void): Promise<void> {
  const seeds = Array.from({ length: f.seeds }, (_, i) => f.seed + i);
  // The book's dropout MLP, one run per seed, resolved from the option table's rows before any work.
  const runs = printNotes(
    resolveRuns(
      givenFromFlags(f),
      seeds.map((seed) => ({ seed })),
    ),
  );
  const configs: ExperimentConfig[] = runs.map((c) => ({
    ...DEFAULT_EXPERIMENT,
    ...c,
    kind: 'mc',
    mcSamples: f.samples,
    ...(f.consistent ? { mcConsistent: true } : {}),
  }));
  const { dropout1, dropout2, epochs } = runs[0]!;
  const { records, outDir } = await runExperiments(configs, f, log);
  const mcs = records.map((r) => r.events.find((e) => e['event'] === 'mc') as unknown as McEvent);
  const T = f.samples;
  const ks = [...new Set([...KS.filter((k) => k <= T), T])];
  const rows = ks.map((k) => [
    String(k),
    formatMeanStd(mcs.map((m) => m.mc_error[k - 1]!)),
    formatMeanStd(mcs.map((m) => m.ws_error)),
  ]);
  const table = formatTable(['k', 'MC error', 'weight-scaling error'], rows);
  const calib = formatTable(
    ['method', 'test error', 'NLL', 'ECE (15 bins)'],
    [
      [
        'weight scaling',
        formatMeanStd(mcs.map((m) => m.ws_error)),
        formatMeanStd(mcs.map((m) => m.ws_nll)),
        formatMeanStd(mcs.map((m) => m.ws_ece)),
      ],
      [
        `MC, k = ${T}`,
        formatMeanStd(mcs.map((m) => m.mc_error[T - 1]!)),
        formatMeanStd(mcs.map((m) => m.mc_nll)),
        formatMeanStd(mcs.map((m) => m.mc_ece)),
      ],
    ],
  );
  const split = formatTable(
    ['MC, k = ' + T, 'predictive entropy', 'expected entropy (aleatoric)', 'mutual information (epistemic)'],
    [
      [
        f.consistent ? 'consistent masks' : 'fresh masks',
        formatMeanStd(mcs.map((m) => m.mc_entropy)),
        formatMeanStd(mcs.map((m) => m.mc_expected_entropy)),
        formatMeanStd(mcs.map((m) => m.mc_mutual_information)),
      ],
    ],
  );
  if (!f.json) log(`\n${table}\n\n${calib}\n\n${split}`);
  const jsonl = [
    ...ks.map((k) =>
      JSON.stringify({
        event: 'summary',
        k,
        mc_error_mean: meanStd(mcs.map((m) => m.mc_error[k - 1]!)).mean,
        mc_error_std: meanStd(mcs.map((m) => m.mc_error[k - 1]!)).std,
        ws_error_mean: meanStd(mcs.map((m) => m.ws_error)).mean,
        ws_error_std: meanStd(mcs.map((m) => m.ws_error)).std,
      }),
    ),
    ...records.map((r, i) => {
      const { most_certain: _m, least_certain: _l, ...rest } = mcs[i]!;
      return JSON.stringify({ event: 'run', run: r.id, seed: r.config.seed, ...rest });
    }),
  ];
  if (f.json) for (const l of jsonl.filter((l) => l.includes('"summary"'))) log(l);
  await writeFileAtomic(join(outDir, 'results.jsonl'), jsonl.join('\n') + '\n');
  const md = [
    `# Weight scaling vs MC dropout, ${f.seeds} seeds`,
    '',
    `Command: \`dropout-lab ${shownArgv()}\` (dropout ${dropout1}/${dropout2}, ${epochs} epochs, T = ${T}${f.consistent ? ', consistent masks' : ''}).`,
    '',
    '```',
    table,
    '```',
    '',
    '```',
    calib,
    '```',
    '',
    'Mean over test images (nats) of the predictive entropy and its two parts:',
    '',
    '```',
    split,
    '```',
    '',
    f.consistent
      ? 'Consistent masks: pass t used one dropout mask for every test image (BaaL ConsistentDropout).'
      : 'Fresh masks: every test image drew its own mask in every pass.',
    '',
    'Error bands are mean ± sample std over seeds (each seed: its own trained model and MC masks).',
    '',
  ];
  await writeFileAtomic(join(outDir, 'summary.md'), md.join('\n'));

  const band: BandPoint[] = [];
  for (let k = 1; k <= T; k++) {
    const mc = meanStd(mcs.map((m) => m.mc_error[k - 1]!));
    const ws = meanStd(mcs.map((m) => m.ws_error));
    band.push({
      series: 'MC dropout average of k passes',
      x: k,
      mean: mc.mean,
      lo: mc.mean - mc.std,
      hi: mc.mean + mc.std,
    });
    band.push({
      series: 'weight scaling (1 pass, eval)',
      x: k,
      mean: ws.mean,
      lo: ws.mean - ws.std,
      hi: ws.mean + ws.std,
    });
  }
  const written = [
    await writeChart(
      outDir,
      'mc_error',
      bandChart(band, {
        title: `test error vs MC samples k (mean ± std, ${f.seeds} seeds)`,
        xTitle: 'k (MC samples)',
        yTitle: 'test error',
      }),
    ),
  ];
  const pooled = (get: (m: McEvent) => ReliabilityBin[], series: string) =>
    get(mcs[0]!).map((_, b) => {
      const bins = mcs.map((m) => get(m)[b]!);
      const count = bins.reduce((s, x) => s + x.count, 0);
      const w = (g: (x: ReliabilityBin) => number): number =>
        count > 0 ? bins.reduce((s, x) => s + g(x) * x.count, 0) / count : 0;
      return { series, count, confidence: w((x) => x.confidence), accuracy: w((x) => x.accuracy) };
    });
  written.push(
    await writeChart(
      outDir,
      'reliability',
      reliabilityChart(
        [
          ...pooled((m) => m.ws_reliability, 'weight scaling'),
          ...pooled((m) => m.mc_reliability, `MC, k = ${T}`),
        ],
        `reliability diagram (pooled over ${f.seeds} seeds)`,
      ),
    ),
  );
  const caption = (x: { label: number; pred: number; entropy: number }): string =>
    `${FASHION_MNIST_LABELS[x.label]}→${FASHION_MNIST_LABELS[x.pred]}\nH = ${x.entropy.toFixed(3)}`;
  const first = mcs[0]!;
  written.push(
    await writeSvgPng(
      outDir,
      'certainty',
      thumbnailGridSvg(
        [
          {
            title: 'most certain (lowest MC predictive entropy)',
            images: first.most_certain.map((x) => ({ pixels: x.pixels, caption: caption(x) })),
          },
          {
            title: 'least certain (highest MC predictive entropy)',
            images: first.least_certain.map((x) => ({ pixels: x.pixels, caption: caption(x) })),
          },
        ],
        { title: `seed ${seeds[0]}: label→prediction, H = entropy (nats)` },
      ),
    ),
  );
  if (!f.json)
    log(
      `wrote ${join(outDir, 'summary.md')}, results.jsonl${written.map((w) => ', ' + w).join('')} (+ .png)`,
    );
}
