/**
 * `dropout-lab report --out DIR [--quick]`: runs every experiment of src/experiments/presets.ts (the
 * deck's claims, the book's seven exercises, then norm, schedule and rdrop beyond the deck) with
 * seeds, each into DIR/<name>/, all runs in one folder DIR/runs (a run two sections need is trained
 * once, and finished runs are reused on a rerun), and writes DIR/report.html (one self-contained page:
 * question, command, plots, mean ± std tables and a verdict written from the numbers, per section)
 * and DIR/report.md. `--quick` trains tiny subsets for 2 epochs with 2 seeds: minutes on two cores,
 * for checking the pipeline.
 */
import { readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { Command } from 'commander';
import { PRESET_NAMES, PRESETS } from '../experiments/presets.js';
import { reportHtml, reportMarkdown, type ReportSection } from '../experiments/reportPage.js';
import { writeFileAtomic } from '../node/atomicWrite.js';
import { prepareOutDir } from '../node/outDir.js';
import { addExperimentOptions, experimentCommand, type ExperimentFlags } from './experiments.js';
import { DEFAULT_SAMPLES, runPreset } from './experiment.js';
import { integerAtLeast } from './options.js';
import { shownArgv } from './queueOptions.js';

type ReportFlags = ExperimentFlags & { quick: boolean; trainLimit?: number; valLimit?: number };

/** The quick report's runs: 2 epochs on 512 training and 256 test images, 2 seeds, 10 MC passes. */
const QUICK = { epochs: 2, trainLimit: 512, valLimit: 256, seeds: 2, samples: 10 } as const;

/** Registers `report` on the program. */
export function registerReport(program: Command, print: (line: string) => void): void {
  const cmd = program
    .command('report')
    .description(
      "run the deck's claims, the book's seven exercises and the experiments beyond the deck with seeds, and write one self-contained HTML page (+ Markdown) of questions, commands, plots, mean ± std and verdicts",
    )
    .option('--quick', 'tiny subsets, 2 epochs, 2 seeds: a few minutes on two cores', false)
    .option(
      '--train-limit <n>',
      'first N training examples (default: all; --quick: 512)',
      integerAtLeast('--train-limit', 1, 'e.g. 6000'),
    )
    .option(
      '--val-limit <n>',
      'first N test examples (default: all; --quick: 256)',
      integerAtLeast('--val-limit', 1, 'e.g. 2000'),
    );
  addExperimentOptions(cmd, 'out/report').action(async (f: ReportFlags) => {
    await experimentCommand(f, print, () => runReport(f, print));
  });
}

/** Runs every preset and writes the report. */
export async function runReport(f: ReportFlags, log: (line: string) => void): Promise<void> {
  const started = performance.now();
  const out = await prepareOutDir(f.out, {
    log: (line) => (f.json ? process.stderr.write(line + '\n') : log(line)),
  });
  const sections: ReportSection[] = [];
  const seeds = f.quick ? QUICK.seeds : f.seeds;
  const samples = f.quick ? QUICK.samples : DEFAULT_SAMPLES;
  const runsDir = f.runsDir ?? join(out.path, 'runs');
  for (const name of PRESET_NAMES) {
    const preset = PRESETS[name]!;
    const epochs = f.quick ? QUICK.epochs : preset.epochs;
    const subset = {
      trainLimit: f.trainLimit ?? (f.quick ? QUICK.trainLimit : 0),
      valLimit: f.valLimit ?? (f.quick ? QUICK.valLimit : 0),
    };
    if (!f.json) log(`\n== ${preset.title} ==`);
    const r = await runPreset(
      preset,
      {
        ...f,
        ...(subset.trainLimit > 0 ? { trainLimit: subset.trainLimit } : {}),
        ...(subset.valLimit > 0 ? { valLimit: subset.valLimit } : {}),
        seeds,
        epochs,
        samples,
        runsDir,
        out: join(out.path, name),
      },
      log,
    );
    const command = [
      'dropout-lab experiment',
      name,
      `--seeds ${seeds}`,
      ...(f.seed !== 0 ? [`--seed ${f.seed}`] : []),
      `--epochs ${epochs}`,
      ...(preset.usesSamples === true ? [`--samples ${samples}`] : []),
      ...(subset.trainLimit > 0 ? [`--train-limit ${subset.trainLimit}`] : []),
      ...(subset.valLimit > 0 ? [`--val-limit ${subset.valLimit}`] : []),
    ].join(' ');
    const plots = await Promise.all(
      r.charts.map(async (svgPath) => ({
        caption: basename(svgPath, '.svg').replace(/_/g, ' '),
        svg: await readFile(svgPath, 'utf8'),
        png: relative(out.path, svgPath.replace(/\.svg$/, '.png')),
      })),
    );
    sections.push({
      part: preset.part,
      title: preset.title,
      question: preset.question,
      command,
      tables: r.markdown,
      verdict: r.verdict,
      notes: preset.notes,
      plots,
    });
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const header = {
    title: "Dropout, the chapter reproduced: the deck's claims, the book's seven exercises, and beyond",
    mode: f.quick ? ('quick' as const) : ('full' as const),
    command: `dropout-lab ${shownArgv()}`,
    wallSeconds,
    date: new Date().toISOString().slice(0, 10),
    settings: f.quick
      ? `${QUICK.epochs} epochs on the first ${QUICK.trainLimit} training and ${QUICK.valLimit} test images, ${QUICK.seeds} seeds, ${QUICK.samples} MC passes, ${f.workers} workers.`
      : `${f.trainLimit ? `The first ${f.trainLimit} training images` : 'All 60,000 training images'} and ${f.valLimit ? `the first ${f.valLimit}` : 'all 10,000'} test images, each experiment's epochs, ${seeds} seeds, ${samples} MC passes, ${f.workers} workers.`,
  };
  await writeFileAtomic(join(out.path, 'report.html'), reportHtml(header, sections));
  await writeFileAtomic(join(out.path, 'report.md'), reportMarkdown(header, sections));
  log(`wrote ${join(out.path, 'report.html')} and report.md in ${wallSeconds.toFixed(0)} s`);
}
