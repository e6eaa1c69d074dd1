/**
 * Interrupt-safe training: a run stopped mid-epoch (AbortSignal in the library, Ctrl-C/SIGTERM in the
 * CLI) saves a version-2 checkpoint of that exact step, and resuming it is bit-identical to a run that
 * was never interrupted; version-1 files still load; crafted checkpoints (epoch beyond the run,
 * non-finite weights, inconsistent positions) are refused with one line.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ArgumentError,
  DataError,
  DropoutMLP,
  Generator,
  InterruptedError,
  d2l,
  manualSeed,
  optim,
  type DropoutMLPConfig,
} from '../../../src/index.js';
import { checkpointDir, loadCheckpoint } from '../../../src/node/checkpointFiles.js';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  sha256Hex,
  type TrainingCheckpoint,
} from '../../../src/train/checkpoint.js';
import type { EpochMetrics } from '../../../src/train/trainer.js';
import { synthetic } from '../../helpers/syntheticFashion.js';

/** 150 training examples in batches of 32: 5 steps per epoch, the last one partial (22). */
function dataModule(seed: number): d2l.FashionMNIST {
  return new d2l.FashionMNIST(synthetic(150, 48, 1), { batchSize: 32, generator: new Generator(seed) });
}

class MomentumDropoutMLP extends DropoutMLP {
  override configureOptimizers(): optim.SGD {
    return new optim.SGD(this.parameters(), { lr: this.lr, momentum: 0.9, weightDecay: 1e-4 });
  }
}

const config = (extra: Partial<DropoutMLPConfig> = {}): DropoutMLPConfig => ({
  numHiddens1: 16,
  numHiddens2: 16,
  lr: 0.05,
  // p ≠ 0.5 so that p and 1 − p are told apart.
  dropout1: 0.3,
  dropout2: 0.6,
  ...extra,
});

const withoutTiming = (epochs: readonly EpochMetrics[]): unknown[] =>
  epochs.map(({ epochSeconds: _a, samplesPerSecond: _b, ...rest }) => rest);

/** A model built as a fresh process would build it from the seed (global generator, as the CLI). */
function fresh(): MomentumDropoutMLP {
  manualSeed(7);
  return new MomentumDropoutMLP(config());
}

/** Trains with an abort at (epoch, step); resolves with the InterruptedError. */
async function interruptedAt(
  dir: string,
  epoch: number,
  step: number,
  resumeFrom?: TrainingCheckpoint,
): Promise<InterruptedError> {
  const controller = new AbortController();
  const trainer = new d2l.Trainer({
    maxEpochs: 3,
    checkpointEvery: 1,
    checkpointer: checkpointDir(dir, 'run'),
    resumeFrom,
    signal: controller.signal,
    onStep: (info) => {
      if (info.epoch === epoch && info.step === step) controller.abort('SIGTERM');
    },
  });
  manualSeed(999); // what a new process's global generator holds before the resume restores it
  const model = fresh();
  try {
    await trainer.fit(model, dataModule(11));
  } catch (e) {
    assert.ok(e instanceof InterruptedError, String(e));
    return e;
  } finally {
    for (const p of model.parameters()) p.dispose();
  }
  throw new Error('the run was not interrupted');
}

