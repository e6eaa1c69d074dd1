/**
 * The lab page: reads the run configuration (from the form, which mirrors the address bar), drives
 * the training worker, and draws the curves, the table of runs, the network view with its ensemble
 * strip, the quick check and the MC-dropout gallery. All training happens in the worker, so the page
 * stays responsive; pause and slow motion block the worker through a SharedArrayBuffer (the lab
 * server sends COOP/COEP, so the page is cross-origin isolated).
 */
import type { BoardMetric, BoardPoint, EpochMetrics } from '../train/index.js';
import {
  divergedAt,
  formatValue,
  METRIC_DASH,
  METRICS,
  renderChart,
  RUN_COLORS,
  type ChartRun,
} from './chart.js';
import { download, metricsCsv, metricsJsonl, standaloneSvg, svgToPng } from './export.js';
import { modelEntry } from '../run/models.js';
import { CHOICE_FIELDS, NUMBER_FIELDS } from './fields.js';
import { accuracies, renderDetail, renderGallery, type GallerySort } from './gallery.js';
import { renderNetwork, thinnedSvg, type Thinned } from './network.js';
import { renderSites } from './noiseView.js';
import type { NoiseSiteView } from './noiseSites.js';
import {
  CONTROL,
  CONTROL_BYTES,
  DATA_URLS,
  VIEW_UNITS,
  type FromWorker,
  type GalleryItem,
  type RunConfig,
  type ToWorker,
} from './protocol.js';
import { quickAverage, renderQuickCheck } from './quickcheck.js';
import { byId, SettingsForm } from './form.js';

const $ = byId;

const form = $<HTMLFormElement>('config');
const settingsSet = $<HTMLFieldSetElement>('settings');
const lockedNote = $<HTMLParagraphElement>('locked');
const modelSelect = $<HTMLSelectElement>('model');
const startBtn = $<HTMLButtonElement>('start');
const pauseBtn = $<HTMLButtonElement>('pause');
const resetBtn = $<HTMLButtonElement>('reset');
const statusEl = $<HTMLParagraphElement>('status');
const engineEl = $<HTMLParagraphElement>('engine');
const banner = $<HTMLDivElement>('banner');
const chart = $<SVGSVGElement>('chart');
const chartBox = $<HTMLDivElement>('chart-box');
const metricToggles = $<HTMLFieldSetElement>('metric-toggles');
const runsBody = $<HTMLTableElement>('runs').tBodies[0]!;
const metricsWrap = $<HTMLDivElement>('metrics-wrap');
const metricsBody = $<HTMLTableElement>('metrics').tBodies[0]!;
const network = $<SVGSVGElement>('network');
const networkBox = $<HTMLDivElement>('network-box');
const ensembleList = $<HTMLOListElement>('ensemble');
const sitesBox = $<HTMLDivElement>('sites');
/** The noise sites of the last step drawn (redrawn on resize). */
let sitesShown: readonly NoiseSiteView[] = [];
const SITES_EMPTY = 'start a run with dropout to see where its noise fell';
const slow = $<HTMLInputElement>('slow');
const delay = $<HTMLInputElement>('delay');
const delayOut = $<HTMLOutputElement>('delay-out');
const galleryList = $<HTMLUListElement>('gallery');
const galleryNote = $<HTMLParagraphElement>('gnote');
const galleryAcc = $<HTMLParagraphElement>('gacc');
const galleryDetail = $<HTMLDivElement>('gdetail');
const gallerySort = $<HTMLSelectElement>('gsort');
const galleryRun = $<HTMLButtonElement>('grun');

/** Thinned subnetworks kept in the ensemble strip. */
const ENSEMBLE_N = 12;

interface Run {
  readonly id: number;
  readonly color: number;
  readonly config: RunConfig;
  readonly points: BoardPoint[];
  readonly epochs: EpochMetrics[];
  visible: boolean;
  state: 'running' | 'done' | 'diverged' | 'failed';
  /** The last step reported, to place a divergence on the epoch axis. */
  lastStep: { epoch: number; step: number; stepsPerEpoch: number } | undefined;
  /** Set once the divergence banner has been shown for this run. */
  divergenceReported: boolean;
}

