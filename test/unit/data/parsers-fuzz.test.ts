/**
 * Fuzzing the two parsers of untrusted bytes, parseIdx and the checkpoint loader, with fast-check
 * (fixed seed, so a failure reproduces): arbitrary bytes and mutated valid files (bit flips,
 * truncations, header edits) must give a DataError, never another exception, never a crash, and
 * never an allocation larger than the input (headers claiming 2^31 elements are refused first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DataError } from '../../../src/index.js';
import { encodeIdx, parseIdx } from '../../../src/data/idx.js';
import { loadCheckpoint } from '../../../src/node/checkpointFiles.js';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  sha256Hex,
  type TrainingCheckpoint,
} from '../../../src/train/checkpoint.js';

const SEED = 20240601;
const RUNS = {
  idxBytes: 1000,
  idxHeaders: 500,
  idxMutated: 500,
  ckptBytes: 500,
  ckptMutated: 800,
  ckptHeader: 1000,
  ckptFiles: 50,
};
const TOTAL = Object.values(RUNS).reduce((a, b) => a + b, 0);

/** Runs `parse`; a DataError or a result are fine, anything else fails the property. */
function dataErrorOrResult<R>(parse: () => R): R | DataError {
  try {
    return parse();
  } catch (e) {
    if (e instanceof DataError) {
      assert.doesNotMatch(e.message, /\n/);
      return e;
    }
    throw e;
  }
}

// ---- IDX ----

const validIdx = [
  encodeIdx(
    [3, 2, 2],
    Uint8Array.from({ length: 12 }, (_, i) => i),
  ),
  encodeIdx([5], Uint8Array.of(1, 2, 3, 4, 5)),
];

function checkIdx(bytes: Uint8Array): void {
  const r = dataErrorOrResult(() => parseIdx(bytes, 'fuzz-idx'));
  if (!(r instanceof DataError)) assert.ok(r.data.length <= bytes.length, 'never more data than bytes given');
}

/** Bit flips, truncations, extensions and overwritten header words of a valid file. */
function mutated(valid: readonly Uint8Array[], headerBytes: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc
      .tuple(fc.constantFrom(...valid), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }))
      .map(([v, bits]) => {
        const out = v.slice();
        for (const b of bits) out[(b >> 3) % out.length] ^= 1 << (b & 7);
        return out;
      }),
    fc.tuple(fc.constantFrom(...valid), fc.nat()).map(([v, n]) => v.slice(0, n % v.length)),
    fc
      .tuple(fc.constantFrom(...valid), fc.uint8Array({ minLength: 1, maxLength: 16 }))
      .map(([v, extra]) => Uint8Array.from([...v, ...extra])),
    fc
      .tuple(
        fc.constantFrom(...valid),
        fc.nat({ max: headerBytes - 4 }),
        fc.constantFrom(0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 16, 7),
      )
      .map(([v, at, word]) => {
        const out = v.slice();
        new DataView(out.buffer).setUint32(at % (out.length - 3), word, at % 2 === 0);
        return out;
      }),
  );
}

test(`fuzz parseIdx: ${RUNS.idxBytes} arbitrary byte strings give a result or a DataError`, () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), checkIdx), { seed: SEED, numRuns: RUNS.idxBytes });
});

test(`fuzz parseIdx: ${RUNS.idxHeaders} well-formed headers with random dims (up to 2^32 − 1) and short data`, () => {
  const header = fc.tuple(
    fc.constantFrom(1, 3),
    fc.array(fc.oneof(fc.nat(), fc.constantFrom(2 ** 31, 2 ** 32 - 1, 0)), { minLength: 3, maxLength: 3 }),
    fc.uint8Array({ maxLength: 32 }),
  );
  fc.assert(
    fc.property(header, ([ndim, dims, data]) => {
      const bytes = new Uint8Array(4 + 4 * ndim + data.length);
      const view = new DataView(bytes.buffer);
      view.setUint32(0, 0x0800 | ndim);
      for (let i = 0; i < ndim; i++) view.setUint32(4 + 4 * i, dims[i]! >>> 0);
      bytes.set(data, 4 + 4 * ndim);
      checkIdx(bytes);
    }),
    { seed: SEED, numRuns: RUNS.idxHeaders },
  );
});