describe('Ctrl-C mid-epoch: checkpoint of that step, bit-identical resume', () => {
  for (const [epoch, step] of [
    [1, 1],
    [2, 3],
    [3, 4],
  ] as const) {
    test(`interrupted at epoch ${epoch}, step ${step} of 5`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'dropout-lab-int-'));
      const a = fresh();
      const straight = await new d2l.Trainer({ maxEpochs: 3 }).fit(a, dataModule(11));

      const e = await interruptedAt(dir, epoch, step);
      assert.equal(e.signal, 'SIGTERM');
      assert.equal(e.exitCode, 143);
      assert.equal(e.checkpointSaved, true);
      const ckpt = await loadCheckpoint(join(dir, 'run.dlck'));
      assert.equal(ckpt.epoch, epoch - 1);
      assert.equal(ckpt.stepInEpoch, step);
      assert.equal(ckpt.data.position, step * 32);
      assert.ok(ckpt.partial !== undefined);

      const c = fresh();
      manualSeed(12345);
      const resumed = await new d2l.Trainer({ maxEpochs: 3, resumeFrom: ckpt }).fit(c, dataModule(11));
      assert.deepEqual(c.stateDict(), a.stateDict());
      assert.deepEqual(withoutTiming(resumed.epochs), withoutTiming(straight.epochs));
      assert.deepEqual(resumed.board.points, straight.board.points);
      await rm(dir, { recursive: true, force: true });
    });
  }

  test('interrupted twice (the resumed run is interrupted again) still ends bit-identical', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dropout-lab-int-'));
    const a = fresh();
    const straight = await new d2l.Trainer({ maxEpochs: 3 }).fit(a, dataModule(11));
    await interruptedAt(dir, 1, 2);
    await interruptedAt(dir, 2, 4, await loadCheckpoint(join(dir, 'run.dlck')));
    const ckpt = await loadCheckpoint(join(dir, 'run.dlck'));
    assert.deepEqual([ckpt.epoch, ckpt.stepInEpoch], [1, 4]);
    const c = fresh();
    const resumed = await new d2l.Trainer({ maxEpochs: 3, resumeFrom: ckpt }).fit(c, dataModule(11));
    assert.deepEqual(c.stateDict(), a.stateDict());
    assert.deepEqual(withoutTiming(resumed.epochs), withoutTiming(straight.epochs));
    assert.deepEqual(resumed.board.points, straight.board.points);
    await rm(dir, { recursive: true, force: true });
  });

  test('an abort without a checkpointer stops too, and says nothing was saved', async () => {
    const controller = new AbortController();
    const trainer = new d2l.Trainer({
      maxEpochs: 3,
      signal: controller.signal,
      onStep: (i) => {
        if (i.step === 2) controller.abort('SIGINT');
      },
    });
    await assert.rejects(
      trainer.fit(fresh(), dataModule(11)),
      (e: unknown) => e instanceof InterruptedError && e.exitCode === 130 && !e.checkpointSaved,
    );
  });
});

/** A mid-epoch checkpoint of the synthetic run, to craft variants of. */
async function midEpochCheckpoint(): Promise<TrainingCheckpoint> {
  const dir = await mkdtemp(join(tmpdir(), 'dropout-lab-int-'));
  await interruptedAt(dir, 2, 2);
  const ckpt = await loadCheckpoint(join(dir, 'run.dlck'));
  await rm(dir, { recursive: true, force: true });
  return ckpt;
}

/** Re-encodes `bytes` with the header rewritten by `edit` and the version field set to `version`. */
function rewriteHeader(
  bytes: Uint8Array,
  version: number,
  edit: (h: Record<string, unknown>) => void,
): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(48, 48 + len))) as Record<
    string,
    unknown
  >;
  edit(header);
  let json = JSON.stringify(header);
  json += ' '.repeat((4 - (new TextEncoder().encode(json).length % 4)) % 4);
  const h = new TextEncoder().encode(json);
  const payload = bytes.subarray(48 + len);
  const out = new Uint8Array(48 + h.length + payload.length);
  out.set(bytes.subarray(0, 8));
  const ov = new DataView(out.buffer);
  ov.setUint32(8, version, true);
  ov.setUint32(12, h.length, true);
  const sum = sha256Hex(h);
  for (let i = 0; i < 32; i++) out[16 + i] = parseInt(sum.slice(2 * i, 2 * i + 2), 16);
  out.set(h, 48);
  out.set(payload, 48 + h.length);
  return out;
}

