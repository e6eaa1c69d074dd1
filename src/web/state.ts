/**
 * The lab page's state and its one transition function: `reduce(state, action)` returns the next
 * state for a worker message (protocol.ts) or a user action, without touching the DOM, the worker
 * or the clock, so every rule of the page (which run a message belongs to, when a divergence is
 * reported, what the status line says) is testable in Node. The views (views/*.ts) draw a state;
 * main.ts wires the form, the worker and the views to `reduce`, and does the effects (posting to
 * the worker, the pause control, focus) around it.
 */
import type { BoardMetric, BoardPoint, EpochMetrics } from '../train/index.js';
import { modelEntry } from '../run/models.js';
import { divergedAt, formatValue, METRICS, RUN_COLORS } from './chart.js';
import { accuracies, type GallerySort } from './gallery.js';
import type { NetworkFrame, Thinned } from './network.js';
import type { NoiseSiteView } from './noiseSites.js';
import type { FromWorker, GalleryItem, RunConfig } from './protocol.js';

/** Thinned subnetworks kept in the ensemble strip. */
export const ENSEMBLE_N = 12;

/** One run of this page. */
export interface Run {
  readonly id: number;
  /** Index of its colour (0 … RUN_COLORS − 1). */
  readonly color: number;
  readonly config: RunConfig;
  readonly points: readonly BoardPoint[];
  readonly epochs: readonly EpochMetrics[];
  readonly visible: boolean;
  readonly state: 'running' | 'done' | 'diverged' | 'failed';
  /** The last step reported, to place a divergence on the epoch axis. */
  readonly lastStep: { epoch: number; step: number; stepsPerEpoch: number } | undefined;
  /** Set once the divergence banner has been shown for this run. */
  readonly divergenceReported: boolean;
}

/** The MC-dropout gallery last computed. */
export interface Gallery {
  readonly runId: number;
  readonly passes: number;
  readonly items: readonly GalleryItem[];
  readonly images: Uint8Array;
}

/** The network view: the last step's masks, its noise sites, and which step and run they are. */
export interface NetworkView {
  readonly frame: NetworkFrame;
  readonly sites: readonly NoiseSiteView[];
  /** The step shown (undefined before the first step or reset). */
  readonly step: number | undefined;
  readonly runId: number | undefined;
}

/** Everything the page shows that is not the form itself. */
export interface LabState {
  readonly runs: readonly Run[];
  readonly nextId: number;
  /** The run training now. */
  readonly currentId: number | undefined;
  readonly paused: boolean;
  /** The run whose model the worker holds (the gallery's model), once a run has finished. */
  readonly modelRunId: number | undefined;
  readonly galleryBusy: boolean;
  /** Whether the gallery's own fields are valid (they never block a run). */
  readonly galleryFieldsOk: boolean;
  readonly gallery: Gallery | undefined;
  readonly gallerySort: GallerySort;
  readonly galleryNote: string;
  /** The accuracy line under the gallery; hidden when undefined. */
  readonly galleryAccuracy: string | undefined;
  readonly shownMetrics: ReadonlySet<BoardMetric>;
  readonly ensemble: readonly Thinned[];
  readonly network: NetworkView;
  readonly status: string;
  readonly banner: string | undefined;
  /** The engine line; undefined leaves the page's own text. */
  readonly engine: { readonly head: string | undefined; readonly text: string } | undefined;
  /** The page's data-state: what the end-to-end tests wait on. */
  readonly phase: 'idle' | 'running' | 'done';
  /** Start is blocked until the next reset (the server has no data). */
  readonly startBlocked: boolean;
}

/** What the user (or the page's own checks) did; worker messages are the other half of an action. */
export type UiAction =
  | { readonly type: 'ui/start'; readonly config: RunConfig }
  | { readonly type: 'ui/status'; readonly text: string }
  | { readonly type: 'ui/toggle-pause' }
  | { readonly type: 'ui/reset' }
  | { readonly type: 'ui/remove-run'; readonly runId: number }
  | { readonly type: 'ui/show-run'; readonly runId: number; readonly visible: boolean }
  | { readonly type: 'ui/show-metric'; readonly metric: BoardMetric; readonly shown: boolean }
  | { readonly type: 'ui/gallery-fields'; readonly ok: boolean }
  | { readonly type: 'ui/gallery-request'; readonly ok: boolean }
  | { readonly type: 'ui/gallery-sort'; readonly sort: GallerySort }
  | { readonly type: 'ui/worker-error'; readonly message: string }
  | { readonly type: 'ui/server'; readonly answer: 'no-data' | 'down' };