const runs: Run[] = [];
let nextId = 1;
let current: Run | undefined;
let worker: Worker | undefined;
const isolated = globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer !== 'undefined';
const control = isolated ? new Int32Array(new SharedArrayBuffer(CONTROL_BYTES)) : null;
let paused = false;
let gallery: { runId: number; passes: number; items: GalleryItem[]; images: Uint8Array } | undefined;
/** The run whose model the worker holds (the gallery's model), once a run has finished. */
let modelRunId: number | undefined;
let galleryBusy = false;
const shownMetrics = new Set<BoardMetric>(METRICS);
const ensemble: Thinned[] = [];
let networkFrame: { h1: readonly number[]; h2: readonly number[]; caption: string } = {
  h1: [],
  h2: [],
  caption: 'start a run to see its dropout masks',
};

function setControl(slot: number, value: number): void {
  if (control === null) return;
  Atomics.store(control, slot, value);
  Atomics.add(control, CONTROL.WAKE, 1);
  Atomics.notify(control, CONTROL.WAKE);
}

// ---- Settings: the form (form.ts), drawn from the option table. ----

const settings = new SettingsForm(modelSelect, setStatus);
const { checkField, input } = settings;

/** The gallery's fields, validated beside the gallery (they never block a run). */
function readGalleryFields(): { count: number; passes: number } | undefined {
  const [count, passes] = NUMBER_FIELDS.filter((f) => f.group === 'gallery').map(checkField);
  if (count?.value === undefined || passes?.value === undefined) return undefined;
  return { count: count.value, passes: passes.value };
}

function syncGalleryButton(): void {
  const ok = readGalleryFields() !== undefined;
  galleryRun.disabled = !ok || galleryBusy || current !== undefined || modelRunId === undefined;
}

for (const f of NUMBER_FIELDS) {
  input(f).addEventListener('input', () => {
    checkField(f);
    settings.syncUrl();
    if (f.group === 'gallery') syncGalleryButton();
  });
}
for (const f of CHOICE_FIELDS) {
  settings.select(f).addEventListener('change', () => {
    settings.checkChoice(f);
    settings.syncUrl();
  });
}
modelSelect.addEventListener('change', () => {
  settings.applyModelDefaults();
  settings.syncPlain();
  settings.syncUrl();
});

// ---- Status, banner, runs. ----

function setStatus(text: string): void {
  statusEl.textContent = text;
}

function showBanner(text: string | undefined): void {
  banner.hidden = text === undefined;
  banner.textContent = text ?? '';
}

function shortLabel(c: RunConfig): string {
  const ps = !modelEntry(c.model).hasDropout ? 'no dropout' : `p=${c.dropout1}/${c.dropout2}`;
  const sgd = `${c.momentum > 0 ? `, momentum ${c.momentum}` : ''}${c.weightDecay > 0 ? `, weight decay ${c.weightDecay}` : ''}`;
  return `${c.model} ${ps}, lr ${c.lr}${sgd}, batch ${c.batchSize}, ${c.epochs} epochs, seed ${c.seed}, ${c.trainLimit}/${c.valLimit} examples`;
}

function runState(r: Run): string {
  const at = divergedAt(r.points);
  if (at !== undefined) return `diverged (epoch ${at.toFixed(1)})`;
  return { running: 'training', done: 'done', diverged: 'diverged', failed: 'failed' }[r.state];
}

function drawChart(): void {
  const chartRuns: ChartRun[] = runs
    .filter((r) => r.visible)
    .map((r) => ({ id: r.id, color: r.color, label: shortLabel(r.config), points: r.points }));
  const maxEpochs = Math.max(1, ...runs.filter((r) => r.visible).map((r) => r.config.epochs));
  renderChart(chart, chartRuns, {
    maxEpochs,
    metrics: shownMetrics,
    width: chartBox.clientWidth || 640,
  });
  chart.dataset['points'] = String(runs.reduce((n, r) => n + r.points.length, 0));
}