test(`fuzz parseIdx: ${RUNS.idxMutated} mutated valid files (bit flips, truncations, header edits)`, () => {
  fc.assert(fc.property(mutated(validIdx, 16), checkIdx), { seed: SEED, numRuns: RUNS.idxMutated });
});

// ---- checkpoints ----

const checkpoint: TrainingCheckpoint = {
  modelClass: 'DropoutMLP',
  config: { numHiddens1: 4, dropout1: 0.5 },
  epoch: 2,
  stepInEpoch: 0,
  optimizer: { name: 'SGD', lr: 0.1, momentum: 0.9, weightDecay: 0, maxNorm: null },
  generators: { model: { seed: 1, offset: 77 }, data: { seed: 2, offset: 99 } },
  data: { batchSize: 4, numTrain: 16, numVal: 8, position: 0 },
  metrics: {
    epochs: [
      { epoch: 1, trainLoss: 2.1, valLoss: 2, valAcc: 0.25, epochSeconds: 0.1, samplesPerSecond: 160 },
    ],
    board: [{ metric: 'val_acc', epoch: 1, value: 0.25 }],
  },
  params: {
    'net.1.weight': { shape: [4, 3], data: Float32Array.from({ length: 12 }, (_, i) => i / 7) },
    'net.1.bias': { shape: [4], data: new Float32Array(4) },
  },
  momentum: { 'net.1.weight': { shape: [4, 3], data: new Float32Array(12).fill(0.5) } },
};
const validCkpt = encodeCheckpoint(checkpoint);
const headerLength = new DataView(validCkpt.buffer).getUint32(12, true);
const header = JSON.parse(new TextDecoder().decode(validCkpt.subarray(48, 48 + headerLength))) as unknown;

/** Re-encodes a (possibly edited) header with a correct length and header checksum, so the schema checks run. */
function withHeader(h: unknown, payload: Uint8Array): Uint8Array {
  let json = JSON.stringify(h) ?? 'null';
  json += ' '.repeat((4 - (new TextEncoder().encode(json).length % 4)) % 4);
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(48 + hb.length + payload.length);
  out.set(validCkpt.subarray(0, 12));
  new DataView(out.buffer).setUint32(12, hb.length, true);
  out.set(
    Uint8Array.from(
      sha256Hex(hb)
        .match(/../g)!
        .map((x) => parseInt(x, 16)),
    ),
    16,
  );
  out.set(hb, 48);
  out.set(payload, 48 + hb.length);
  return out;
}

