/**
 * The per-epoch table under the chart: one row per finished epoch of every run, appended as epochs
 * arrive (following new rows only when the reader is already at the bottom; the page never scrolls
 * itself), and dropped with their run.
 */
import { formatValue, RUN_COLORS } from '../chart.js';
import type { View } from './view.js';

/** The view of the metrics rows in `body`, scrolled within `wrap`. */
export function metricsView(body: HTMLTableSectionElement, wrap: HTMLElement): View {
  /** Rows drawn per run id. */
  const drawn = new Map<number, number>();
  return (s) => {
    const ids = new Set(s.runs.map((r) => r.id));
    for (const id of [...drawn.keys()].filter((id) => !ids.has(id))) {
      drawn.delete(id);
      for (const tr of Array.from(body.rows)) if (tr.dataset['run'] === String(id)) tr.remove();
    }
    for (const run of s.runs) {
      const from = drawn.get(run.id) ?? 0;
      if (from === run.epochs.length) continue;
      drawn.set(run.id, run.epochs.length);
      for (const m of run.epochs.slice(from)) {
        const atBottom = wrap.scrollHeight - wrap.scrollTop - wrap.clientHeight < 8;
        const tr = document.createElement('tr');
        tr.dataset['run'] = String(run.id);
        tr.dataset['model'] = run.config.model;
        tr.dataset['epoch'] = String(m.epoch);
        tr.dataset['trainLoss'] = String(m.trainLoss);
        tr.dataset['valLoss'] = String(m.valLoss);
        tr.dataset['valAcc'] = String(m.valAcc);
        tr.dataset['seconds'] = String(m.epochSeconds);
        const cells = [
          `#${run.id}`,
          String(m.epoch),
          formatValue(m.trainLoss),
          formatValue(m.valLoss),
          formatValue(m.valAcc),
          m.epochSeconds.toFixed(2),
        ];
        cells.forEach((text, i) => {
          const td = document.createElement('td');
          td.textContent = text;
          if (i === 0) td.className = `runcell c${run.color % RUN_COLORS}`;
          tr.append(td);
        });
        body.append(tr);
        if (atBottom) wrap.scrollTop = wrap.scrollHeight;
      }
    }
  };
}
