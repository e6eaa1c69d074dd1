/**
 * The science API: MC dropout `predict` (only dropout switched on, modes and the global generator
 * restored, DropoutMLPScratch handled by its own flag), activation statistics, the experiment model
 * matching the book's DropoutMLP, canonical run ids, and the calibration statistics.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DropoutMLP,
  DropoutMLPScratch,
  Generator,
  MLP,
  d2l,
  defaultGenerator,
  manualSeed,
  nn,
  noGrad,
  rand,
  softmax,
  tensor,
  tidy,
  type Tensor,
} from '../../../src/index.js';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYSTEM_DATA_DIR } from '../../../src/node.js';
import { requires } from '../../helpers/environment.js';
import { canonicalRun, DEFAULT_EXPERIMENT, runId } from '../../../src/experiments/config.js';
import { buildModel } from '../../../src/run/models.js';
import { runPool } from '../../../src/experiments/pool.js';
import { calibration, errorRate, meanStd } from '../../../src/experiments/stats.js';

const X = (): Tensor => rand([16, 1, 28, 28], { generator: new Generator(42) });

/** Records the mode it ran in: a stand-in for any non-dropout module (batch norm, say). */
class ModeProbe extends nn.Module {
  seen: boolean[] = [];
  override forward(x: Tensor): Tensor {
    this.seen.push(this.training);
    return x;
  }
}

function initialised<M extends nn.Module>(model: M): M {
  noGrad(() => tidy(() => model.eval().forward(X())));
  return model.train();
}

describe('MC dropout predict', () => {
  test('without mcSamples: one eval pass (weight scaling), variance 0, modes restored', () => {
    manualSeed(0);
    const model = initialised(new DropoutMLP());
    const expected = noGrad(() => softmax(model.eval().forward(X())).dataSync());
    model.train();
    const r = nn.predict(model, X());
    assert.equal(r.samples, 1);
    assert.deepEqual(r.probs.dataSync(), expected);
    assert.ok(r.variance.dataSync().every((v) => v === 0));
    assert.equal(model.training, true);
    assert.ok(model.net.layers.every((l) => l.training));
  });

  test('with mcSamples: only dropout modules train; other modules stay in eval; everything restored', () => {
    const probe = new ModeProbe();
    const drop = new nn.Dropout(0.5);
    const net = new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 8), probe, drop, new nn.Linear(8, 3));
    net.eval();
    const r = nn.predict(net, X(), { mcSamples: 4 });
    assert.deepEqual(probe.seen, [false, false, false, false]);
    assert.equal(r.samples, 4);
    assert.equal(drop.training, false, 'restored to eval');
    const rows = r.probs.dataSync();
    for (let i = 0; i < 16; i++)
      assert.ok(Math.abs(rows[i * 3]! + rows[i * 3 + 1]! + rows[i * 3 + 2]! - 1) < 1e-5);
    assert.ok(
      r.variance.dataSync().some((v) => v > 0),
      'masks differ between passes',
    );
    for (const h of r.entropy.dataSync()) assert.ok(h >= 0 && h <= Math.log(3) + 1e-6);
  });

  test('reproducible with a generator, which leaves the global generator untouched', () => {
    manualSeed(1);
    const model = initialised(new DropoutMLP());
    const before = defaultGenerator.getState();
    const a = nn.predict(model, X(), { mcSamples: 3, generator: new Generator(5) }).probs.dataSync();
    const b = nn.predict(model, X(), { mcSamples: 3, generator: new Generator(5) }).probs.dataSync();
    const c = nn.predict(model, X(), { mcSamples: 3, generator: new Generator(6) }).probs.dataSync();
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.deepEqual(defaultGenerator.getState(), before);
  });

  test('DropoutMLPScratch (checks this.training itself) gives exactly the concise model’s MC prediction', () => {
    // Same seed ⇒ same initial weights; dropoutLayer draws the same masks as the fused Dropout.
    manualSeed(3);
    const scratch = initialised(new DropoutMLPScratch());
    manualSeed(3);
    const concise = initialised(new DropoutMLP());
    const s = nn.predict(scratch, X(), { mcSamples: 5, generator: new Generator(9) });
    const c = nn.predict(concise, X(), { mcSamples: 5, generator: new Generator(9) });
    const sv = s.probs.dataSync();
    const cv = c.probs.dataSync();
    for (let i = 0; i < sv.length; i++) assert.ok(Math.abs(sv[i]! - cv[i]!) < 1e-6, `element ${i}`);
    assert.notDeepEqual(sv, nn.predict(scratch, X()).probs.dataSync(), 'dropout was really on');
    assert.equal(scratch.training, true);
    assert.equal(scratch.lin1.training, true);
    assert.ok(nn.isDropoutModule(scratch) && !nn.isDropoutModule(new nn.Linear(2, 2)));
    assert.ok(nn.isDropoutModule(new nn.Linear(2, 2, { dropConnect: 0.2 })));
  });
});

