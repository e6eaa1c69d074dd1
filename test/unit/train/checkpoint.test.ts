/**
 * Checkpoints: the format round-trips, a resumed run is bit-identical to an uninterrupted one, a
 * checkpoint of another model or config is refused, divergence leaves the last good checkpoint
 * intact, and SIGKILL during saves never leaves a torn or missing checkpoint.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ArgumentError,
  DataError,
  DropoutMLP,
  DropoutMLPScratch,
  Generator,
  MLP,
  NumericError,
  d2l,
  manualSeed,
  optim,
  type DropoutMLPConfig,
} from '../../../src/index.js';
import {
  checkpointDir,
  loadCheckpoint,
  removeStaleTemps,
  saveCheckpoint,
} from '../../../src/node/checkpointFiles.js';
import { cliCheckpointOptions, loadResumeCheckpoints } from '../../../src/cli/resume.js';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  sha256Hex,
  type TrainingCheckpoint,
} from '../../../src/train/checkpoint.js';
import type { Checkpointer, EpochMetrics } from '../../../src/train/trainer.js';
import { synthetic } from '../../helpers/syntheticFashion.js';

function dataModule(seed: number, batchSize = 32, numTrain = 160): d2l.FashionMNIST {
  return new d2l.FashionMNIST(synthetic(numTrain, 48, 1), { batchSize, generator: new Generator(seed) });
}

/** DropoutMLP trained with momentum, so the SGD buffers must round-trip too. */
class MomentumDropoutMLP extends DropoutMLP {
  override configureOptimizers(): optim.SGD {
    return new optim.SGD(this.parameters(), { lr: this.lr, momentum: 0.9, weightDecay: 1e-4 });
  }
}

const config = (generator?: Generator, extra: Partial<DropoutMLPConfig> = {}): DropoutMLPConfig => ({
  numHiddens1: 16,
  numHiddens2: 16,
  lr: 0.05,
  ...(generator ? { generator } : {}),
  ...extra,
});

/** Keeps checkpoints in memory, encoded and decoded as they would be on disk. */
function memoryCheckpointer(): Checkpointer & { saved: TrainingCheckpoint[] } {
  const saved: TrainingCheckpoint[] = [];
  return { saved, save: (c) => void saved.push(decodeCheckpoint(encodeCheckpoint(c))) };
}

const withoutTiming = (epochs: readonly EpochMetrics[]): unknown[] =>
  epochs.map(({ epochSeconds: _a, samplesPerSecond: _b, ...rest }) => rest);

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'dropout-lab-ckpt-'));
}

test('sha256Hex agrees with node:crypto across block boundaries', () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 70001]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255);
    assert.equal(sha256Hex(bytes), createHash('sha256').update(bytes).digest('hex'), `length ${n}`);
  }
});

