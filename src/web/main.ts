/**
 * The lab page: reads the run configuration, drives the training worker, and draws the curves, the
 * network view, the quick check and the MC-dropout gallery. All training happens in the worker, so
 * the page stays responsive; pause and slow motion block the worker through a SharedArrayBuffer
 * (the lab server sends COOP/COEP, so the page is cross-origin isolated).
 */
import type { BoardPoint, EpochMetrics } from '../train/index.js';
import { renderChart, METRIC_COLORS, type ChartRun } from './chart.js';
import { renderGallery, type GallerySort } from './gallery.js';
import { renderNetwork } from './network.js';
import {
  CONTROL,
  CONTROL_BYTES,
  DATA_URLS,
  LAB_MODELS,
  VIEW_UNITS,
  type FromWorker,
  type GalleryItem,
  type LabModel,
  type RunConfig,
  type ToWorker,
} from './protocol.js';
import { renderQuickCheck } from './quickcheck.js';

const $ = <T extends HTMLElement | SVGElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`missing #${id}`);
  return el as T;
};

const form = $<HTMLFormElement>('config');
const startBtn = $<HTMLButtonElement>('start');
const pauseBtn = $<HTMLButtonElement>('pause');
const resetBtn = $<HTMLButtonElement>('reset');
const statusEl = $<HTMLParagraphElement>('status');
const engineEl = $<HTMLParagraphElement>('engine');
const banner = $<HTMLDivElement>('banner');
const chart = $<SVGSVGElement>('chart');
const legend = $<HTMLUListElement>('legend');
const metricsBody = $<HTMLTableElement>('metrics').tBodies[0]!;
const network = $<SVGSVGElement>('network');
const slow = $<HTMLInputElement>('slow');
const delay = $<HTMLInputElement>('delay');
const delayOut = $<HTMLOutputElement>('delay-out');
const galleryList = $<HTMLUListElement>('gallery');
const galleryNote = $<HTMLParagraphElement>('gnote');
const gallerySort = $<HTMLSelectElement>('gsort');
const galleryRun = $<HTMLButtonElement>('grun');

const DASHES = ['', '7 4', '2 3', '10 3 2 3', '4 2'];

interface Run {
  readonly id: number;
  readonly label: string;
  readonly dash: string;
  readonly config: RunConfig;
  readonly points: BoardPoint[];
}

const runs: Run[] = [];
let current: Run | undefined;
let worker: Worker | undefined;
const isolated = globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer !== 'undefined';
const control = isolated ? new Int32Array(new SharedArrayBuffer(CONTROL_BYTES)) : null;
let paused = false;
let gallery: { items: GalleryItem[]; images: Uint8Array } | undefined;

function setControl(slot: number, value: number): void {
  if (control === null) return;
  Atomics.store(control, slot, value);
  Atomics.add(control, CONTROL.WAKE, 1);
  Atomics.notify(control, CONTROL.WAKE);
}

function num(id: string, min: number, max: number, integer: boolean): number {
  const input = $<HTMLInputElement>(id);
  const v = Number(input.value);
  const ok =
    input.value.trim() !== '' &&
    Number.isFinite(v) &&
    v >= min &&
    v <= max &&
    (!integer || Number.isInteger(v));
  input.setAttribute('aria-invalid', ok ? 'false' : 'true');
  if (!ok) {
    const label = document.querySelector(`label[for="${id}"]`)?.textContent ?? id;
    throw new RangeError(`${label} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}].`);
  }
  return v;
}

function readConfig(): RunConfig {
  const model = $<HTMLSelectElement>('model').value as LabModel;
  if (!LAB_MODELS.includes(model)) throw new RangeError(`unknown model ${model}`);
  return {
    model,
    dropout1: num('p1', 0, 1, false),
    dropout2: num('p2', 0, 1, false),
    batchSize: num('batch', 1, 60000, true),
    lr: num('lr', 1e-6, 100, false),
    epochs: num('epochs', 1, 1000, true),
    trainLimit: num('train-limit', 1, 60000, true),
    valLimit: num('val-limit', 1, 10000, true),
    seed: num('seed', 0, Number.MAX_SAFE_INTEGER, true),
    numHiddens1: 256,
    numHiddens2: 256,
    galleryCount: num('gcount', 1, 200, true),
    mcPasses: num('gpasses', 2, 200, true),
  };
}

