/**
 * The book's plot, drawn as plain SVG: train_loss (twice per epoch), val_loss and val_acc (once per
 * epoch) against epochs, one line style per run so dropout and plain runs overlay.
 */
import type { BoardMetric, BoardPoint } from '../train/index.js';
import { esc, px } from './svg.js';

/** One run on the chart. */
export interface ChartRun {
  readonly label: string;
  readonly dash: string;
  readonly points: readonly BoardPoint[];
}

/** Metric colours (the d2l plot's order: train_loss, val_loss, val_acc). */
export const METRIC_COLORS: Readonly<Record<BoardMetric, string>> = {
  train_loss: '#1f77b4',
  val_loss: '#d62728',
  val_acc: '#2a9d3a',
};

const W = 640;
const H = 340;
const M = { left: 48, right: 16, top: 14, bottom: 40 };

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

/** Draws `runs` into `svg` with x from 0 to `maxEpochs`. */
export function renderChart(svg: SVGSVGElement, runs: readonly ChartRun[], maxEpochs: number): void {
  const all = runs.flatMap((r) => r.points).filter((p) => Number.isFinite(p.value));
  const xMax = Math.max(1, maxEpochs, ...all.map((p) => p.epoch));
  const yMax = Math.max(1, ...all.map((p) => p.value)) * 1.05;
  const x = (e: number): number => M.left + (e / xMax) * (W - M.left - M.right);
  const y = (v: number): number => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const parts: string[] = [];
  const yStep = niceStep(yMax, 5);
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    parts.push(
      `<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${px(y(v))}" y2="${px(y(v))}"/>`,
      `<text class="tick" x="${M.left - 6}" y="${px(y(v) + 4)}" text-anchor="end">${+v.toFixed(2)}</text>`,
    );
  }
  const xStep = Math.max(1, niceStep(xMax, 8));
  for (let e = 0; e <= xMax + 1e-9; e += xStep) {
    parts.push(
      `<line class="grid" x1="${px(x(e))}" x2="${px(x(e))}" y1="${M.top}" y2="${H - M.bottom}"/>`,
      `<text class="tick" x="${px(x(e))}" y="${H - M.bottom + 16}" text-anchor="middle">${e}</text>`,
    );
  }
  parts.push(
    `<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}"/>`,
    `<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}"/>`,
    `<text class="axis-label" x="${(M.left + W - M.right) / 2}" y="${H - 6}" text-anchor="middle">epoch</text>`,
  );
  for (const run of runs) {
    for (const metric of Object.keys(METRIC_COLORS) as BoardMetric[]) {
      const pts = run.points.filter((p) => p.metric === metric && Number.isFinite(p.value));
      if (pts.length === 0) continue;
      const color = METRIC_COLORS[metric];
      const d = pts.map((p) => `${px(x(p.epoch))},${px(y(p.value))}`).join(' ');
      parts.push(
        `<polyline class="series" points="${d}" stroke="${color}" stroke-dasharray="${run.dash}">` +
          `<title>${esc(run.label)} ${metric}</title></polyline>`,
      );
      for (const p of pts) {
        parts.push(
          `<circle cx="${px(x(p.epoch))}" cy="${px(y(p.value))}" r="2.5" fill="${color}">` +
            `<title>${esc(run.label)} ${metric} @ ${p.epoch.toFixed(2)}: ${p.value.toFixed(4)}</title></circle>`,
        );
      }
    }
  }
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.innerHTML = parts.join('');
}
