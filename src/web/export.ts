/**
 * Downloads from the lab: the epoch metrics of every run as CSV and as JSON lines (the CLI's
 * `--json` epoch events, plus the run number and its settings), and the chart as SVG and PNG.
 *
 * The chart is styled by the page's CSS (theme colours, run palette); a standalone SVG has no access
 * to it, so `standaloneSvg` copies each element's computed paint and font into attributes of a clone.
 * The PNG is that SVG drawn on a canvas at twice the size, for slides.
 */
import { epochEvent } from '../run/events.js';
import { canonicalConfig, optionsFor, snakeCase } from '../run/options.js';
import type { EpochMetrics } from '../train/index.js';
import type { RunConfig } from './protocol.js';

/** One run's settings and epoch metrics. */
export interface ExportRun {
  readonly id: number;
  readonly config: RunConfig;
  readonly epochs: readonly EpochMetrics[];
}

/** The settings columns: the run's number, then the lab's options (the option table's, snake_case). */
const SETTINGS = optionsFor('lab').map((o) => o.key);

const CSV_COLUMNS = [
  'run',
  ...SETTINGS.map(snakeCase),
  'epoch',
  'train_loss',
  'val_loss',
  'val_acc',
  'epoch_seconds',
  'samples_per_second',
] as const;

/** A run's settings as the CLI records them (a model's unused fields as it fixes them: no noise for mlp). */
function settings(r: ExportRun): Record<string, number | string> {
  const c = canonicalConfig(r.config);
  const out: Record<string, number | string> = { run: r.id };
  // The lab's subsets are counts (60000 = all), as its form shows them.
  for (const k of SETTINGS) out[snakeCase(k)] = k === 'trainLimit' || k === 'valLimit' ? r.config[k] : c[k];
  return out;
}

/** All runs' epoch metrics as CSV (one header line, one line per run and epoch; full precision). */
export function metricsCsv(runs: readonly ExportRun[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of runs) {
    for (const m of r.epochs) {
      const row: Record<string, number | string> = {
        ...settings(r),
        epoch: m.epoch,
        train_loss: m.trainLoss,
        val_loss: m.valLoss,
        val_acc: m.valAcc,
        epoch_seconds: m.epochSeconds,
        samples_per_second: m.samplesPerSecond,
      };
      lines.push(CSV_COLUMNS.map((k) => String(row[k])).join(','));
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * All runs' epoch metrics as JSON lines: the CLI's epoch event (event, model, epoch, train_loss,
 * val_loss, val_acc, epoch_seconds, samples_per_second) with the run's number and settings added.
 * Non-finite values (a diverged run) become null, as JSON.stringify writes them.
 */
export function metricsJsonl(runs: readonly ExportRun[]): string {
  const lines: string[] = [];
  for (const r of runs) {
    for (const m of r.epochs) {
      lines.push(JSON.stringify({ ...epochEvent(r.config.model, m), ...settings(r) }));
    }
  }
  return lines.map((l) => l + '\n').join('');
}

const PAINT = ['fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'opacity', 'font-size', 'font-family'];

/** A self-contained copy of `svg`: computed styles inlined, a background rectangle, the XML namespace. */
export function standaloneSvg(svg: SVGSVGElement, background: string): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const live: Element[] = [svg, ...Array.from(svg.querySelectorAll('*'))];
  const copies: Element[] = [clone, ...Array.from(clone.querySelectorAll('*'))];
  live.forEach((el, i) => {
    const cs = getComputedStyle(el);
    const copy = copies[i]!;
    if (el === svg) return;
    for (const prop of PAINT) {
      const v = cs.getPropertyValue(prop);
      if (v !== '' && v !== 'none' && !(prop === 'stroke-dasharray' && v === 'none'))
        copy.setAttribute(prop, v);
      else if (prop === 'fill' || prop === 'stroke') copy.setAttribute(prop, 'none');
    }
    copy.removeAttribute('class');
  });
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const [, , w, h] = (svg.getAttribute('viewBox') ?? '0 0 640 360').split(' ');
  const bg = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  bg.setAttribute('width', w ?? '640');
  bg.setAttribute('height', h ?? '360');
  bg.setAttribute('fill', background);
  clone.prepend(bg);
  return new XMLSerializer().serializeToString(clone);
}

/** Renders SVG markup to a PNG blob at `scale` × its size. */
export async function svgToPng(markup: string, width: number, height: number, scale = 2): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([markup], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const ctx = canvas.getContext('2d');
    if (ctx === null) throw new Error('no 2D canvas for the PNG export');
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((b) => (b === null ? reject(new Error('PNG encoding failed')) : resolve(b)), 'image/png'),
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Offers `blob` as a download named `filename`. */
export function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoke later: the download reads the blob asynchronously.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