/** Anything `reduce` takes. */
export type LabAction = FromWorker | UiAction;

const NO_NETWORK: NetworkFrame = { h1: [], h2: [], caption: 'start a run to see its dropout masks' };
const GALLERY_EMPTY = 'Train a model to fill the gallery.';

/** The page before anything happened; `isolated` says whether pause and slow motion work. */
export function initialState(isolated: boolean, gallerySort: GallerySort = 'uncertain'): LabState {
  return {
    runs: [],
    nextId: 1,
    currentId: undefined,
    paused: false,
    modelRunId: undefined,
    galleryBusy: false,
    galleryFieldsOk: true,
    gallery: undefined,
    gallerySort,
    galleryNote: GALLERY_EMPTY,
    galleryAccuracy: undefined,
    shownMetrics: new Set(METRICS),
    ensemble: [],
    network: { frame: NO_NETWORK, sites: [], step: undefined, runId: undefined },
    status: 'Idle.',
    banner: undefined,
    engine: isolated
      ? undefined
      : {
          head: undefined,
          text: 'This page is not cross-origin isolated, so pause and slow motion are off (open it from `dropout-lab lab`).',
        },
    phase: 'idle',
    startBlocked: false,
  };
}

/** The run training now. */
export function currentRun(s: LabState): Run | undefined {
  return s.currentId === undefined ? undefined : s.runs.find((r) => r.id === s.currentId);
}

/** Whether the gallery's Recompute button may be pressed. */
export function canRecompute(s: LabState): boolean {
  return s.galleryFieldsOk && !s.galleryBusy && s.currentId === undefined && s.modelRunId !== undefined;
}

/** The one-line description of a run's settings (chart legend, gallery note). */
export function shortLabel(c: RunConfig): string {
  const ps = !modelEntry(c.model).hasDropout ? 'no dropout' : `p=${c.dropout1}/${c.dropout2}`;
  const sgd = `${c.momentum > 0 ? `, momentum ${c.momentum}` : ''}${c.weightDecay > 0 ? `, weight decay ${c.weightDecay}` : ''}`;
  return `${c.model} ${ps}, lr ${c.lr}${sgd}, batch ${c.batchSize}, ${c.epochs} epochs, seed ${c.seed}, ${c.trainLimit}/${c.valLimit} examples`;
}

/** The state column of the table of runs. */
export function runState(r: Run): string {
  const at = divergedAt(r.points);
  if (at !== undefined) return `diverged (epoch ${at.toFixed(1)})`;
  return { running: 'training', done: 'done', diverged: 'diverged', failed: 'failed' }[r.state];
}

/** `s` with the run `id` replaced by `update(run)`. */
function updateRun(s: LabState, id: number, update: (r: Run) => Run): LabState {
  return { ...s, runs: s.runs.map((r) => (r.id === id ? update(r) : r)) };
}

/** The run stops being current (training ended, failed or diverged): pause is released. */
function stopped(s: LabState): LabState {
  return { ...s, currentId: undefined, paused: false };
}

/** The current run failed (no data, an error in the worker), if there is one. */
function failCurrent(s: LabState): LabState {
  const failed =
    s.currentId === undefined ? s : updateRun(s, s.currentId, (r) => ({ ...r, state: 'failed' }));
  return stopped(failed);
}

/** The caption under the network view for one step. */
function networkCaption(config: RunConfig, msg: Extract<FromWorker, { type: 'step' }>): string {
  const { masks, globalStep } = msg;
  if (!modelEntry(config.model).hasDropout) return `${config.model}: nothing is dropped (step ${globalStep})`;
  if (masks.p1 === 0 && masks.p2 === 0) {
    return `step ${globalStep}: no hidden unit dropped this step; every noise draw is listed below`;
  }
  return (
    `step ${globalStep}: the first image lost ${(masks.dropped1 * 100).toFixed(0)}% of hidden 1 and ` +
    `${(masks.dropped2 * 100).toFixed(0)}% of hidden 2 (p = ${masks.p1} / ${masks.p2})`
  );
}