describe('checkpoint versions and crafted-but-checksummed files', () => {
  test('version 2 is written; a version 1 file (epoch boundary) still loads and resumes', async () => {
    const sink: TrainingCheckpoint[] = [];
    await new d2l.Trainer({
      maxEpochs: 1,
      checkpointEvery: 1,
      checkpointer: { save: (c) => void sink.push(c) },
    }).fit(fresh(), dataModule(11));
    const bytes = encodeCheckpoint(sink[0]!);
    assert.equal(new DataView(bytes.buffer).getUint32(8, true), 2);
    const v1 = rewriteHeader(bytes, 1, (h) => {
      h['version'] = 1;
    });
    const ckpt = decodeCheckpoint(v1, 'v1.dlck');
    assert.equal(ckpt.epoch, 1);
    const resumed = await new d2l.Trainer({ maxEpochs: 2, resumeFrom: ckpt }).fit(fresh(), dataModule(11));
    assert.equal(resumed.epochs.length, 2);
  });

  test('a version 1 file claiming a mid-epoch position is refused', async () => {
    const bytes = encodeCheckpoint(await midEpochCheckpoint());
    const v1 = rewriteHeader(bytes, 1, (h) => {
      h['version'] = 1;
    });
    assert.throws(
      () => decodeCheckpoint(v1, 'x.dlck'),
      (e: unknown) => e instanceof DataError && /version 1/.test(e.message),
    );
  });

  test('non-finite weights are refused with one line', async () => {
    const ckpt = await midEpochCheckpoint();
    const name = Object.keys(ckpt.params)[0]!;
    const data = Float32Array.from(ckpt.params[name]!.data);
    data[5] = Number.NaN;
    const bad = encodeCheckpoint({
      ...ckpt,
      params: { ...ckpt.params, [name]: { ...ckpt.params[name]!, data } },
    });
    assert.throws(
      () => decodeCheckpoint(bad, 'nan.dlck'),
      (e: unknown) =>
        e instanceof DataError && /non-finite value \(NaN\)/.test(e.message) && !e.message.includes('\n'),
    );
  });

  const crafted: [string, (c: TrainingCheckpoint) => TrainingCheckpoint, RegExp][] = [
    [
      'epoch beyond the run',
      (c) => ({ ...c, epoch: 7, stepInEpoch: 0, partial: undefined }),
      /beyond this run's 3 epochs; resume it with 7 or more epochs/,
    ],
    ['a step past the epoch', (c) => ({ ...c, stepInEpoch: 9 }), /step 9 of an epoch of 5 steps/],
    [
      'a position that disagrees with the step',
      (c) => ({ ...c, data: { ...c.data, position: 3 } }),
      /data position 3/,
    ],
    ['metrics of more epochs than the epoch', (c) => ({ ...c, epoch: 0 }), /holds metrics of 1 epochs/],
  ];
  for (const [label, edit, pattern] of crafted) {
    test(`${label} is refused with one line`, async () => {
      const ckpt = decodeCheckpoint(encodeCheckpoint(edit(await midEpochCheckpoint())));
      await assert.rejects(
        new d2l.Trainer({ maxEpochs: 3, resumeFrom: ckpt }).fit(fresh(), dataModule(11)),
        (e: unknown) => e instanceof ArgumentError && pattern.test(e.message) && !e.message.includes('\n'),
      );
    });
  }
});

/** AdamW through the Trainer's option, as a run picks it (the model's own optimiser is SGD). */
const adamW = (m: d2l.Module): optim.AdamW =>
  new optim.AdamW(m.parameters(), { lr: 0.01, weightDecay: 0.05 });

/** Warm-up over the first 4 of 15 steps, then cosine to 0.001: the rate changes every step. */
const cosine = { name: 'warmup-cosine', warmupSteps: 4, minLr: 0.001 } as const;
const withAdamW = { configureOptimizers: adamW, lrSchedule: cosine };

