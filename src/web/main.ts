/**
 * The lab page: reads the run configuration (from the form, which mirrors the address bar), drives
 * the training worker, and shows the curves, the table of runs, the network view with its ensemble
 * strip, the quick check and the MC-dropout gallery. All training happens in the worker, so the page
 * stays responsive; pause and slow motion block the worker through a SharedArrayBuffer (the lab
 * server sends COOP/COEP, so the page is cross-origin isolated).
 *
 * This file only wires: every worker message and user action goes through `reduce` (state.ts, pure),
 * the views (views/*.ts) draw the new state, and the effects stay here: posting to the worker, the
 * shared pause/delay control, dialogs, downloads and focus.
 */
import { download, metricsCsv, metricsJsonl, standaloneSvg, svgToPng, type ExportRun } from './export.js';
import { CHOICE_FIELDS, NUMBER_FIELDS } from './fields.js';
import type { GallerySort } from './gallery.js';
import { CONTROL, CONTROL_BYTES, DATA_URLS, type FromWorker, type ToWorker } from './protocol.js';
import { byId as $, SettingsForm } from './form.js';
import { initialState, reduce, type LabAction, type LabState } from './state.js';
import { chartView, metricToggles } from './views/chart.js';
import { controlsView } from './views/controls.js';
import { galleryView } from './views/gallery.js';
import { metricsView } from './views/metrics.js';
import { networkView } from './views/network.js';
import { pageView } from './views/page.js';
import { mountQuickCheck } from './views/quickCheck.js';
import { runsView } from './views/runs.js';
import type { View } from './views/view.js';

const form = $<HTMLFormElement>('config');
const modelSelect = $<HTMLSelectElement>('model');
const startBtn = $<HTMLButtonElement>('start');
const chart = $<SVGSVGElement>('chart');
const chartBox = $<HTMLDivElement>('chart-box');
const runsBody = $<HTMLTableElement>('runs').tBodies[0]!;
const networkBox = $<HTMLDivElement>('network-box');
const slow = $<HTMLInputElement>('slow');
const delay = $<HTMLInputElement>('delay');
const gallerySort = $<HTMLSelectElement>('gsort');

const isolated = globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer !== 'undefined';
const control = isolated ? new Int32Array(new SharedArrayBuffer(CONTROL_BYTES)) : null;

function setControl(slot: number, value: number): void {
  if (control === null) return;
  Atomics.store(control, slot, value);
  Atomics.add(control, CONTROL.WAKE, 1);
  Atomics.notify(control, CONTROL.WAKE);
}

// ---- State and views. ----

let state: LabState = initialState(isolated, gallerySort.value as GallerySort);

const drawChart = chartView(chart, chartBox);
const drawNetwork = networkView({
  network: $<SVGSVGElement>('network'),
  box: networkBox,
  sites: $<HTMLDivElement>('sites'),
  ensemble: $<HTMLOListElement>('ensemble'),
});
const views: View[] = [
  pageView({
    status: $<HTMLParagraphElement>('status'),
    banner: $<HTMLDivElement>('banner'),
    engine: $<HTMLParagraphElement>('engine'),
    engineHead: $<HTMLSpanElement>('engine-head'),
  }),
  controlsView(
    {
      start: startBtn,
      pause: $<HTMLButtonElement>('pause'),
      reset: $<HTMLButtonElement>('reset'),
      settings: $<HTMLFieldSetElement>('settings'),
      locked: $<HTMLParagraphElement>('locked'),
    },
    control !== null,
  ),
  drawChart,
  runsView(runsBody, {
    show: (runId, visible) => dispatch({ type: 'ui/show-run', runId, visible }),
    use: (config) => {
      settings.show(config);
      startBtn.focus();
    },
    remove: removeRun,
  }),
  metricsView($<HTMLTableElement>('metrics').tBodies[0]!, $<HTMLDivElement>('metrics-wrap')),
  drawNetwork,
  galleryView({
    list: $<HTMLUListElement>('gallery'),
    note: $<HTMLParagraphElement>('gnote'),
    accuracy: $<HTMLParagraphElement>('gacc'),
    detail: $<HTMLDivElement>('gdetail'),
    recompute: $<HTMLButtonElement>('grun'),
  }),
];

/** Applies one action: the next state, the pause control, then every view. */
function dispatch(action: LabAction): void {
  const prev = state;
  state = reduce(state, action);
  if (state.paused !== prev.paused) setControl(CONTROL.PAUSED, state.paused ? 1 : 0);
  for (const view of views) view(state);
}

// ---- Settings: the form (form.ts), drawn from the option table. ----

const settings = new SettingsForm(modelSelect, (text) => dispatch({ type: 'ui/status', text }));
const { checkField, input } = settings;

/** The gallery's fields, validated beside the gallery (they never block a run). */
function readGalleryFields(): { count: number; passes: number } | undefined {
  const [count, passes] = NUMBER_FIELDS.filter((f) => f.group === 'gallery').map(checkField);
  if (count?.value === undefined || passes?.value === undefined) return undefined;
  return { count: count.value, passes: passes.value };
}