function cell(row: HTMLTableRowElement, text: string, cls?: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  if (cls !== undefined) td.className = cls;
  return td;
}

/** The table of runs: settings, final values, state, show/hide, reuse settings, remove. */
function drawRuns(): void {
  runsBody.replaceChildren();
  for (const r of runs) {
    const c = r.config;
    const row = runsBody.insertRow();
    row.dataset['run'] = String(r.id);
    const at = divergedAt(r.points);
    if (at !== undefined) row.dataset['diverged'] = String(at);
    const show = row.insertCell();
    const label = document.createElement('label');
    label.className = `runtoggle c${r.color % RUN_COLORS}`;
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = r.visible;
    box.addEventListener('change', () => {
      r.visible = box.checked;
      drawChart();
    });
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.setAttribute('aria-hidden', 'true');
    label.append(box, swatch, `#${r.id}`);
    show.append(label);
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
    const use = document.createElement('button');
    use.type = 'button';
    use.textContent = 'Use';
    use.title = `Copy the settings of run #${r.id} into the form`;
    use.setAttribute('aria-label', `Use the settings of run #${r.id}`);
    use.disabled = current !== undefined;
    use.addEventListener('click', () => useSettings(r.config));
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `Remove run #${r.id}`);
    remove.disabled = r === current;
    remove.addEventListener('click', () => removeRun(r));
    actions.append(use, remove);
  }
}

function useSettings(c: RunConfig): void {
  settings.show(c);
  startBtn.focus();
}

function removeRun(r: Run): void {
  if (r === current) return;
  runs.splice(runs.indexOf(r), 1);
  for (const tr of Array.from(metricsBody.rows)) if (tr.dataset['run'] === String(r.id)) tr.remove();
  drawChart();
  drawRuns();
  setStatus(`Run #${r.id} removed.`);
  // Keep focus in the table (the button that had it is gone).
  const next = runsBody.querySelector<HTMLButtonElement>('button:not(:disabled)');
  (next ?? startBtn).focus();
}

function addMetricsRow(run: Run, m: EpochMetrics): void {
  // Follow new rows only when the reader is already at the bottom; never scroll the page itself.
  const atBottom = metricsWrap.scrollHeight - metricsWrap.scrollTop - metricsWrap.clientHeight < 8;
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
  metricsBody.append(tr);
  if (atBottom) metricsWrap.scrollTop = metricsWrap.scrollHeight;
}

function drawNetwork(): void {
  renderNetwork(network, networkFrame, VIEW_UNITS, networkBox.clientWidth || 640);
  renderSites(sitesBox, sitesShown, SITES_EMPTY, networkBox.clientWidth || 640);
}

let ensemblePending = false;
/** Redraws the strip once per animation frame, however many steps arrived. */
function drawEnsembleSoon(): void {
  if (ensemblePending) return;
  ensemblePending = true;
  requestAnimationFrame(() => {
    ensemblePending = false;
    ensembleList.innerHTML = ensemble
      .map((t) => `<li>${thinnedSvg(t)}<span>step ${t.step}</span></li>`)
      .join('');
  });
}

function setRunning(running: boolean): void {
  const hadFocus = document.activeElement;
  startBtn.disabled = running;
  pauseBtn.disabled = !running || control === null;
  settingsSet.disabled = running;
  lockedNote.hidden = !running;
  lockedNote.textContent =
    running && current !== undefined
      ? `These are the settings of run #${current.id}; they are locked while it trains. Wait for the end, or Reset, to start the next run.`
      : '';
  resetBtn.textContent = running ? 'Stop & reset' : 'Reset';
  if (!running) {
    paused = false;
    pauseBtn.textContent = 'Pause';
    pauseBtn.setAttribute('aria-pressed', 'false');
    setControl(CONTROL.PAUSED, 0);
  }
  syncGalleryButton();
  drawRuns();
  // Do not strand keyboard focus on a button that just became disabled (or on the body).
  const lost = hadFocus === null || hadFocus === document.body || (hadFocus as HTMLButtonElement).disabled;
  if (lost) (running && !pauseBtn.disabled ? pauseBtn : startBtn).focus();
}