function runLabel(c: RunConfig): string {
  const ps = c.model === 'mlp' ? 'no dropout' : `p=${c.dropout1}/${c.dropout2}`;
  return `${c.model} ${ps}, lr ${c.lr}, batch ${c.batchSize}`;
}

function setStatus(text: string): void {
  statusEl.textContent = text;
}

function showBanner(text: string | undefined): void {
  banner.hidden = text === undefined;
  banner.textContent = text ?? '';
}

function drawChart(): void {
  const chartRuns: ChartRun[] = runs.map((r) => ({ label: `#${r.id}`, dash: r.dash, points: r.points }));
  const maxEpochs = Math.max(1, ...runs.map((r) => r.config.epochs));
  renderChart(chart, chartRuns, maxEpochs);
  chart.dataset['points'] = String(runs.reduce((n, r) => n + r.points.length, 0));
  const items: string[] = Object.entries(METRIC_COLORS).map(
    ([metric, color]) =>
      `<li><svg viewBox="0 0 34 10" aria-hidden="true"><line x1="0" x2="34" y1="5" y2="5" stroke="${color}" stroke-width="3"/></svg>${metric}</li>`,
  );
  for (const r of runs) {
    items.push(
      `<li><svg viewBox="0 0 34 10" aria-hidden="true"><line x1="0" x2="34" y1="5" y2="5" stroke="#1b1f24" stroke-width="2" stroke-dasharray="${r.dash}"/></svg>#${r.id} ${escapeHtml(r.label)}</li>`,
    );
  }
  legend.innerHTML = items.join('');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function addMetricsRow(run: Run, m: EpochMetrics): void {
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
    m.trainLoss.toFixed(4),
    m.valLoss.toFixed(4),
    m.valAcc.toFixed(4),
    m.epochSeconds.toFixed(2),
  ];
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  metricsBody.append(tr);
  tr.scrollIntoView({ block: 'nearest' });
}

function drawNetwork(h1: readonly number[], h2: readonly number[], caption: string): void {
  renderNetwork(network, { h1, h2, caption }, VIEW_UNITS);
}

function setRunning(running: boolean): void {
  startBtn.disabled = running;
  pauseBtn.disabled = !running || control === null;
  galleryRun.disabled = running || gallery === undefined;
  if (!running) {
    paused = false;
    pauseBtn.textContent = 'Pause';
    pauseBtn.setAttribute('aria-pressed', 'false');
    setControl(CONTROL.PAUSED, 0);
  }
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
      current.points.push(...msg.points);
      if (msg.points.length > 0) drawChart();
      const c = current.config;
      const caption =
        c.model === 'mlp'
          ? `plain MLP: nothing is dropped (step ${msg.globalStep})`
          : `step ${msg.globalStep}: example 0 lost ${(msg.masks.dropped1 * 100).toFixed(0)}% of hidden 1 and ` +
            `${(msg.masks.dropped2 * 100).toFixed(0)}% of hidden 2 (p = ${c.dropout1} / ${c.dropout2})`;
      drawNetwork(msg.masks.h1, msg.masks.h2, caption);
      network.dataset['step'] = String(msg.globalStep);
      network.dataset['run'] = String(msg.runId);
      if (!paused) {
        setStatus(
          `Run #${msg.runId}: epoch ${msg.epoch}/${c.epochs}, step ${msg.step}/${msg.stepsPerEpoch}, loss ${msg.loss.toFixed(4)}`,
        );
      }
      break;
    }
    case 'points':
      if (current?.id !== msg.runId) break;
      current.points.push(...msg.points);
      drawChart();
      break;
    case 'epoch':
      if (current?.id !== msg.runId) break;
      addMetricsRow(current, msg.metrics);
      break;
    case 'paused':
      if (current?.id === msg.runId)
        setStatus(msg.paused ? `Run #${msg.runId}: paused.` : `Run #${msg.runId}: resumed.`);
      break;
    case 'done':
      if (current?.id !== msg.runId) break;
      setStatus(`Run #${msg.runId} finished. Computing the MC-dropout gallery…`);
      current = undefined;
      setRunning(false);
      document.body.dataset['state'] = 'done';
      break;
    case 'gallery':
      gallery = { items: msg.items, images: msg.images };
      galleryNote.textContent = msg.hasDropout
        ? `Mean probability of the predicted class over T = ${msg.passes} forward passes with dropout on; the black bar is ± one standard deviation. Red frames are mistakes.`
        : `The plain MLP has no dropout, so its T = ${msg.passes} passes agree exactly (spread 0). Train a dropout model to see MC-dropout uncertainty.`;
      renderGallery(galleryList, gallery.items, gallery.images, gallerySort.value as GallerySort);
      galleryRun.disabled = current !== undefined;
      if (current === undefined) setStatus('Done.');
      break;
    case 'data-missing':
      showBanner(`Data missing: ${msg.message}`);
      setStatus('No data.');
      current = undefined;
      setRunning(false);
      break;
    case 'error':
      setStatus(`Error: ${msg.message}`);
      current = undefined;
      setRunning(false);
      break;
  }
}

