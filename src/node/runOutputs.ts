/**
 * The files a run leaves in its --out folder, all written from one record so a resumed run cannot
 * forget any: config.json (the run's description from the option table, plus where it ran),
 * metrics.jsonl (every epoch of every model and the summaries) and the book's plot (curves.svg/png).
 * All of them or none: every file is staged first, then all are renamed.
 */
import { join } from 'node:path';
import type { RunConfig } from '../run/config.js';
import { epochEvent, summaryEvent } from '../run/events.js';
import { configRecord } from '../run/options.js';
import type { RunResult } from '../run/runOne.js';
import { writeFilesAtomic } from './atomicWrite.js';
import { renderPlotFiles, type MetricPoint } from './plot.js';

/** What one command's run was: its description, the models it trained, and where. */
export interface RunRecord {
  readonly command: string;
  readonly config: RunConfig;
  readonly results: readonly RunResult[];
  readonly backend: string;
  readonly threads: number;
  readonly dataSource: string;
}

/** config.json of a run: the command, its models, every option (snake_case) and where it ran. */
export function configJson(r: RunRecord): Record<string, unknown> {
  const { model: _model, ...options } = configRecord(r.config);
  return {
    command: r.command,
    models: r.results.map((x) => x.config.model),
    ...options,
    backend: r.backend,
    threads: r.threads,
    data_source: r.dataSource,
  };
}

/** metrics.jsonl of a run: each model's epochs, then its summary. */
export function metricsLines(results: readonly RunResult[]): string[] {
  return results.flatMap((r) => [
    ...r.epochs.map((m) => JSON.stringify(epochEvent(r.config.model, m))),
    JSON.stringify(summaryEvent(r.summary)),
  ]);
}

/** Writes config.json, metrics.jsonl and curves.svg/png into `dir`; returns the paths written. */
export async function writeRunOutputs(dir: string, r: RunRecord): Promise<string[]> {
  const models = r.results.map((x) => x.config.model);
  const points: MetricPoint[] = r.results.flatMap((x) =>
    x.points.map((p) => ({ model: x.config.model, metric: p.metric, epoch: p.epoch, value: p.value })),
  );
  const title = `${models.join(' vs ')} on Fashion-MNIST`;
  const plots = await renderPlotFiles(dir, 'curves', points, { title });
  const files = [
    { path: join(dir, 'config.json'), data: JSON.stringify(configJson(r), null, 2) + '\n' },
    { path: join(dir, 'metrics.jsonl'), data: metricsLines(r.results).join('\n') + '\n' },
    ...plots,
  ];
  await writeFilesAtomic(files);
  return files.map((f) => f.path);
}