function requestGallery(): void {
  const g = readGalleryFields();
  if (g === undefined) {
    galleryNote.textContent = 'Fix the gallery fields above, then press Recompute.';
    syncGalleryButton();
    return;
  }
  galleryBusy = true;
  syncGalleryButton();
  setStatus(`Computing the MC-dropout gallery for run #${modelRunId ?? '?'}…`);
  send({ type: 'gallery', count: g.count, passes: g.passes });
}

function drawGallery(): void {
  if (gallery === undefined) return;
  renderGallery(galleryList, gallery.items, gallery.images, gallerySort.value as GallerySort, (item) =>
    renderDetail(galleryDetail, item, gallery!.passes),
  );
}

function onMessage(msg: FromWorker): void {
  switch (msg.type) {
    case 'status':
      setStatus(msg.text);
      break;
    case 'ready':
      document.getElementById('engine-head')!.textContent = `${msg.backend}, in a Web Worker`;
      engineEl.textContent = `Engine: ${msg.backend}, in a Web Worker. ${msg.numTrain} train / ${msg.numVal} validation examples.`;
      setStatus(`Run #${msg.runId}: training…`);
      break;
    case 'step': {
      if (current?.id !== msg.runId) break;
      current.lastStep = { epoch: msg.epoch, step: msg.step, stepsPerEpoch: msg.stepsPerEpoch };
      current.points.push(...msg.points);
      if (msg.points.length > 0) drawChart();
      const c = current.config;
      networkFrame = {
        h1: msg.masks.h1,
        h2: msg.masks.h2,
        caption: !modelEntry(c.model).hasDropout
          ? `${c.model}: nothing is dropped (step ${msg.globalStep})`
          : msg.masks.p1 === 0 && msg.masks.p2 === 0
            ? `step ${msg.globalStep}: no hidden unit dropped this step; every noise draw is listed below`
            : `step ${msg.globalStep}: the first image lost ${(msg.masks.dropped1 * 100).toFixed(0)}% of hidden 1 and ` +
              `${(msg.masks.dropped2 * 100).toFixed(0)}% of hidden 2 (p = ${msg.masks.p1} / ${msg.masks.p2})`,
      };
      sitesShown = msg.masks.sites;
      drawNetwork();
      network.dataset['step'] = String(msg.globalStep);
      network.dataset['run'] = String(msg.runId);
      if (modelEntry(c.model).hasDropout && msg.masks.h1.length > 0) {
        ensemble.push({ step: msg.globalStep, h1: msg.masks.h1, h2: msg.masks.h2 });
        if (ensemble.length > ENSEMBLE_N) ensemble.shift();
        drawEnsembleSoon();
      }
      if (!paused) {
        setStatus(
          `Run #${msg.runId}: epoch ${msg.epoch}/${c.epochs}, step ${msg.step}/${msg.stepsPerEpoch}, loss ${formatValue(msg.loss)}`,
        );
      }
      break;
    }
    case 'points':
      if (current?.id !== msg.runId) break;
      current.points.push(...msg.points);
      drawChart();
      break;
    case 'epoch': {
      if (current?.id !== msg.runId) break;
      current.epochs.push(msg.metrics);
      addMetricsRow(current, msg.metrics);
      drawRuns();
      const at = divergedAt(current.points);
      if (at !== undefined && !current.divergenceReported) {
        current.divergenceReported = true;
        showBanner(
          `Run #${current.id} diverged at epoch ${at.toFixed(1)} (val_loss ${formatValue(msg.metrics.valLoss)}): ` +
            `the learning rate ${current.config.lr} is too large. The chart keeps its scale and marks the run with ▲.`,
        );
      }
      break;
    }
    case 'paused':
      if (current?.id === msg.runId)
        setStatus(msg.paused ? `Run #${msg.runId}: paused.` : `Run #${msg.runId}: resumed.`);
      break;
    case 'done': {
      if (current?.id !== msg.runId) break;
      const run = current;
      run.state = 'done';
      setStatus(`Run #${msg.runId} finished. Computing the MC-dropout gallery…`);
      current = undefined;
      modelRunId = run.id;
      setRunning(false);
      document.body.dataset['state'] = 'done';
      requestGallery();
      break;
    }
    case 'diverged': {
      if (current?.id !== msg.runId) break;
      const run = current;
      // The Trainer stops at the first non-finite loss: mark that step on the top edge of the chart.
      const s = run.lastStep ?? { epoch: 1, step: 0, stepsPerEpoch: 1 };
      const epoch = Math.min(s.epoch - 1 + (s.step + 1) / s.stepsPerEpoch, run.config.epochs);
      run.points.push({ metric: 'train_loss', epoch, value: Number.NaN });
      run.state = 'diverged';
      run.divergenceReported = true;
      showBanner(
        `Run #${run.id} diverged: ${msg.message} The chart keeps its scale and marks the run with ▲.`,
      );
      setStatus(`Run #${run.id} diverged (learning rate ${run.config.lr}); lower it and start again.`);
      current = undefined;
      setRunning(false);
      drawChart();
      document.body.dataset['state'] = 'done';
      break;
    }
    case 'gallery': {
      galleryBusy = false;
      const run = runs.find((r) => r.id === msg.runId);
      gallery = { runId: msg.runId, passes: msg.passes, items: msg.items, images: msg.images };
      const which = `Run #${msg.runId}${run === undefined ? '' : ` (${shortLabel(run.config)})`}`;
      galleryNote.textContent = msg.hasDropout
        ? `${which}. Each card: the MC prediction, its mean probability over T = ${msg.passes} passes with dropout on, the black error bar ± one standard deviation, and the eval() (weight scaling) probability of the same class. Red frames are MC mistakes. Choose a card for all 10 classes.`
        : `${which}: the plain MLP has no dropout, so its T = ${msg.passes} passes agree exactly (spread 0) and equal eval(). Train a dropout model to see MC-dropout uncertainty.`;
      const acc = accuracies(msg.items);
      galleryAcc.hidden = false;
      galleryAcc.textContent =
        `On these ${msg.items.length} test images: weight scaling (eval()) ${(acc.evalAcc * 100).toFixed(1)}% correct, ` +
        `MC average of ${msg.passes} passes ${(acc.mcAcc * 100).toFixed(1)}% correct.`;
      galleryDetail.hidden = true;
      drawGallery();
      syncGalleryButton();
      if (current === undefined) setStatus('Done.');
      break;
    }
    case 'data-missing':
      showBanner(`Data missing: ${msg.message}`);
      setStatus('No data.');
      failCurrent();
      break;
    case 'error':
      setStatus(`Error: ${msg.message}`);
      galleryBusy = false;
      failCurrent();
      break;
  }
}