for (const f of NUMBER_FIELDS) {
  input(f).addEventListener('input', () => {
    checkField(f);
    settings.syncUrl();
    if (f.group === 'gallery') dispatch({ type: 'ui/gallery-fields', ok: readGalleryFields() !== undefined });
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

// ---- The worker. ----

let worker: Worker | undefined;

function ensureWorker(): Worker {
  if (worker === undefined) {
    worker = new Worker(new URL('./worker.ts', import.meta.url), {
      type: 'module',
      name: 'dropout-lab-trainer',
    });
    worker.addEventListener('message', (e: MessageEvent<FromWorker>) => onMessage(e.data));
    worker.postMessage({ type: 'backend', prefer: settings.backendParam } satisfies ToWorker);
    worker.addEventListener('error', (e) => dispatch({ type: 'ui/worker-error', message: e.message }));
  }
  return worker;
}

const send = (msg: ToWorker): void => ensureWorker().postMessage(msg);

function onMessage(msg: FromWorker): void {
  const finished = msg.type === 'done' && state.currentId === msg.runId;
  dispatch(msg);
  // A finished run's model is the gallery's: compute it straight away.
  if (finished) requestGallery();
}

function requestGallery(): void {
  const g = readGalleryFields();
  dispatch({ type: 'ui/gallery-request', ok: g !== undefined });
  if (g !== undefined) send({ type: 'gallery', count: g.count, passes: g.passes });
}

// ---- Run controls. ----

form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (state.currentId !== undefined) return;
  const { config, errors, firstInvalid } = settings.readRunConfig();
  if (config === undefined) {
    const text =
      errors.length === 1 ? errors[0]! : `${errors.length} fields need fixing: ${errors.join(' ')}`;
    dispatch({ type: 'ui/status', text });
    firstInvalid?.focus();
    return;
  }
  dispatch({ type: 'ui/start', config });
  send({
    type: 'start',
    runId: state.currentId!,
    config,
    control: control === null ? null : (control.buffer as SharedArrayBuffer),
  });
});

$<HTMLButtonElement>('pause').addEventListener('click', () => dispatch({ type: 'ui/toggle-pause' }));

$<HTMLButtonElement>('reset').addEventListener('click', () => {
  const n = state.runs.length;
  if (n > 0 && !confirm(`Discard ${n === 1 ? 'the run' : `all ${n} runs`} and the gallery?`)) return;
  worker?.terminate();
  worker = undefined;
  dispatch({ type: 'ui/reset' });
  startBtn.focus();
});

function removeRun(runId: number): void {
  if (runId === state.currentId) return;
  dispatch({ type: 'ui/remove-run', runId });
  // Keep focus in the table (the button that had it is gone).
  const next = runsBody.querySelector<HTMLButtonElement>('button:not(:disabled)');
  (next ?? startBtn).focus();
}

function syncDelay(): void {
  $<HTMLOutputElement>('delay-out').textContent = `${delay.value} ms`;
  setControl(CONTROL.DELAY_MS, slow.checked ? Number(delay.value) : 0);
}
slow.addEventListener('change', syncDelay);
delay.addEventListener('input', syncDelay);
if (control === null) {
  slow.disabled = true;
  delay.disabled = true;
}

// ---- Metric toggles and exports. ----

metricToggles($<HTMLFieldSetElement>('metric-toggles'), (metric, shown) =>
  dispatch({ type: 'ui/show-metric', metric, shown }),
);

const exportRuns = (): ExportRun[] => state.runs.map(({ id, config, epochs }) => ({ id, config, epochs }));
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
    (err: unknown) =>
      dispatch({
        type: 'ui/status',
        text: `PNG export failed: ${err instanceof Error ? err.message : String(err)}`,
      }),
  );
});

// ---- Gallery. ----

gallerySort.addEventListener('change', () =>
  dispatch({ type: 'ui/gallery-sort', sort: gallerySort.value as GallerySort }),
);
$<HTMLButtonElement>('grun').addEventListener('click', () => {
  if (state.currentId !== undefined || state.modelRunId === undefined) return;
  requestGallery();
});

// ---- Initial state. ----

settings.loadUrl();
settings.syncUrl();
mountQuickCheck();
dispatch({ type: 'ui/gallery-fields', ok: readGalleryFields() !== undefined });
// Redraw the SVGs at their shown width (real pixel font sizes) whenever the layout changes.
// Only a width change redraws: the drawing sets the height, which must not trigger another round.
const widths = new Map<Element, number>();
const onResize = (redraw: View) =>
  new ResizeObserver((entries) => {
    for (const e of entries) {
      const w = Math.round(e.contentRect.width);
      if (widths.get(e.target) === w) continue;
      widths.set(e.target, w);
      redraw(state, true);
    }
  });
onResize(drawChart).observe(chartBox);
onResize(drawNetwork).observe(networkBox);
void fetch(DATA_URLS.testLabels, { method: 'HEAD' }).then(
  (r) => {
    if (r.status === 404) dispatch({ type: 'ui/server', answer: 'no-data' });
  },
  () => dispatch({ type: 'ui/server', answer: 'down' }),
);