describe('AdamW + warm-up/cosine: interrupted mid-epoch, resumed bit for bit', () => {
  for (const [epoch, step] of [
    [1, 2],
    [2, 4],
  ] as const) {
    test(`interrupted at epoch ${epoch}, step ${step} of 5 (inside the warm-up, then in the cosine)`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'dropout-lab-int-'));
      try {
        const a = fresh();
        const straight = await new d2l.Trainer({ maxEpochs: 3, ...withAdamW }).fit(a, dataModule(11));

        const controller = new AbortController();
        manualSeed(999);
        const b = fresh();
        await assert.rejects(
          new d2l.Trainer({
            maxEpochs: 3,
            ...withAdamW,
            checkpointEvery: 1,
            checkpointer: checkpointDir(dir, 'run'),
            signal: controller.signal,
            onStep: (info) => {
              if (info.epoch === epoch && info.step === step) controller.abort('SIGINT');
            },
          }).fit(b, dataModule(11)),
          InterruptedError,
        );
        const bytes = new Uint8Array(await readFile(join(dir, 'run.dlck')));
        assert.equal(
          new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true),
          3,
          'AdamW needs version 3',
        );
        const ckpt = await loadCheckpoint(join(dir, 'run.dlck'));
        const taken = (epoch - 1) * 5 + step;
        assert.equal(ckpt.optimizer.name, 'AdamW');
        assert.equal(ckpt.adamw?.step, taken);
        assert.equal(ckpt.lrSchedule?.step, taken);
        assert.deepEqual(Object.keys(ckpt.adamw.expAvg), Object.keys(ckpt.params));
        assert.deepEqual(ckpt.momentum, {});

        const c = fresh();
        manualSeed(12345);
        const resumed = await new d2l.Trainer({ maxEpochs: 3, ...withAdamW, resumeFrom: ckpt }).fit(
          c,
          dataModule(11),
        );
        assert.deepEqual(c.stateDict(), a.stateDict());
        assert.deepEqual(withoutTiming(resumed.epochs), withoutTiming(straight.epochs));
        assert.deepEqual(resumed.board.points, straight.board.points);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  test('the schedule moves the rate: the run differs from one at a constant rate', async () => {
    const a = fresh();
    await new d2l.Trainer({ maxEpochs: 1, ...withAdamW }).fit(a, dataModule(11));
    const b = fresh();
    await new d2l.Trainer({ maxEpochs: 1 }).fit(b, dataModule(11));
    assert.notDeepEqual(a.stateDict(), b.stateDict());
  });

  test("one optimiser's checkpoint is refused for the other, and another schedule too, with one line", async () => {
    const sink: TrainingCheckpoint[] = [];
    const save = { save: (c: TrainingCheckpoint) => void sink.push(c) };
    await new d2l.Trainer({ maxEpochs: 1, checkpointEvery: 1, checkpointer: save }).fit(
      fresh(),
      dataModule(11),
    );
    await new d2l.Trainer({ maxEpochs: 1, checkpointEvery: 1, checkpointer: save, ...withAdamW }).fit(
      fresh(),
      dataModule(11),
    );
    const [sgd, adamw] = sink.map((c) => decodeCheckpoint(encodeCheckpoint(c)));
    const refused = (re: RegExp) => (e: unknown) =>
      e instanceof ArgumentError && re.test(e.message) && !e.message.includes('\n');
    await assert.rejects(
      new d2l.Trainer({ maxEpochs: 3, ...withAdamW, resumeFrom: sgd }).fit(fresh(), dataModule(11)),
      refused(/trained with SGD but this run uses AdamW/),
    );
    await assert.rejects(
      new d2l.Trainer({ maxEpochs: 3, resumeFrom: adamw }).fit(fresh(), dataModule(11)),
      refused(/trained with AdamW but this run uses SGD/),
    );
    // A cosine spans the run: training longer would follow another curve.
    await assert.rejects(
      new d2l.Trainer({ maxEpochs: 3, ...withAdamW, resumeFrom: adamw }).fit(fresh(), dataModule(11)),
      refused(/warm-up \+ cosine over 5 steps .* this run's warm-up \+ cosine over 15 steps/),
    );
    await assert.rejects(
      new d2l.Trainer({ maxEpochs: 1, configureOptimizers: adamW, resumeFrom: adamw }).fit(
        fresh(),
        dataModule(11),
      ),
      refused(/follows warm-up \+ cosine .* this run's a constant learning rate/),
    );
  });

  test('version 3 round-trips AdamW moments and the schedule; a schedule in a version 2 header is refused', async () => {
    const sink: TrainingCheckpoint[] = [];
    await new d2l.Trainer({
      maxEpochs: 1,
      ...withAdamW,
      checkpointEvery: 1,
      checkpointer: { save: (c) => void sink.push(c) },
    }).fit(fresh(), dataModule(11));
    const bytes = encodeCheckpoint(sink[0]!);
    const back = decodeCheckpoint(bytes);
    assert.deepEqual(back.adamw, sink[0]!.adamw);
    assert.deepEqual(back.lrSchedule, {
      name: 'warmup-cosine',
      warmupSteps: 4,
      totalSteps: 5,
      minLr: 0.001,
      step: 5,
    });
    assert.deepEqual(back.optimizer, {
      name: 'AdamW',
      lr: 0.01,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0.05,
    });
    assert.throws(
      () =>
        decodeCheckpoint(
          rewriteHeader(bytes, 2, (h) => void (h['version'] = 2)),
          'v2.dlck',
        ),
      (e: unknown) => e instanceof DataError && /expected "SGD"/.test(e.message),
    );
  });
});