function ensureWorker(): Worker {
  if (worker === undefined) {
    worker = new Worker(new URL('./worker.ts', import.meta.url), {
      type: 'module',
      name: 'dropout-lab-trainer',
    });
    worker.addEventListener('message', (e: MessageEvent<FromWorker>) => onMessage(e.data));
    const prefer = new URLSearchParams(location.search).get('backend');
    worker.postMessage({ type: 'backend', prefer } satisfies ToWorker);
    worker.addEventListener('error', (e) => {
      setStatus(`Worker error: ${e.message}`);
      current = undefined;
      setRunning(false);
    });
  }
  return worker;
}

const send = (msg: ToWorker): void => ensureWorker().postMessage(msg);

form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (current !== undefined) return;
  let config: RunConfig;
  try {
    config = readConfig();
  } catch (err) {
    setStatus(err instanceof Error ? err.message : String(err));
    return;
  }
  const id = runs.length === 0 ? 1 : runs[runs.length - 1]!.id + 1;
  const run: Run = {
    id,
    label: runLabel(config),
    dash: DASHES[(id - 1) % DASHES.length]!,
    config,
    points: [],
  };
  runs.push(run);
  current = run;
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
  worker?.terminate();
  worker = undefined;
  current = undefined;
  runs.length = 0;
  gallery = undefined;
  metricsBody.replaceChildren();
  galleryList.replaceChildren();
  galleryNote.textContent = 'Train a model to fill the gallery.';
  setRunning(false);
  drawChart();
  drawNetwork([], [], 'start a run to see its dropout masks');
  network.dataset['step'] = '0';
  document.body.dataset['state'] = 'idle';
  setStatus('Reset.');
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

$<HTMLSelectElement>('model').addEventListener('change', (e) => {
  const plain = (e.target as HTMLSelectElement).value === 'mlp';
  $<HTMLInputElement>('p1').disabled = plain;
  $<HTMLInputElement>('p2').disabled = plain;
});

gallerySort.addEventListener('change', () => {
  if (gallery !== undefined)
    renderGallery(galleryList, gallery.items, gallery.images, gallerySort.value as GallerySort);
});
galleryRun.addEventListener('click', () => {
  if (current !== undefined || gallery === undefined) return;
  try {
    galleryRun.disabled = true;
    setStatus('Computing the MC-dropout gallery…');
    send({ type: 'gallery', count: num('gcount', 1, 200, true), passes: num('gpasses', 2, 200, true) });
  } catch (err) {
    setStatus(err instanceof Error ? err.message : String(err));
  }
});

// Quick check.
const qp = $<HTMLInputElement>('qp');
const qseed = $<HTMLInputElement>('qseed');
const qtable = $<HTMLTableElement>('qtable');
function drawQuick(): void {
  const p = Number(qp.value);
  const seed = Math.max(0, Math.floor(Number(qseed.value) || 0));
  $<HTMLOutputElement>('qp-out').textContent = p.toFixed(2);
  renderQuickCheck(qtable, p, seed);
  $<HTMLParagraphElement>('qnote').textContent =
    p === 1
      ? 'p = 1 drops everything.'
      : `Each entry is dropped with probability ${p.toFixed(2)}; survivors are scaled by 1/(1 − p) = ${(1 / (1 - p)).toFixed(2)}, so the expectation stays X. ${qtable.dataset['dropped']} of 16 entries dropped.`;
}
qp.addEventListener('input', drawQuick);
qseed.addEventListener('input', drawQuick);
$<HTMLButtonElement>('qdraw').addEventListener('click', () => {
  qseed.value = String(Math.max(0, Math.floor(Number(qseed.value) || 0)) + 1);
  drawQuick();
});

// Initial state.
drawChart();
drawNetwork([], [], 'start a run to see its dropout masks');
drawQuick();
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