test('save/load round-trips a checkpoint exactly, and its params load with loadStateDict', async () => {
  const dir = await tempDir();
  const sink = checkpointDir(dir, 'run');
  const model = new MomentumDropoutMLP(config(new Generator(3)));
  const trainer = new d2l.Trainer({
    maxEpochs: 1,
    checkpointEvery: 1,
    checkpointer: sink,
    generator: new Generator(3),
  });
  await trainer.fit(model, dataModule(5));
  const ckpt = await loadCheckpoint(sink.path);
  assert.equal(ckpt.modelClass, 'MomentumDropoutMLP');
  assert.equal(ckpt.epoch, 1);
  assert.equal(ckpt.config.numHiddens1, 16);
  assert.deepEqual(Object.keys(ckpt.momentum), Object.keys(ckpt.params));
  assert.deepEqual(decodeCheckpoint(encodeCheckpoint(ckpt)), ckpt);
  const copy = new MomentumDropoutMLP(config(new Generator(99)));
  copy.forward(dataModule(5).valDataloader()[Symbol.iterator]().next().value!.X); // materialise lazy layers
  copy.loadStateDict(ckpt.params);
  assert.deepEqual(copy.stateDict(), model.stateDict());
  const header = (await readFile(sink.path)).subarray(48, 48 + 200).toString();
  assert.match(header, /^\{"format":"dropout-lab-checkpoint","version":2/);
  await rm(dir, { recursive: true, force: true });
});

describe('a resumed run is bit-identical to an uninterrupted one (4 epochs vs 2 + resume 2)', () => {
  type Make = (g?: Generator) => d2l.Classifier & { stateDict(): unknown };
  const cases: [string, Make, boolean][] = [
    ['DropoutMLP + momentum, explicit generators', (g) => new MomentumDropoutMLP(config(g)), true],
    ['DropoutMLPScratch, explicit generators', (g) => new DropoutMLPScratch(config(g)), true],
    ['DropoutMLP on the global generator (the CLI path)', () => new DropoutMLP(config()), false],
  ];
  for (const [label, make, explicit] of cases) {
    test(label, async () => {
      const dir = await tempDir();
      // Each "process" builds every object from scratch from the seed.
      const fresh = (): { model: d2l.Classifier & { stateDict(): unknown }; gen: Generator | undefined } => {
        manualSeed(7);
        const gen = explicit ? new Generator(7) : undefined;
        return { model: make(gen), gen };
      };
      const a = fresh();
      const straight = await new d2l.Trainer({ maxEpochs: 4, generator: a.gen }).fit(a.model, dataModule(11));

      const b = fresh();
      const sink = checkpointDir(dir, 'run');
      await new d2l.Trainer({ maxEpochs: 2, checkpointEvery: 2, checkpointer: sink, generator: b.gen }).fit(
        b.model,
        dataModule(11),
      );
      manualSeed(12345); // the global generator moves on in between, as in another process
      const c = fresh();
      const resumed = await new d2l.Trainer({
        maxEpochs: 4,
        resumeFrom: await loadCheckpoint(sink.path),
        generator: c.gen,
      }).fit(c.model, dataModule(11));

      assert.deepEqual(c.model.stateDict(), a.model.stateDict());
      assert.deepEqual(withoutTiming(resumed.epochs), withoutTiming(straight.epochs));
      assert.deepEqual(resumed.board.points, straight.board.points);
      await rm(dir, { recursive: true, force: true });
    });
  }
});

describe('a checkpoint of another model or config is refused', () => {
  const saved = async (): Promise<TrainingCheckpoint> => {
    const sink = memoryCheckpointer();
    await new d2l.Trainer({ maxEpochs: 1, checkpointEvery: 1, checkpointer: sink }).fit(
      new DropoutMLP(config(new Generator(1))),
      dataModule(1),
    );
    return sink.saved[0]!;
  };
  const cases: [string, () => d2l.Classifier, () => d2l.FashionMNIST, RegExp][] = [
    [
      'an mlp run',
      () => new MLP(config(new Generator(1))),
      () => dataModule(1),
      /holds a DropoutMLP but this run trains a MLP/,
    ],
    [
      'other numHiddens1',
      () => new DropoutMLP(config(new Generator(1), { numHiddens1: 8 })),
      () => dataModule(1),
      /numHiddens1 is 16 in the checkpoint but 8 here/,
    ],
    [
      'other dropout1',
      () => new DropoutMLP(config(new Generator(1), { dropout1: 0.2 })),
      () => dataModule(1),
      /dropout1 is 0.5 in the checkpoint but 0.2 here/,
    ],
    [
      'another batch size',
      () => new DropoutMLP(config(new Generator(1))),
      () => dataModule(1, 16),
      /batchSize is 32/,
    ],
    [
      'another train size',
      () => new DropoutMLP(config(new Generator(1))),
      () => dataModule(1, 32, 96),
      /numTrain is 160/,
    ],
  ];
  for (const [label, model, data, pattern] of cases) {
    test(label, async () => {
      const ckpt = await saved();
      await assert.rejects(
        new d2l.Trainer({ maxEpochs: 2, resumeFrom: ckpt }).fit(model(), data()),
        (e: unknown) => e instanceof ArgumentError && pattern.test(e.message) && !e.message.includes('\n'),
      );
    });
  }
});

describe('divergence leaves the last good checkpoint intact', () => {
  test('a lr 1e6 run writing into the same directory throws NumericError and changes nothing', async () => {
    const dir = await tempDir();
    const sink = checkpointDir(dir, 'run');
    await new d2l.Trainer({ maxEpochs: 2, checkpointEvery: 1, checkpointer: sink }).fit(
      new DropoutMLP(config(new Generator(2))),
      dataModule(2),
    );
    const before = await readFile(sink.path);
    await assert.rejects(
      new d2l.Trainer({ maxEpochs: 3, checkpointEvery: 1, checkpointer: sink }).fit(
        new DropoutMLP(config(new Generator(2), { lr: 1e6 })),
        dataModule(2),
      ),
      (e: unknown) => e instanceof NumericError && /epoch 1, step \d+/.test(e.message),
    );
    assert.deepEqual(await readFile(sink.path), before);
    assert.equal((await loadCheckpoint(sink.path)).epoch, 2);
    assert.deepEqual(await readdir(dir), ['run.dlck']);
    await rm(dir, { recursive: true, force: true });
  });

  test('a NaN weight in epoch 3 throws NumericError; the epoch-2 checkpoint still loads', async () => {
    const dir = await tempDir();
    const sink = checkpointDir(dir, 'run');
    const data = dataModule(3);
    const model = new DropoutMLP(config(new Generator(3)));
    let epoch = 0;
    const trainLoader = data.trainDataloader.bind(data);
    // Poison the output bias when epoch 3 starts, after the epoch-2 checkpoint was written.
    data.trainDataloader = function* () {
      if (++epoch === 3) {
        const bias = model.parameters().at(-1)!;
        bias.backend.fill(bias.id, bias.size, Number.NaN);
      }
      yield* trainLoader();
    };
    await assert.rejects(
      new d2l.Trainer({ maxEpochs: 4, checkpointEvery: 1, checkpointer: sink }).fit(model, data),
      (e: unknown) => e instanceof NumericError && /epoch 3, step 1/.test(e.message),
    );
    assert.equal((await loadCheckpoint(sink.path)).epoch, 2);
    await rm(dir, { recursive: true, force: true });
  });
});

test('CLI options: --resume reads <dir>/checkpoints/<model>.dlck; --checkpoint-every needs a place', async () => {
  const out = await tempDir();
  await assert.rejects(
    cliCheckpointOptions({ checkpointEvery: 1 }, 'mlp', undefined),
    /needs somewhere to write/,
  );
  await assert.rejects(
    loadResumeCheckpoints({ resume: out }, ['mlp'], () => {}),
    /holds no checkpoint for mlp/,
  );
  await assert.rejects(
    loadResumeCheckpoints({ resume: join(out, 'nope') }, ['mlp'], () => {}),
    /is not a directory/,
  );
  const opts = await cliCheckpointOptions({ checkpointEvery: 2 }, 'mlp', out);
  await new d2l.Trainer({ maxEpochs: 1, ...opts }).fit(new MLP(config(new Generator(1))), dataModule(1));
  const notes: string[] = [];
  const found = await loadResumeCheckpoints({ resume: out }, ['dropout-mlp', 'mlp'], (l) => notes.push(l));
  assert.match(notes.join('\n'), /no checkpoint for dropout-mlp .* starts from scratch/);
  const resumed = await cliCheckpointOptions(
    { resume: out, checkpointEvery: 1 },
    'mlp',
    undefined,
    found.get('mlp'),
  );
  assert.equal(resumed.resumeFrom?.epoch, 1);
  assert.equal(resumed.checkpointEvery, 1);
  await rm(out, { recursive: true, force: true });
});

test('stale temp files of dead writers are removed on the next save; live ones are kept', async () => {
  const dir = await tempDir();
  const path = join(dir, 'run.dlck');
  const dead = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['-e', '0']);
    child.on('exit', () => resolve(child.pid!));
  });
  await writeFile(join(dir, `.run.dlck.${dead}.abcdef.tmp`), 'partial');
  await writeFile(join(dir, `.run.dlck.${process.pid}.abcdef.tmp`), 'in flight');
  assert.deepEqual(await removeStaleTemps(path), [`.run.dlck.${dead}.abcdef.tmp`]);
  assert.deepEqual((await readdir(dir)).sort(), [`.run.dlck.${process.pid}.abcdef.tmp`]);
  await rm(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------
// Kill during save.

const TRIALS = 24;
const LANES = 4;
const CHECKPOINTING = pathToFileURL(
  join(import.meta.dirname, '..', '..', '..', 'src', 'node', 'checkpointFiles.ts'),
).href;

/** Version v of the fake run: its values are a function of v, so a torn mix of versions is detectable. */
function version(v: number): TrainingCheckpoint {
  const values = (n: number, k: number): Float32Array =>
    Float32Array.from({ length: n }, (_, i) => v * 1000 + k + i);
  return {
    modelClass: 'Fake',
    config: { v },
    epoch: v,
    stepInEpoch: 0,
    optimizer: { name: 'SGD', lr: 0.1, momentum: 0.9, weightDecay: 0, maxNorm: null },
    generators: { model: { seed: 1, offset: v }, data: { seed: 2, offset: 3 * v } },
    data: { batchSize: 32, numTrain: 160, numVal: 48, position: 0 },
    metrics: { epochs: [], board: [] },
    params: { w: { shape: [300, 256], data: values(300 * 256, 1) } },
    momentum: { w: { shape: [300, 256], data: values(300 * 256, 2) } },
  };
}

// The child re-creates `version` (same formula) and saves versions 1, 2, 3, … as fast as it can.
const CHILD = `
import { saveCheckpoint } from ${JSON.stringify(CHECKPOINTING)};
const path = process.argv[1];
const values = (v, n, k) => Float32Array.from({ length: n }, (_, i) => v * 1000 + k + i);
process.stdout.write('ready\\n');
for (let v = 1; ; v++) {
  await saveCheckpoint(path, {
    modelClass: 'Fake', config: { v }, epoch: v, stepInEpoch: 0,
    optimizer: { name: 'SGD', lr: 0.1, momentum: 0.9, weightDecay: 0, maxNorm: null },
    generators: { model: { seed: 1, offset: v }, data: { seed: 2, offset: 3 * v } },
    data: { batchSize: 32, numTrain: 160, numVal: 48, position: 0 },
    metrics: { epochs: [], board: [] },
    params: { w: { shape: [300, 256], data: values(v, 300 * 256, 1) } },
    momentum: { w: { shape: [300, 256], data: values(v, 300 * 256, 2) } },
  });
}
`;

/** Numerical Recipes' LCG: a seeded sequence of delays, reproducible run to run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test(
  `SIGKILL during saves (${TRIALS} trials, seeded delays): the checkpoint always loads whole`,
  { timeout: 120_000 },
  async (t) => {
    const random = lcg(20240601);
    const delays = Array.from({ length: TRIALS }, () => Math.floor(random() * 250));
    let survived = 0;
    let killedMidWrite = 0;
    const lane = async (laneIndex: number): Promise<void> => {
      const dir = await tempDir();
      const path = join(dir, 'run.dlck');
      await saveCheckpoint(path, version(0));
      for (let trial = laneIndex; trial < TRIALS; trial += LANES) {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, path], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
        await new Promise<void>((resolve, reject) => {
          child.stdout.once('data', () => resolve());
          child.on('exit', () => reject(new Error(`child exited before saving: ${stderr}`)));
        });
        await new Promise((resolve) => setTimeout(resolve, delays[trial]!));
        child.kill('SIGKILL');
        await exited;
        const entries = await readdir(dir);
        const temps = entries.filter((e) => e.endsWith('.tmp'));
        assert.ok(temps.length <= 1, `trial ${trial}: temp files accumulate: ${temps.join(', ')}`);
        if (temps.length === 1) killedMidWrite++;
        const ckpt = await loadCheckpoint(path);
        assert.deepEqual(
          ckpt,
          version(ckpt.epoch),
          `trial ${trial}: version ${ckpt.epoch} is not as written`,
        );
        survived++;
      }
      await saveCheckpoint(path, version(0));
      assert.deepEqual(await readdir(dir), ['run.dlck'], 'the next save removes stale temps');
      await rm(dir, { recursive: true, force: true });
    };
    await Promise.all(Array.from({ length: LANES }, (_, i) => lane(i)));
    assert.equal(survived, TRIALS);
    t.diagnostic(
      `${survived}/${TRIALS} kills survived; ${killedMidWrite} left a temp file (killed mid-write)`,
    );
  },
);

test('loadCheckpoint on a missing file or a directory is a DataError', async () => {
  await assert.rejects(
    loadCheckpoint('/nonexistent/run.dlck'),
    (e: unknown) => e instanceof DataError && /cannot be read/.test(e.message),
  );
  await assert.rejects(
    loadCheckpoint(tmpdir()),
    (e: unknown) => e instanceof DataError && /not a regular file/.test(e.message),
  );
});