/** Worker messages about a training run: one for a run that is no longer current is stale. */
const RUN_MESSAGES: ReadonlySet<LabAction['type']> = new Set([
  'step',
  'points',
  'epoch',
  'paused',
  'done',
  'diverged',
]);

/** The next state of the page; see the file comment. */
export function reduce(s: LabState, a: LabAction): LabState {
  const current = currentRun(s);
  // A reset or a new run may overtake the old run's last messages (the worker posts them first).
  if (RUN_MESSAGES.has(a.type) && 'runId' in a && current?.id !== a.runId) return s;
  switch (a.type) {
    case 'status':
    case 'ui/status':
      return { ...s, status: a.text };
    case 'ready':
      return {
        ...s,
        engine: {
          head: `${a.backend}, in a Web Worker`,
          text: `Engine: ${a.backend}, in a Web Worker. ${a.numTrain} train / ${a.numVal} validation examples.`,
        },
        status: `Run #${a.runId}: training…`,
      };
    case 'step': {
      const run = current!;
      const c = run.config;
      const next = updateRun(s, run.id, (r) => ({
        ...r,
        lastStep: { epoch: a.epoch, step: a.step, stepsPerEpoch: a.stepsPerEpoch },
        points: a.points.length > 0 ? [...r.points, ...a.points] : r.points,
      }));
      const thinned = modelEntry(c.model).hasDropout && a.masks.h1.length > 0;
      return {
        ...next,
        network: {
          frame: { h1: a.masks.h1, h2: a.masks.h2, caption: networkCaption(c, a) },
          sites: a.masks.sites,
          step: a.globalStep,
          runId: a.runId,
        },
        ensemble: thinned
          ? [...s.ensemble, { step: a.globalStep, h1: a.masks.h1, h2: a.masks.h2 }].slice(-ENSEMBLE_N)
          : s.ensemble,
        status: s.paused
          ? s.status
          : `Run #${a.runId}: epoch ${a.epoch}/${c.epochs}, step ${a.step}/${a.stepsPerEpoch}, loss ${formatValue(a.loss)}`,
      };
    }
    case 'points':
      return updateRun(s, a.runId, (r) => ({ ...r, points: [...r.points, ...a.points] }));
    case 'epoch': {
      const run = { ...current!, epochs: [...current!.epochs, a.metrics] };
      const at = divergedAt(run.points);
      const report = at !== undefined && !run.divergenceReported;
      const next = updateRun(s, run.id, () => ({
        ...run,
        divergenceReported: run.divergenceReported || report,
      }));
      if (!report) return next;
      return {
        ...next,
        banner:
          `Run #${run.id} diverged at epoch ${at.toFixed(1)} (val_loss ${formatValue(a.metrics.valLoss)}): ` +
          `the learning rate ${run.config.lr} is too large. The chart keeps its scale and marks the run with ▲.`,
      };
    }
    case 'paused':
      return { ...s, status: a.paused ? `Run #${a.runId}: paused.` : `Run #${a.runId}: resumed.` };
    case 'done': {
      const next = updateRun(s, a.runId, (r) => ({ ...r, state: 'done' }));
      return {
        ...stopped(next),
        status: `Run #${a.runId} finished. Computing the MC-dropout gallery…`,
        modelRunId: a.runId,
        phase: 'done',
      };
    }
    case 'diverged': {
      const run = current!;
      // The Trainer stops at the first non-finite loss: mark that step on the top edge of the chart.
      const st = run.lastStep ?? { epoch: 1, step: 0, stepsPerEpoch: 1 };
      const epoch = Math.min(st.epoch - 1 + (st.step + 1) / st.stepsPerEpoch, run.config.epochs);
      const next = updateRun(s, run.id, (r) => ({
        ...r,
        points: [...r.points, { metric: 'train_loss', epoch, value: Number.NaN }],
        state: 'diverged',
        divergenceReported: true,
      }));
      return {
        ...stopped(next),
        banner: `Run #${run.id} diverged: ${a.message} The chart keeps its scale and marks the run with ▲.`,
        status: `Run #${run.id} diverged (learning rate ${run.config.lr}); lower it and start again.`,
        phase: 'done',
      };
    }
    case 'gallery': {
      const run = s.runs.find((r) => r.id === a.runId);
      const which = `Run #${a.runId}${run === undefined ? '' : ` (${shortLabel(run.config)})`}`;
      const acc = accuracies(a.items);
      return {
        ...s,
        galleryBusy: false,
        gallery: { runId: a.runId, passes: a.passes, items: a.items, images: a.images },
        galleryNote: a.hasDropout
          ? `${which}. Each card: the MC prediction, its mean probability over T = ${a.passes} passes with dropout on, the black error bar ± one standard deviation, and the eval() (weight scaling) probability of the same class. Red frames are MC mistakes. Choose a card for all 10 classes.`
          : `${which}: the plain MLP has no dropout, so its T = ${a.passes} passes agree exactly (spread 0) and equal eval(). Train a dropout model to see MC-dropout uncertainty.`,
        galleryAccuracy:
          `On these ${a.items.length} test images: weight scaling (eval()) ${(acc.evalAcc * 100).toFixed(1)}% correct, ` +
          `MC average of ${a.passes} passes ${(acc.mcAcc * 100).toFixed(1)}% correct.`,
        status: s.currentId === undefined ? 'Done.' : s.status,
      };
    }
    case 'data-missing':
      return { ...failCurrent(s), banner: `Data missing: ${a.message}`, status: 'No data.' };
    case 'error':
      return { ...failCurrent(s), status: `Error: ${a.message}`, galleryBusy: false };
    case 'ui/worker-error':
      return { ...failCurrent(s), status: `Worker error: ${a.message}`, galleryBusy: false };
    case 'ui/start': {
      if (s.currentId !== undefined) return s;
      const id = s.nextId;
      const run: Run = {
        id,
        color: (id - 1) % RUN_COLORS,
        config: a.config,
        points: [],
        epochs: [],
        visible: true,
        state: 'running',
        divergenceReported: false,
        lastStep: undefined,
      };
      return {
        ...s,
        runs: [...s.runs, run],
        nextId: id + 1,
        currentId: id,
        ensemble: [],
        phase: 'running',
        status: `Run #${id}: starting…`,
      };
    }
    case 'ui/toggle-pause': {
      const paused = !s.paused;
      return { ...s, paused, status: paused ? 'Pausing after this step…' : s.status };
    }
    case 'ui/reset':
      return {
        ...initialState(true, s.gallerySort),
        nextId: s.nextId,
        galleryFieldsOk: s.galleryFieldsOk,
        shownMetrics: s.shownMetrics,
        engine: s.engine,
        network: { ...initialState(true).network, step: 0, runId: s.network.runId },
        status: 'Reset.',
      };
    case 'ui/remove-run':
      if (a.runId === s.currentId) return s;
      return { ...s, runs: s.runs.filter((r) => r.id !== a.runId), status: `Run #${a.runId} removed.` };
    case 'ui/show-run':
      return updateRun(s, a.runId, (r) => ({ ...r, visible: a.visible }));
    case 'ui/show-metric': {
      const shownMetrics = new Set(s.shownMetrics);
      if (a.shown) shownMetrics.add(a.metric);
      else shownMetrics.delete(a.metric);
      return { ...s, shownMetrics };
    }
    case 'ui/gallery-fields':
      return { ...s, galleryFieldsOk: a.ok };
    case 'ui/gallery-request':
      if (!a.ok) {
        return {
          ...s,
          galleryFieldsOk: false,
          galleryNote: 'Fix the gallery fields above, then press Recompute.',
        };
      }
      return {
        ...s,
        galleryFieldsOk: true,
        galleryBusy: true,
        status: `Computing the MC-dropout gallery for run #${s.modelRunId ?? '?'}…`,
      };
    case 'ui/gallery-sort':
      return { ...s, gallerySort: a.sort };
    case 'ui/server':
      return a.answer === 'down'
        ? { ...s, banner: 'The lab server does not answer; start it with `dropout-lab lab`.' }
        : {
            ...s,
            startBlocked: true,
            banner:
              'Data missing: the lab server has no Fashion-MNIST files (/data/* answers 404). Restart it with ' +
              '`dropout-lab lab --data-dir DIR` (a folder with the four files, raw or .gz), set $DROPOUT_LAB_DATA, ' +
              "or install Debian's dataset-fashion-mnist.",
          };
  }
}