function failCurrent(): void {
  if (current !== undefined) current.state = 'failed';
  current = undefined;
  setRunning(false);
}

function ensureWorker(): Worker {
  if (worker === undefined) {
    worker = new Worker(new URL('./worker.ts', import.meta.url), {
      type: 'module',
      name: 'dropout-lab-trainer',
    });
    worker.addEventListener('message', (e: MessageEvent<FromWorker>) => onMessage(e.data));
    worker.postMessage({ type: 'backend', prefer: settings.backendParam } satisfies ToWorker);
    worker.addEventListener('error', (e) => {
      setStatus(`Worker error: ${e.message}`);
      galleryBusy = false;
      failCurrent();
    });
  }
  return worker;
}

const send = (msg: ToWorker): void => ensureWorker().postMessage(msg);

form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (current !== undefined) return;
  const { config, errors, firstInvalid } = settings.readRunConfig();
  if (config === undefined) {
    setStatus(errors.length === 1 ? errors[0]! : `${errors.length} fields need fixing: ${errors.join(' ')}`);
    firstInvalid?.focus();
    return;
  }
  const id = nextId++;
  const run: Run = {
    id,
    color: (id - 1) % RUN_COLORS,
    config,
    points: [],
    epochs: [],
    visible: true,
    state: 'running',
    divergenceReported: false,
    lastStep: undefined,
  };
  runs.push(run);
  current = run;
  ensemble.length = 0;
  document.body.dataset['state'] = 'running';
  setRunning(true);
  drawChart();
  setStatus(`Run #${id}: starting…`);
  send({
    type: 'start',
    runId: id,
    config,
    control: control === null ? null : (control.buffer as SharedArrayBuffer),
  });
});

