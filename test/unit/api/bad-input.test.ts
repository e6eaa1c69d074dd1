/**
 * Bad input at the library level, table-driven: every case must fail fast with the right error class
 * and one clear line naming the problem (the CLI's refusals are in test/cli/:
 * commands.test.ts and refusals.test.ts). Every test has a timeout, so a hang fails instead of blocking.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ArgumentError,
  DataError,
  DropoutMLP,
  Generator,
  NumericError,
  ShapeError,
  F,
  crossEntropy,
  d2l,
  dropout,
  dropoutLayer,
  nn,
  tensor,
  zeros,
  type Tensor,
} from '../../../src/index.js';
import { encodeIdx, parseIdx } from '../../../src/data/idx.js';
import { saveCheckpoint, loadCheckpoint } from '../../../src/node/checkpointFiles.js';
import type { TrainingCheckpoint } from '../../../src/train/checkpoint.js';
import type { Batch } from '../../../src/data/dataModule.js';

const T = { timeout: 20_000 };
type ErrorClass = typeof ArgumentError | typeof ShapeError | typeof DataError | typeof NumericError;

/** The error is of `cls`, its message is one line and matches every pattern. */
function clear(cls: ErrorClass, ...patterns: RegExp[]): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.doesNotMatch(e.message, /\n/, 'one line');
    for (const p of patterns) assert.match(e.message, p);
    return true;
  };
}

const x = (): Tensor => tensor([[1, 2, 3, 4]]);

describe('dropout p outside [0, 1] or not a number', T, () => {
  const fns: [string, (p: number) => unknown][] = [
    ['dropout', (p) => dropout(x(), p, { training: true })],
    ['F.dropout (eval mode too)', (p) => F.dropout(x(), p, { training: false })],
    ['nn.Dropout', (p) => new nn.Dropout(p)],
    ['dropoutLayer', (p) => dropoutLayer(x(), p)],
    ['DropoutMLP dropout1', (p) => new DropoutMLP({ dropout1: p })],
  ];
  for (const [name, fn] of fns) {
    for (const p of [-0.1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      test(`${name}(p = ${p})`, () =>
        assert.throws(
          () => fn(p),
          clear(ArgumentError, /must be a number in \[0, 1\]/, new RegExp(`got ${p}`)),
        ));
    }
  }
});

describe('mismatched shapes name both shapes', T, () => {
  const cases: [string, () => unknown, RegExp[]][] = [
    [
      'add',
      () =>
        tensor([[1, 2, 3]]).add(
          tensor([
            [1, 2],
            [3, 4],
          ]),
        ),
      [/\[1, 3\]/, /\[2, 2\]/],
    ],
    [
      'matmul',
      () =>
        tensor([[1, 2, 3]]).matmul(
          tensor([
            [1, 2],
            [3, 4],
          ]),
        ),
      [/\[1, 3\]/, /\[2, 2\]/],
    ],
    [
      'F.linear',
      () =>
        F.linear(
          tensor([[1, 2, 3]]),
          tensor([
            [1, 2],
            [3, 4],
          ]),
        ),
      [/\[1, 3\]/, /\[2, 2\]/],
    ],
    ['nn.Linear', () => new nn.Linear(3, 2).forward(tensor([[1, 2]])), [/Linear\(3, 2\)/, /\[1, 2\]/]],
    ['crossEntropy N', () => crossEntropy(zeros([2, 10]), zeros([3])), [/\[2, 10\]/, /\[3\]/]],
    ['crossEntropy 1-D logits', () => crossEntropy(zeros([10]), zeros([1])), [/\[10\]/, /\[1\]/]],
    ['reshape', () => tensor([1, 2, 3]).reshape([2, 2]), [/\[3\]/, /\[2, 2\]/]],
  ];
  for (const [name, fn, patterns] of cases)
    test(name, () => assert.throws(fn, clear(ShapeError, ...patterns)));
});

describe('crossEntropy labels that are not class indices', T, () => {
  for (const label of [10, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    test(`label ${label}`, () =>
      assert.throws(
        () => crossEntropy(zeros([2, 10]), tensor([1, label])),
        clear(ArgumentError, new RegExp(`label ${label} is not a class index in 0…9`)),
      ));
  }
});

/** A DataModule over float32 arrays, so tests can feed NaN, Infinity or nothing at all. */
class ArrayData extends d2l.DataModule {
  readonly batchSize = 4;
  constructor(
    private readonly X: Float32Array,
    private readonly y: Float32Array,
  ) {
    super();
  }
  get numTrain(): number {
    return this.y.length;
  }
  get numVal(): number {
    return this.y.length;
  }
  *getDataloader(_train = true): IterableIterator<Batch> {
    for (let s = 0; s < this.y.length; s += this.batchSize) {
      const b = Math.min(this.batchSize, this.y.length - s);
      yield {
        X: tensor(this.X.slice(s * 784, (s + b) * 784), { shape: [b, 784] }),
        y: tensor(this.y.slice(s, s + b), { shape: [b] }),
      };
    }
  }
}

describe('training on bad data', T, () => {
  const model = (): DropoutMLP =>
    new DropoutMLP({ numHiddens1: 8, numHiddens2: 8, generator: new Generator(1) });
  const poisoned = (value: number): ArrayData => {
    const X = new Float32Array(12 * 784).fill(0.5);
    X[5 * 784 + 17] = value; // second batch, sample 1
    return new ArrayData(X, new Float32Array(12).fill(3));
  };
  for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    test(`an input of ${value} is a NumericError naming epoch and step`, async () =>
      assert.rejects(
        new d2l.Trainer({ maxEpochs: 1 }).fit(model(), poisoned(value)),
        clear(NumericError, /training batch at epoch 1, step 2 contains/, new RegExp(String(value))),
      ));
  }
  test('an empty training set is an ArgumentError', async () => {
    const empty = new ArrayData(new Float32Array(4 * 784), new Float32Array(4));
    empty.getDataloader = function* (train: boolean) {
      if (!train) yield { X: zeros([1, 784]), y: zeros([1]) };
    };
    await assert.rejects(
      new d2l.Trainer({ maxEpochs: 1 }).fit(model(), empty),
      clear(ArgumentError, /no batches/),
    );
  });
  test('lr 1e6 is a NumericError naming epoch and step', async () => {
    let seed = 5;
    const byte = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 24;
    const images = Uint8Array.from({ length: 256 * 784 }, byte);
    const labels = Uint8Array.from({ length: 256 }, (_, i) => i % 10);
    const data = new d2l.FashionMNIST(
      { trainImages: images, trainLabels: labels, testImages: images, testLabels: labels },
      { batchSize: 32, valLimit: 64, generator: new Generator(1) },
    );
    await assert.rejects(
      new d2l.Trainer({ maxEpochs: 3 }).fit(
        new DropoutMLP({ numHiddens1: 32, numHiddens2: 32, lr: 1e6, generator: new Generator(2) }),
        data,
      ),
      clear(NumericError, /epoch \d+, step \d+/, /lower the learning rate/),
    );
  });
  test('empty tensors: crossEntropy over 0 rows', () =>
    assert.throws(
      () => crossEntropy(zeros([0, 10]), zeros([0])),
      (e: unknown) => {
        assert.ok(e instanceof ArgumentError);
        assert.match(e.message, /batch is empty.*\[0, 10\]/);
        return true;
      },
    ));
});

describe('truncated, corrupt and mismatched IDX bytes (parseIdx)', T, () => {
  const labels = encodeIdx([6], Uint8Array.of(0, 1, 2, 3, 4, 5));
  const images = encodeIdx([2, 2, 2], new Uint8Array(8));
  const cases: [string, Uint8Array, RegExp][] = [
    ['3 bytes', labels.subarray(0, 3), /truncated/],
    ['truncated header', images.subarray(0, 9), /truncated.*header/],
    ['truncated data', labels.subarray(0, labels.length - 2), /truncated.*need 6 data bytes but only 4/],
    ['trailing bytes', Uint8Array.from([...labels, 9]), /1 trailing bytes/],
    ['not IDX (a PNG)', Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 13, 10), /not an IDX file/],
    ['int32 dtype', Uint8Array.of(0, 0, 0x0c, 1, 0, 0, 0, 1, 0, 0, 0, 0), /int32.*only uint8/],
    ['2^31-element header', Uint8Array.of(0, 0, 8, 1, 0x80, 0, 0, 0), /limit; its header is corrupt/],
  ];
  for (const [name, bytes, pattern] of cases) {
    test(name, () =>
      assert.throws(() => parseIdx(bytes, 'f-idx1-ubyte'), clear(DataError, /^f-idx1-ubyte /, pattern)),
    );
  }
});

