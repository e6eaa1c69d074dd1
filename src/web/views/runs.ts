/**
 * The table of runs: settings, final values, state, show/hide, reuse settings, remove. It is redrawn
 * when a run is added or removed, finishes an epoch or changes state, or the current run changes;
 * not on show/hide (the checkbox already says it, and keeps focus) nor on every step.
 */
import type { RunConfig } from '../protocol.js';
import { divergedAt, formatValue, RUN_COLORS } from '../chart.js';
import { modelEntry } from '../../run/models.js';
import { runState, type LabState, type Run } from '../state.js';
import { sameList, type View } from './view.js';

/** What the table's controls do. */
export interface RunsHandlers {
  readonly show: (runId: number, visible: boolean) => void;
  readonly use: (config: RunConfig) => void;
  readonly remove: (runId: number) => void;
}

function cell(row: HTMLTableRowElement, text: string, cls?: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  if (cls !== undefined) td.className = cls;
  return td;
}

function button(text: string, label: string, disabled: boolean, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.disabled = disabled;
  b.addEventListener('click', onClick);
  return b;
}

function drawRow(
  body: HTMLTableSectionElement,
  r: Run,
  currentId: number | undefined,
  on: RunsHandlers,
): void {
  const c = r.config;
  const row = body.insertRow();
  row.dataset['run'] = String(r.id);
  const at = divergedAt(r.points);
  if (at !== undefined) row.dataset['diverged'] = String(at);
  const label = document.createElement('label');
  label.className = `runtoggle c${r.color % RUN_COLORS}`;
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.checked = r.visible;
  box.addEventListener('change', () => on.show(r.id, box.checked));
  const swatch = document.createElement('span');
  swatch.className = 'swatch';
  swatch.setAttribute('aria-hidden', 'true');
  label.append(box, swatch, `#${r.id}`);
  row.insertCell().append(label);
  cell(row, c.model);
  cell(row, !modelEntry(c.model).hasDropout ? '—' : `${c.dropout1}/${c.dropout2}`);
  cell(row, String(c.lr));
  cell(row, String(c.batchSize));
  cell(row, String(c.epochs));
  cell(row, String(c.seed));
  cell(row, `${c.trainLimit}/${c.valLimit}`);
  const last = r.epochs[r.epochs.length - 1];
  cell(row, last === undefined ? '…' : formatValue(last.trainLoss));
  cell(row, last === undefined ? '…' : formatValue(last.valLoss));
  cell(row, last === undefined ? '…' : formatValue(last.valAcc));
  const secs = r.epochs.map((m) => m.epochSeconds);
  cell(row, secs.length === 0 ? '…' : (secs.reduce((a, b) => a + b, 0) / secs.length).toFixed(2));
  cell(row, runState(r), at !== undefined ? 'state diverged' : 'state');
  const actions = row.insertCell();
  actions.className = 'actions';
  const use = button('Use', `Use the settings of run #${r.id}`, currentId !== undefined, () => on.use(c));
  use.title = `Copy the settings of run #${r.id} into the form`;
  const remove = button('Remove', `Remove run #${r.id}`, r.id === currentId, () => on.remove(r.id));
  actions.append(use, remove);
}

const sameRow = (a: Run, b: Run): boolean => a.id === b.id && a.epochs === b.epochs && a.state === b.state;

/** The view of the table of runs in `body`. */
export function runsView(body: HTMLTableSectionElement, on: RunsHandlers): View {
  let last: LabState | undefined;
  return (s) => {
    const same = last !== undefined && last.currentId === s.currentId && sameList(last.runs, s.runs, sameRow);
    last = s;
    if (same) return;
    body.replaceChildren();
    for (const r of s.runs) drawRow(body, r, s.currentId, on);
  };
}
