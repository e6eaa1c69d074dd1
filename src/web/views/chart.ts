/**
 * The learning curves of the visible runs (chart.ts draws them) and the metric toggles above them.
 * It redraws when a run is added, removed, shown, hidden or gets points, or a metric is toggled.
 */
import type { BoardMetric } from '../../train/index.js';
import { METRIC_DASH, METRICS, renderChart, type ChartRun } from '../chart.js';
import { shortLabel, type LabState, type Run } from '../state.js';
import { sameList, type View } from './view.js';

/** Adds one checkbox per metric to `toggles`; `onToggle` hears each change. */
export function metricToggles(
  toggles: HTMLElement,
  onToggle: (metric: BoardMetric, shown: boolean) => void,
): void {
  for (const metric of METRICS) {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = true;
    box.dataset['metric'] = metric;
    box.addEventListener('change', () => onToggle(metric, box.checked));
    const dash = METRIC_DASH[metric] === '' ? '' : ` stroke-dasharray="${METRIC_DASH[metric]}"`;
    const sample = document.createElement('span');
    sample.innerHTML = `<svg viewBox="0 0 34 10" aria-hidden="true"><line x1="0" x2="34" y1="5" y2="5"${dash}/></svg>`;
    label.append(box, sample, metric);
    toggles.append(label);
  }
}

const sameCurve = (a: Run, b: Run): boolean =>
  a.id === b.id && a.visible === b.visible && a.points === b.points;

/** The view of the chart in `svg`, drawn at the width of `box`. */
export function chartView(svg: SVGSVGElement, box: HTMLElement): View {
  let last: LabState | undefined;
  return (s, force = false) => {
    const same =
      last !== undefined && last.shownMetrics === s.shownMetrics && sameList(last.runs, s.runs, sameCurve);
    last = s;
    if (same && !force) return;
    const visible = s.runs.filter((r) => r.visible);
    const chartRuns: ChartRun[] = visible.map((r) => ({
      id: r.id,
      color: r.color,
      label: shortLabel(r.config),
      points: r.points,
    }));
    const maxEpochs = Math.max(1, ...visible.map((r) => r.config.epochs));
    renderChart(svg, chartRuns, { maxEpochs, metrics: s.shownMetrics, width: box.clientWidth || 640 });
    svg.dataset['points'] = String(s.runs.reduce((n, r) => n + r.points.length, 0));
  };
}
