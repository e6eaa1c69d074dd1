/**
 * The book's plot, drawn as plain SVG: train_loss (twice per epoch), val_loss and val_acc (once per
 * epoch) against epochs. Colour tells runs apart (a palette of RUN_COLORS CSS variables, one per run),
 * the line style tells metrics apart, as in the legend.
 *
 * The chart is drawn in CSS pixels at the width it is shown (the caller passes it), so tick labels are
 * as large on a phone as on a projector instead of being scaled down with a fixed viewBox.
 *
 * A diverging run (lr = 50) reaches losses of 1e27 or NaN. Scaling the axis to it would flatten every
 * other run to zero, so the y-axis ends at Y_CAP at most; values above it or not finite are drawn on
 * the top edge with a ▲ marker whose tooltip names the real value, and the run is reported as diverged.
 */
import type { BoardMetric, BoardPoint } from '../train/index.js';
import { esc, px } from './svg.js';

/** One run on the chart. */
export interface ChartRun {
  readonly id: number;
  /** Index into the run palette (CSS classes c0 … c7). */
  readonly color: number;
  readonly label: string;
  readonly points: readonly BoardPoint[];
}

/** The metrics, in the d2l plot's order, with the line style that marks each. */
export const METRICS: readonly BoardMetric[] = ['train_loss', 'val_loss', 'val_acc'];
/** Dash pattern per metric (solid, dashed, dotted). */
export const METRIC_DASH: Readonly<Record<BoardMetric, string>> = {
  train_loss: '',
  val_loss: '8 4',
  val_acc: '2 3',
};
/** Number of run colours (CSS variables --run-0 … --run-7). */
export const RUN_COLORS = 8;

/**
 * Losses above this are off the chart: ten times the loss of a uniform guess over 10 classes (ln 10).
 * A run whose loss passes it, or becomes NaN/∞, has diverged.
 */
export const Y_CAP = 10 * Math.log(10);

/** True when a point is off scale (a diverged loss). */
export function offScale(p: BoardPoint): boolean {
  return !Number.isFinite(p.value) || p.value > Y_CAP;
}

/** The first epoch at which a run's loss diverged, or undefined. */
export function divergedAt(points: readonly BoardPoint[]): number | undefined {
  return points.find(offScale)?.epoch;
}

/** Formats a metric value for tables and tooltips: 4 decimals, or exponent notation when huge. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  return Math.abs(v) >= 1e4 ? v.toExponential(2) : v.toFixed(4);
}

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

/** Chart size for a given shown width: a 16:9-ish plot, not too flat on a phone. */
export function chartSize(width: number): { width: number; height: number } {
  const w = Math.max(240, Math.round(width));
  return { width: w, height: Math.round(Math.min(420, Math.max(230, w * 0.56))) };
}

/** What the chart shows. */
export interface ChartOptions {
  readonly maxEpochs: number;
  readonly metrics: ReadonlySet<BoardMetric>;
  /** Width in CSS pixels. */
  readonly width: number;
}

/** Draws `runs` into `svg`; returns the y-axis maximum used. */
export function renderChart(svg: SVGSVGElement, runs: readonly ChartRun[], o: ChartOptions): number {
  const { width: W, height: H } = chartSize(o.width);
  const M = { left: 52, right: 14, top: 16, bottom: 44 };
  const shown = runs.flatMap((r) => r.points).filter((p) => o.metrics.has(p.metric));
  const onScale = shown.filter((p) => !offScale(p));
  const xMax = Math.max(1, o.maxEpochs, ...shown.map((p) => p.epoch));
  const yMax = Math.min(Y_CAP, Math.max(1, ...onScale.map((p) => p.value)) * 1.05);
  const x = (e: number): number => M.left + (e / xMax) * (W - M.left - M.right);
  const y = (v: number): number =>
    H - M.bottom - (Math.min(Math.max(v, 0), yMax) / yMax) * (H - M.top - M.bottom);
  const parts: string[] = [];
  const yStep = niceStep(yMax, Math.max(3, Math.min(6, Math.floor(H / 55))));
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    parts.push(
      `<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${px(y(v))}" y2="${px(y(v))}"/>`,
      `<text class="tick" x="${M.left - 7}" y="${px(y(v) + 4.5)}" text-anchor="end">${+v.toFixed(2)}</text>`,
    );
  }
  const xStep = Math.max(1, niceStep(xMax, Math.max(3, Math.floor(W / 70))));
  for (let e = 0; e <= xMax + 1e-9; e += xStep) {
    parts.push(
      `<line class="grid" x1="${px(x(e))}" x2="${px(x(e))}" y1="${M.top}" y2="${H - M.bottom}"/>`,
      `<text class="tick" x="${px(x(e))}" y="${H - M.bottom + 19}" text-anchor="middle">${e}</text>`,
    );
  }
  parts.push(
    `<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}"/>`,
    `<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}"/>`,
    `<text class="axis-label" x="${(M.left + W - M.right) / 2}" y="${H - 6}" text-anchor="middle">epoch</text>`,
  );
  for (const run of runs) {
    for (const metric of METRICS) {
      if (!o.metrics.has(metric)) continue;
      const pts = run.points.filter((p) => p.metric === metric);
      if (pts.length === 0) continue;
      const cls = `c${run.color % RUN_COLORS}`;
      const d = pts.map((p) => `${px(x(p.epoch))},${px(y(offScale(p) ? yMax : p.value))}`).join(' ');
      const dash = METRIC_DASH[metric] === '' ? '' : ` stroke-dasharray="${METRIC_DASH[metric]}"`;
      parts.push(
        `<polyline class="series ${cls}" data-run="${run.id}" data-metric="${metric}" points="${d}"${dash}>` +
          `<title>#${run.id} ${esc(run.label)} ${metric}</title></polyline>`,
      );
      for (const p of pts) {
        const tip = `#${run.id} ${esc(run.label)} ${metric} @ ${p.epoch.toFixed(2)}: ${formatValue(p.value)}`;
        const cx = px(x(p.epoch));
        if (offScale(p)) {
          // An upward triangle on the top edge: "off the chart, see the tooltip".
          const t = M.top;
          parts.push(
            `<path class="offscale ${cls}" data-run="${run.id}" d="M${cx},${t - 1} l6,10 h-12 z">` +
              `<title>${tip} (off the chart: diverged)</title></path>`,
          );
        } else {
          parts.push(
            `<circle class="dot ${cls}" cx="${cx}" cy="${px(y(p.value))}" r="3"><title>${tip}</title></circle>`,
          );
        }
      }
    }
  }
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('width', String(W));
  svg.setAttribute('height', String(H));
  svg.innerHTML = parts.join('');
  svg.dataset['ymax'] = String(yMax);
  return yMax;
}