pauseBtn.addEventListener('click', () => {
  paused = !paused;
  setControl(CONTROL.PAUSED, paused ? 1 : 0);
  pauseBtn.textContent = paused ? 'Resume' : 'Pause';
  pauseBtn.setAttribute('aria-pressed', String(paused));
  if (paused) setStatus('Pausing after this step…');
});

resetBtn.addEventListener('click', () => {
  const n = runs.length;
  if (n > 0 && !confirm(`Discard ${n === 1 ? 'the run' : `all ${n} runs`} and the gallery?`)) return;
  worker?.terminate();
  worker = undefined;
  current = undefined;
  runs.length = 0;
  gallery = undefined;
  modelRunId = undefined;
  galleryBusy = false;
  ensemble.length = 0;
  ensembleList.replaceChildren();
  metricsBody.replaceChildren();
  galleryList.replaceChildren();
  galleryDetail.hidden = true;
  galleryAcc.hidden = true;
  galleryNote.textContent = 'Train a model to fill the gallery.';
  showBanner(undefined);
  setRunning(false);
  drawChart();
  networkFrame = { h1: [], h2: [], caption: 'start a run to see its dropout masks' };
  sitesShown = [];
  drawNetwork();
  network.dataset['step'] = '0';
  document.body.dataset['state'] = 'idle';
  setStatus('Reset.');
  startBtn.focus();
});

function syncDelay(): void {
  delayOut.textContent = `${delay.value} ms`;
  setControl(CONTROL.DELAY_MS, slow.checked ? Number(delay.value) : 0);
}
slow.addEventListener('change', syncDelay);
delay.addEventListener('input', syncDelay);
if (control === null) {
  slow.disabled = true;
  delay.disabled = true;
  engineEl.textContent =
    'This page is not cross-origin isolated, so pause and slow motion are off (open it from `dropout-lab lab`).';
}

// ---- Metric toggles and exports. ----

for (const metric of METRICS) {
  const label = document.createElement('label');
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.checked = true;
  box.dataset['metric'] = metric;
  box.addEventListener('change', () => {
    if (box.checked) shownMetrics.add(metric);
    else shownMetrics.delete(metric);
    drawChart();
  });
  const dash = METRIC_DASH[metric] === '' ? '' : ` stroke-dasharray="${METRIC_DASH[metric]}"`;
  const sample = document.createElement('span');
  sample.innerHTML = `<svg viewBox="0 0 34 10" aria-hidden="true"><line x1="0" x2="34" y1="5" y2="5"${dash}/></svg>`;
  label.append(box, sample, metric);
  metricToggles.append(label);
}

const exportRuns = (): { id: number; config: RunConfig; epochs: EpochMetrics[] }[] =>
  runs.map((r) => ({ id: r.id, config: r.config, epochs: r.epochs }));
$<HTMLButtonElement>('export-csv').addEventListener('click', () =>
  download(new Blob([metricsCsv(exportRuns())], { type: 'text/csv' }), 'dropout-lab-metrics.csv'),
);
$<HTMLButtonElement>('export-jsonl').addEventListener('click', () =>
  download(
    new Blob([metricsJsonl(exportRuns())], { type: 'application/x-ndjson' }),
    'dropout-lab-metrics.jsonl',
  ),
);
const chartMarkup = (): string => standaloneSvg(chart, getComputedStyle(document.body).backgroundColor);
$<HTMLButtonElement>('export-svg').addEventListener('click', () =>
  download(new Blob([chartMarkup()], { type: 'image/svg+xml' }), 'dropout-lab-chart.svg'),
);
$<HTMLButtonElement>('export-png').addEventListener('click', () => {
  const w = Number(chart.getAttribute('width'));
  const h = Number(chart.getAttribute('height'));
  svgToPng(chartMarkup(), w, h).then(
    (blob) => download(blob, 'dropout-lab-chart.png'),
    (err: unknown) => setStatus(`PNG export failed: ${err instanceof Error ? err.message : String(err)}`),
  );
});