/** Every path to a value inside a JSON value. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}
const headerPaths = paths(header).filter((p) => p.length > 0);

function edited(path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(header) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
  return copy;
}

function checkCkpt(bytes: Uint8Array): void {
  dataErrorOrResult(() => decodeCheckpoint(bytes, 'fuzz.dlck'));
}

test('the fuzz seed checkpoint itself decodes', () => {
  assert.deepEqual(decodeCheckpoint(validCkpt), checkpoint);
});

test(`fuzz decodeCheckpoint: ${RUNS.ckptBytes} arbitrary byte strings (half with a valid magic and version)`, () => {
  const prefixed = fc
    .tuple(
      fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map(([hi, lo]) => hi * 65536 + lo),
      fc.uint8Array({ maxLength: 200 }),
    )
    .map(([len, rest]) => {
      const out = new Uint8Array(16 + rest.length);
      out.set(validCkpt.subarray(0, 12));
      new DataView(out.buffer).setUint32(12, len, true);
      out.set(rest, 16);
      return out;
    });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), prefixed), (bytes) =>
      assert.ok(decodeOrError(bytes) instanceof DataError),
    ),
    {
      seed: SEED,
      numRuns: RUNS.ckptBytes,
    },
  );
});

function decodeOrError(bytes: Uint8Array): unknown {
  return dataErrorOrResult(() => decodeCheckpoint(bytes, 'fuzz.dlck'));
}

test(`fuzz decodeCheckpoint: ${RUNS.ckptMutated} bit flips, truncations and overwritten words are all caught`, () => {
  // Checksums cover every byte, so every mutation must be refused, not just survived.
  const changed = (bytes: Uint8Array): boolean =>
    bytes.length !== validCkpt.length || bytes.some((b, i) => b !== validCkpt[i]);
  fc.assert(
    fc.property(mutated([validCkpt], validCkpt.length).filter(changed), (bytes) =>
      assert.ok(decodeOrError(bytes) instanceof DataError),
    ),
    {
      seed: SEED,
      numRuns: RUNS.ckptMutated,
    },
  );
});

test(`fuzz decodeCheckpoint: ${RUNS.ckptHeader} header edits with a recomputed checksum reach the schema checks`, () => {
  const hostile = fc.oneof(
    fc.jsonValue(),
    fc.constantFrom(
      2 ** 31,
      2 ** 32,
      2 ** 53,
      -1,
      1e308,
      0.5,
      -0,
      null,
      '',
      [],
      {},
      [2 ** 31, 2 ** 31],
      'param',
      'momentum',
    ),
  );
  const pathArb = fc.constantFrom(...headerPaths);
  const payload = validCkpt.subarray(48 + headerLength);
  fc.assert(
    fc.property(pathArb, hostile, fc.boolean(), (path, value, truncate) => {
      const bytes = withHeader(edited(path, value), truncate ? payload.subarray(1) : payload);
      // Bounded work, not time: decoding a hostile header must not allocate beyond the file's size
      // (a loop would hang the test, which the runner's timeout turns into a failure).
      const before = process.memoryUsage().arrayBuffers;
      checkCkpt(bytes);
      const grown = process.memoryUsage().arrayBuffers - before;
      assert.ok(grown < 64 * 2 ** 20, `no huge allocation (grew ${grown} bytes)`);
    }),
    { seed: SEED, numRuns: RUNS.ckptHeader },
  );
});

test('a header claiming 2^31 elements is refused before allocating', () => {
  const h = structuredClone(header) as {
    tensors: { shape: number[]; length: number }[];
    payload: { bytes: number };
  };
  h.tensors[0]!.shape = [2 ** 16, 2 ** 15];
  h.tensors[0]!.length = 2 ** 31;
  h.payload.bytes = 2 ** 33;
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(
    () => decodeCheckpoint(withHeader(h, new Uint8Array(16))),
    (e: unknown) => e instanceof DataError && /payload\.bytes/.test(e.message),
  );
  h.payload.bytes = 2 ** 30;
  assert.throws(
    () => decodeCheckpoint(withHeader(h, new Uint8Array(16))),
    (e: unknown) => e instanceof DataError,
  );
  assert.ok(process.memoryUsage().arrayBuffers - before < 2 ** 24, 'no large buffer was allocated');
});

test(`fuzz loadCheckpoint: ${RUNS.ckptFiles} mutated files on disk give a DataError (total ${TOTAL} fuzz runs)`, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dropout-lab-fuzz-'));
  const path = join(dir, 'f.dlck');
  await fc.assert(
    fc.asyncProperty(mutated([validCkpt], validCkpt.length), async (bytes) => {
      await writeFile(path, bytes);
      if (bytes.length === validCkpt.length && bytes.every((b, i) => b === validCkpt[i])) return;
      await assert.rejects(loadCheckpoint(path), (e: unknown) => e instanceof DataError);
    }),
    { seed: SEED, numRuns: RUNS.ckptFiles },
  );
  await rm(dir, { recursive: true, force: true });
});