// ---------------------------------------------------------------------------------------------------
// Writing under hostile conditions.

function ckpt(n: number): TrainingCheckpoint {
  return {
    modelClass: 'Fake',
    config: {},
    epoch: n,
    stepInEpoch: 0,
    optimizer: { name: 'SGD', lr: 0.1, momentum: 0, weightDecay: 0, maxNorm: null },
    generators: { model: { seed: 0, offset: 0 }, data: null },
    data: { batchSize: 1, numTrain: 1, numVal: 1, position: 0 },
    metrics: { epochs: [], board: [] },
    params: { w: { shape: [n], data: new Float32Array(n).fill(1) } },
    momentum: {},
  };
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test(
  'a full disk (RLIMIT_FSIZE 64 KiB) fails the save with one DataError and keeps the old checkpoint',
  T,
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dropout-lab-full-'));
    const path = join(dir, 'run.dlck');
    await saveCheckpoint(path, ckpt(16));
    const before = await readFile(path);
    const module = pathToFileURL(
      join(import.meta.dirname, '..', '..', '..', 'src', 'node', 'checkpointFiles.ts'),
    ).href;
    // Node ignores SIGXFSZ, so a write past the limit fails with EFBIG as on a full disk.
    const script =
      `import { saveCheckpoint } from ${JSON.stringify(module)};` +
      `const w = { shape: [1 << 20], data: new Float32Array(1 << 20) };` +
      `try { await saveCheckpoint(${JSON.stringify(path)}, { ...JSON.parse(process.argv[1]), params: { w } }); console.log('saved'); }` +
      `catch (e) { console.log(e.name + ': ' + e.message); }`;
    const { params: _p, ...rest } = ckpt(1);
    const r = await run('sh', [
      '-c',
      `ulimit -f 64 && exec "$0" --import tsx --input-type=module -e "$1" "$2"`,
      process.execPath,
      script,
      JSON.stringify(rest),
    ]);
    assert.match(
      r.stdout.trim(),
      /^DataError: cannot write checkpoint .*run\.dlck \(EFBIG: file too large.*the previous checkpoint is kept/,
      r.stderr,
    );
    assert.deepEqual(await readFile(path), before);
    assert.equal((await loadCheckpoint(path)).epoch, 16);
    assert.deepEqual(await readdir(dir), ['run.dlck'], 'no temp file left behind');
    await rm(dir, { recursive: true, force: true });
  },
);

test('an unwritable checkpoint directory is one DataError', T, async () =>
  assert.rejects(
    saveCheckpoint('/proc/dropout-lab/run.dlck', ckpt(1)),
    clear(DataError, /cannot write checkpoint \/proc\/dropout-lab\/run\.dlck/),
  ),
);