// ---- Gallery. ----

gallerySort.addEventListener('change', drawGallery);
galleryRun.addEventListener('click', () => {
  if (current !== undefined || modelRunId === undefined) return;
  requestGallery();
});

// ---- Quick check. ----

const qp = $<HTMLInputElement>('qp');
const qseed = $<HTMLInputElement>('qseed');
const qdraws = $<HTMLSelectElement>('qdraws');
const qtable = $<HTMLTableElement>('qtable');
function drawQuick(): void {
  const p = Number(qp.value);
  const seed = Math.max(0, Math.floor(Number(qseed.value) || 0));
  const draws = Number(qdraws.value);
  $<HTMLOutputElement>('qp-out').textContent = p.toFixed(2);
  const average = draws > 0 ? { draws, mean: quickAverage(p, seed, draws) } : undefined;
  renderQuickCheck(qtable, p, seed, average);
  const avgNote =
    average === undefined
      ? ' Choose "average of" to see the mean of many draws approach X.'
      : ` The mean rows average ${draws} draws (seeds ${seed}…${seed + draws - 1}): they approach X.`;
  $<HTMLParagraphElement>('qnote').textContent =
    p === 1
      ? 'p = 1 drops everything (Y = 0).'
      : `Each entry of X is dropped with probability ${p.toFixed(2)}; survivors are scaled by 1/(1 − p) = ${(1 / (1 - p)).toFixed(2)}, so the expectation of Y stays X. ${qtable.dataset['dropped']} of 16 entries dropped.${avgNote}`;
}
qp.addEventListener('input', drawQuick);
qseed.addEventListener('input', drawQuick);
qdraws.addEventListener('change', drawQuick);
$<HTMLButtonElement>('qdraw').addEventListener('click', () => {
  qseed.value = String(Math.max(0, Math.floor(Number(qseed.value) || 0)) + 1);
  drawQuick();
});

// ---- Initial state. ----

settings.loadUrl();
settings.syncUrl();
drawChart();
drawRuns();
drawNetwork();
drawQuick();
syncGalleryButton();
// Redraw the SVGs at their shown width (real pixel font sizes) whenever the layout changes.
// Only a width change redraws: the drawing sets the height, which must not trigger another round.
const widths = new Map<Element, number>();
new ResizeObserver((entries) => {
  for (const e of entries) {
    const w = Math.round(e.contentRect.width);
    if (widths.get(e.target) === w) continue;
    widths.set(e.target, w);
    if (e.target === chartBox) drawChart();
    else drawNetwork();
  }
}).observe(chartBox);
new ResizeObserver((entries) => {
  for (const e of entries) {
    const w = Math.round(e.contentRect.width);
    if (widths.get(e.target) === w) continue;
    widths.set(e.target, w);
    drawNetwork();
  }
}).observe(networkBox);
document.body.dataset['state'] = 'idle';
void fetch(DATA_URLS.testLabels, { method: 'HEAD' }).then(
  (r) => {
    if (r.status === 404) {
      showBanner(
        'Data missing: the lab server has no Fashion-MNIST files (/data/* answers 404). Restart it with ' +
          '`dropout-lab lab --data-dir DIR` (a folder with the four files, raw or .gz), set $DROPOUT_LAB_DATA, ' +
          "or install Debian's dataset-fashion-mnist.",
      );
      startBtn.disabled = true;
    }
  },
  () => showBanner('The lab server does not answer; start it with `dropout-lab lab`.'),
);