describe('activation statistics', () => {
  test('hidden activations of a Sequential model equal the fused forward; stats count exact zeros', () => {
    manualSeed(4);
    const model = initialised(new MLP()).eval();
    const hs = nn.hiddenActivations(model, X());
    assert.equal(hs.length, 2);
    const stats = nn.activationStats(model, X());
    const h1 = hs[0]!.dataSync();
    assert.equal(stats[0]!.zeroFraction, h1.filter((v) => v === 0).length / h1.length);
    const m = meanStd(Array.from(h1)).mean;
    assert.ok(Math.abs(stats[0]!.mean - m) < 1e-6);
    // The last hidden layer through lin3 must give the model's logits.
    const logits = noGrad(() => model.net.layers[5]!.forward(hs[1]!).dataSync());
    const direct = noGrad(() => model.forward(X()).dataSync());
    for (let i = 0; i < direct.length; i++) assert.ok(Math.abs(logits[i]! - direct[i]!) < 1e-5);
  });

  test('scratch model, eval mode restored, and the Trainer callback records one entry per epoch', async () => {
    manualSeed(5);
    const scratch = initialised(new DropoutMLPScratch());
    assert.equal(nn.activationStats(scratch, X()).length, 2);
    assert.equal(scratch.training, true);
    const n = 64;
    const images = new Uint8Array(n * 784).map((_, i) => (i * 37) % 256);
    const labels = new Uint8Array(n).map((_, i) => i % 10);
    const data = new d2l.FashionMNIST(
      { trainImages: images, trainLabels: labels, testImages: images, testLabels: labels },
      { batchSize: 32 },
    );
    manualSeed(6);
    const model = new DropoutMLP();
    const rec = nn.activationStatsRecorder(model, X());
    await new d2l.Trainer({ maxEpochs: 2, onEpochEnd: rec.onEpochEnd }).fit(model, data);
    assert.deepEqual(
      rec.history.map((h) => h.epoch),
      [1, 2],
    );
    for (const s of rec.history[1]!.stats)
      assert.ok(s.zeroFraction >= 0 && s.zeroFraction <= 1 && s.variance >= 0);
  });
});

describe('experiment runs', () => {
  test('the registry’s experiment model is the book’s DropoutMLP (and MLP without noise) for the same seed', () => {
    for (const [config, Book] of [
      [{ ...DEFAULT_EXPERIMENT }, DropoutMLP],
      [{ ...DEFAULT_EXPERIMENT, model: 'mlp' as const }, MLP],
    ] as const) {
      manualSeed(7);
      const ours = initialised(buildModel(config));
      manualSeed(7);
      const book = initialised(new Book());
      const a = ours.parameters().map((p) => p.dataSync());
      const b = book.parameters().map((p) => p.dataSync());
      assert.deepEqual(a, b);
      manualSeed(8);
      const ya = tidy(() => ours.forward(X()).dataSync());
      manualSeed(8);
      const yb = tidy(() => book.forward(X()).dataSync());
      assert.deepEqual(ya, yb, 'same masks in training mode');
    }
  });

  test('run ids: stable, order-free, and the noise-free dropout MLP is the plain MLP', () => {
    const a = runId({ ...DEFAULT_EXPERIMENT, dropout1: 0, dropout2: 0 });
    assert.equal(a, runId({ ...DEFAULT_EXPERIMENT, model: 'mlp' }));
    assert.equal(a, runId({ ...DEFAULT_EXPERIMENT, model: 'mlp', dropout1: 0.3, trainLimit: 60_000 }));
    assert.notEqual(a, runId(DEFAULT_EXPERIMENT));
    assert.equal(canonicalRun({ ...DEFAULT_EXPERIMENT, valLimit: 10_000 }).valLimit, 0);
    assert.match(a, /^[0-9a-f]{16}$/);
  });

  test('calibration: ECE by hand on four examples; error rate', () => {
    const probs = [0.9, 0.1, 0.9, 0.1, 0.6, 0.4, 0.3, 0.7];
    const labels = [0, 1, 0, 1];
    // Bins of width 0.5: [0.5, 1) holds all four: confidence (0.9 + 0.9 + 0.6 + 0.7)/4 = 0.775, accuracy 3/4.
    const { ece, bins } = calibration(probs, labels, 2, 2);
    assert.ok(Math.abs(ece - 0.025) < 1e-12);
    assert.equal(bins[1]!.count, 4);
    assert.equal(errorRate(probs, labels, 2), 0.25);
    const s = meanStd([1, 2, 3]);
    assert.deepEqual([s.mean, s.std], [2, 1]);
    assert.ok(tensor([1]).size === 1);
  });
});

test(
  'runPool: two worker processes, one JSONL per run, finished runs skipped on restart',
  { ...requires(existsSync(SYSTEM_DATA_DIR), `${SYSTEM_DATA_DIR} is absent`), timeout: 120_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dropout-lab-pool-'));
    try {
      const tiny = { ...DEFAULT_EXPERIMENT, epochs: 1, trainLimit: 256, valLimit: 128 };
      const configs = [tiny, { ...tiny, seed: 1 }];
      const logs: string[] = [];
      const first = await runPool(configs, {
        runsDir: dir,
        dataDir: SYSTEM_DATA_DIR,
        log: (l) => logs.push(l),
      });
      assert.equal((await readdir(dir)).filter((f) => f.endsWith('.jsonl')).length, 2);
      const epoch = first[0]!.events.find((e) => e['event'] === 'epoch')!;
      for (const k of ['val_acc', 'gap_eval', 'train_acc_eval', 'activations']) assert.ok(k in epoch, k);
      const again = await runPool(configs, { runsDir: dir, log: (l) => logs.push(l) });
      assert.match(logs[1]!, /2 already finished/);
      assert.deepEqual(again, first);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
