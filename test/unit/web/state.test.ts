/**
 * The lab page's reducer (src/web/state.ts) in Node, without a browser: runs start, take their own
 * messages only, diverge, finish and hand their model to the gallery; pause, reset and removal keep
 * the rules the page had; and `reduce` never changes the state it is given.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CONFIG } from '../../../src/run/options.js';
import type { EpochMetrics } from '../../../src/train/index.js';
import type { FromWorker, GalleryItem, RunConfig } from '../../../src/web/protocol.js';
import {
  canRecompute,
  currentRun,
  ENSEMBLE_N,
  initialState,
  reduce,
  runState,
  type LabAction,
  type LabState,
} from '../../../src/web/state.js';

const config: RunConfig = { ...DEFAULT_CONFIG, epochs: 2, lr: 0.5 };

/** Folds `actions` into the initial state of an isolated page. */
function run(actions: readonly LabAction[], from: LabState = initialState(true)): LabState {
  return actions.reduce(reduce, from);
}

/** Freezes a state and everything in it, so a reducer that mutates throws. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (!ArrayBuffer.isView(value)) for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function step(runId: number, globalStep: number, points = 1): Extract<FromWorker, { type: 'step' }> {
  return {
    type: 'step',
    runId,
    epoch: 1,
    step: globalStep,
    stepsPerEpoch: 10,
    globalStep,
    loss: 0.75,
    masks: { h1: [1, 0, 1], h2: [0, 1], dropped1: 0.5, dropped2: 0.25, p1: 0.2, p2: 0.5, sites: [] },
    points: Array.from({ length: points }, (_, i) => ({
      metric: 'train_loss' as const,
      epoch: globalStep / 10 + i / 100,
      value: 1,
    })),
  };
}

const epoch = (n: number, valLoss = 0.5): EpochMetrics => ({
  epoch: n,
  trainLoss: 0.6,
  valLoss,
  valAcc: 0.8,
  epochSeconds: 1.5,
  samplesPerSecond: 1000,
});

const item: GalleryItem = {
  index: 0,
  label: 1,
  pred: 1,
  mean: [0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
  std: Array.from({ length: 10 }, () => 0),
  evalProbs: [0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
  evalPred: 1,
};

describe('lab state: reduce', () => {
  it('starts one run at a time, numbering runs from 1', () => {
    const s = run([{ type: 'ui/start', config }]);
    assert.equal(s.currentId, 1);
    assert.equal(s.phase, 'running');
    assert.equal(s.status, 'Run #1: starting…');
    assert.equal(currentRun(s)?.state, 'running');
    assert.equal(reduce(s, { type: 'ui/start', config }), s, 'a second start while one trains is ignored');
  });

  it("takes a run's messages only while it is current", () => {
    const s = run([{ type: 'ui/start', config }]);
    for (const stale of [
      step(2, 1),
      { type: 'done', runId: 2 } as const,
      { type: 'paused', runId: 7, paused: true } as const,
    ]) {
      assert.equal(reduce(s, stale), s, stale.type);
    }
    const after = run([step(1, 1, 3)], s);
    assert.equal(after.runs[0]!.points.length, 3);
    assert.equal(after.network.step, 1);
    assert.match(after.network.frame.caption, /lost 50% of hidden 1 and 25% of hidden 2 \(p = 0.2 \/ 0.5\)/);
    assert.equal(after.status, 'Run #1: epoch 1/2, step 1/10, loss 0.7500');
  });

  it('keeps the last ENSEMBLE_N thinned subnetworks, and the status still while paused', () => {
    let s = run([{ type: 'ui/start', config }, { type: 'ui/toggle-pause' }]);
    assert.equal(s.paused, true);
    assert.equal(s.status, 'Pausing after this step…');
    s = run(
      Array.from({ length: ENSEMBLE_N + 3 }, (_, i) => step(1, i + 1)),
      s,
    );
    assert.deepEqual(
      s.ensemble.map((t) => t.step),
      Array.from({ length: ENSEMBLE_N }, (_, i) => i + 4),
    );
    assert.equal(s.status, 'Pausing after this step…', 'steps do not overwrite the status while paused');
  });

  it('reports a divergence seen in an epoch once, with the learning rate to lower', () => {
    const nan = { ...step(1, 5), points: [{ metric: 'train_loss' as const, epoch: 0.5, value: Number.NaN }] };
    let s = run([
      { type: 'ui/start', config },
      nan,
      { type: 'epoch', runId: 1, metrics: epoch(1, Number.NaN) },
    ]);
    assert.match(s.banner ?? '', /^Run #1 diverged at epoch 0\.5 .*learning rate 0\.5 is too large/);
    assert.equal(runState(s.runs[0]!), 'diverged (epoch 0.5)');
    const banner = s.banner;
    s = run(
      [
        { type: 'ui/status', text: 'x' },
        { type: 'epoch', runId: 1, metrics: epoch(2) },
      ],
      s,
    );
    assert.equal(s.banner, banner);
    assert.equal(s.runs[0]!.divergenceReported, true);
  });

  it('a diverged run gets a NaN point at its last step, stops, and leaves the chart its scale', () => {
    const s = run([
      { type: 'ui/start', config },
      step(1, 4),
      { type: 'diverged', runId: 1, message: 'loss is NaN.' },
    ]);
    const r = s.runs[0]!;
    assert.equal(r.state, 'diverged');
    const last = r.points[r.points.length - 1]!;
    assert.equal(last.epoch, 0.5);
    assert.ok(Number.isNaN(last.value));
    assert.equal(s.currentId, undefined);
    assert.equal(s.phase, 'done');
    assert.equal(
      s.banner,
      'Run #1 diverged: loss is NaN. The chart keeps its scale and marks the run with ▲.',
    );
  });

  it('a finished run releases pause and hands its model to the gallery', () => {
    let s = run([{ type: 'ui/start', config }, { type: 'ui/toggle-pause' }, { type: 'done', runId: 1 }]);
    assert.equal(s.paused, false);
    assert.equal(s.modelRunId, 1);
    assert.equal(s.phase, 'done');
    assert.equal(canRecompute(s), true);
    s = reduce(s, { type: 'ui/gallery-request', ok: true });
    assert.equal(s.galleryBusy, true);
    assert.equal(canRecompute(s), false);
    assert.equal(s.status, 'Computing the MC-dropout gallery for run #1…');
    s = reduce(s, {
      type: 'gallery',
      runId: 1,
      items: [item],
      images: new Uint8Array(784),
      passes: 8,
      hasDropout: true,
    });
    assert.equal(s.galleryBusy, false);
    assert.match(s.galleryNote, /^Run #1 \(dropout-mlp p=.*T = 8 passes/);
    assert.match(
      s.galleryAccuracy ?? '',
      /On these 1 test images: weight scaling \(eval\(\)\) 100\.0% correct/,
    );
    assert.equal(s.status, 'Done.');
    const bad = reduce(s, { type: 'ui/gallery-request', ok: false });
    assert.equal(bad.galleryNote, 'Fix the gallery fields above, then press Recompute.');
    assert.equal(canRecompute(bad), false);
  });

  it('an error fails the current run and frees the gallery', () => {
    const s = run([
      { type: 'ui/start', config },
      { type: 'error', message: 'boom' },
    ]);
    assert.equal(s.runs[0]!.state, 'failed');
    assert.equal(s.currentId, undefined);
    assert.equal(s.galleryBusy, false);
    assert.equal(s.status, 'Error: boom');
    assert.equal(s.phase, 'running', 'the page data-state is left as it was, as before');
  });

  it('removes any run but the current one; reset keeps the run numbers going', () => {
    let s = run([
      { type: 'ui/start', config },
      { type: 'done', runId: 1 },
      { type: 'ui/start', config },
    ]);
    assert.equal(reduce(s, { type: 'ui/remove-run', runId: 2 }), s);
    s = reduce(s, { type: 'ui/remove-run', runId: 1 });
    assert.deepEqual(
      s.runs.map((r) => r.id),
      [2],
    );
    assert.equal(s.status, 'Run #1 removed.');
    s = run(
      [
        { type: 'ui/show-metric', metric: 'val_acc', shown: false },
        { type: 'ui/server', answer: 'no-data' },
        { type: 'ui/reset' },
      ],
      s,
    );
    assert.deepEqual(s.runs, []);
    assert.equal(s.currentId, undefined);
    assert.equal(s.startBlocked, false);
    assert.equal(s.banner, undefined);
    assert.equal(s.network.step, 0);
    assert.equal(s.shownMetrics.has('val_acc'), false, 'the metric toggles are not reset');
    assert.equal(reduce(s, { type: 'ui/start', config }).currentId, 3);
  });

  it('never changes the state it is given', () => {
    const actions: LabAction[] = [
      { type: 'ui/start', config },
      step(1, 1),
      { type: 'points', runId: 1, points: [{ metric: 'val_loss', epoch: 1, value: 0.5 }] },
      { type: 'epoch', runId: 1, metrics: epoch(1) },
      { type: 'ui/show-run', runId: 1, visible: false },
      { type: 'ui/show-metric', metric: 'train_loss', shown: false },
      { type: 'done', runId: 1 },
      { type: 'ui/remove-run', runId: 1 },
      { type: 'ui/reset' },
    ];
    let s = deepFreeze(initialState(true));
    for (const a of actions) s = deepFreeze(reduce(s, deepFreeze(a)));
    assert.equal(s.status, 'Reset.');
  });

  it('a page that is not cross-origin isolated says why pause is off', () => {
    assert.match(initialState(false).engine?.text ?? '', /not cross-origin isolated/);
    assert.equal(initialState(true).engine, undefined);
  });
});
