/**
 * Training checkpoints: a versioned single-file format (a JSON header plus a float32 payload of the
 * weights and SGD momentum buffers) with everything needed to resume a run bit for bit: epoch, the
 * model's and the data shuffle's generator states, the optimiser's hyperparameters and the metrics so
 * far. Browser-safe (bytes in, bytes out, SHA-256 in plain TypeScript); the Node file I/O lives in
 * src/node/checkpointFiles.ts.
 *
 * Layout (all integers little-endian):
 *
 *   offset 0   8 bytes   magic "DLABCKPT"
 *   offset 8   uint32    format version (2; version 1 files, always at epoch boundaries, still load)
 *   offset 12  uint32    H, header length in bytes (a multiple of 4, at most MAX_CHECKPOINT_HEADER_BYTES)
 *   offset 16  32 bytes  SHA-256 of the header bytes
 *   offset 48  H bytes   header: UTF-8 JSON, padded with spaces to a multiple of 4
 *   offset 48+H          payload: float32 values, exactly header.payload.bytes bytes, then end of file
 *
 * Decoding trusts nothing: every size is checked against the bytes present before anything is
 * allocated, and every problem is one DataError line.
 */
import type { GeneratorState } from '../random/generator.js';
import { ArgumentError, DataError, formatShape } from '../errors.js';
import type { StateDict } from '../nn/module.js';
import type { BoardMetric, BoardPoint } from './progressBoard.js';
import type { EpochMetrics } from './trainer.js';

/** The `format` field of every checkpoint header. */
export const CHECKPOINT_FORMAT = 'dropout-lab-checkpoint';
/** The format version this code writes (it reads this one and every older one). */
export const CHECKPOINT_VERSION = 2;
/** Versions this code reads: 1 (epoch boundaries only) and 2 (adds mid-epoch checkpoints). */
const READABLE_VERSIONS: readonly number[] = [1, 2];
/** The first 8 bytes of every checkpoint file. */
export const CHECKPOINT_MAGIC = 'DLABCKPT';
/** Largest header accepted (16 MiB): a corrupt length field must not become a huge allocation. */
export const MAX_CHECKPOINT_HEADER_BYTES = 16 * 2 ** 20;
/** Largest payload accepted (1 GiB, 2^28 float32 values). */
export const MAX_CHECKPOINT_PAYLOAD_BYTES = 2 ** 30;

const PREAMBLE_BYTES = 48;
const BOARD_METRICS: readonly BoardMetric[] = ['train_loss', 'val_loss', 'val_acc'];
const FIX = 'delete it or resume from another checkpoint';

/** A JSON-safe hyperparameter value. */
export type ConfigValue = number | string | boolean | null;

/** Hyperparameters of the optimiser (SGD). */
export interface OptimizerHparams {
  readonly name: 'SGD';
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly maxNorm: number | null;
}

/** Where the data order stands and what it depends on. */
export interface DataPosition {
  readonly batchSize: number;
  readonly numTrain: number;
  readonly numVal: number;
  /** Training examples already consumed in the current epoch (0 at an epoch boundary). */
  readonly position: number;
}

/**
 * The running sums of an epoch interrupted after some steps (version 2), so the resumed epoch reports
 * the same train_loss as an uninterrupted one: the half-epoch board accumulator, the epoch's, and
 * the seconds spent so far.
 */
export interface PartialEpoch {
  readonly sum: number;
  readonly count: number;
  readonly epochSum: number;
  readonly epochCount: number;
  readonly seconds: number;
}

/** Everything a run needs to continue exactly where it stopped. */
export interface TrainingCheckpoint {
  /** The model's class name, e.g. `DropoutMLP`. */
  readonly modelClass: string;
  /** The model's hyperparameters (its `hparams`), compared on resume. */
  readonly config: Readonly<Record<string, ConfigValue>>;
  /** Epochs completed. */
  readonly epoch: number;
  /** Steps completed in the current epoch (0 at an epoch boundary; always 0 in version 1). */
  readonly stepInEpoch: number;
  /** The interrupted epoch's running sums; present exactly when stepInEpoch > 0. */
  readonly partial?: PartialEpoch | undefined;
  readonly optimizer: OptimizerHparams;
  /**
   * The model's generator (dropout masks) and the data module's shuffle generator (null if none); the
   * latter as it was when the current epoch started (before its permutation was drawn).
   */
  readonly generators: { readonly model: GeneratorState; readonly data: GeneratorState | null };
  readonly data: DataPosition;
  /** Per-epoch metrics and ProgressBoard points so far. */
  readonly metrics: { readonly epochs: readonly EpochMetrics[]; readonly board: readonly BoardPoint[] };
  /** Parameter values by dotted name (loadable with `Module.loadStateDict`). */
  readonly params: StateDict;
  /** SGD momentum buffers by parameter name (only those that exist). */
  readonly momentum: StateDict;
}

/** One entry of the header's tensor table: `length` float32 values at element `offset` of the payload. */
interface TensorEntry {
  name: string;
  role: 'param' | 'momentum';
  shape: number[];
  offset: number;
  length: number;
}

// ---------------------------------------------------------------------------------------------------
// SHA-256 (FIPS 180-4) in plain TypeScript, so the format stays browser-safe and synchronous.

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

/** SHA-256 digest of `bytes` as 64 lowercase hex digits. */
export function sha256Hex(bytes: Uint8Array): string {
  const h = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const w = new Uint32Array(64);
  const n = bytes.length;
  // Whole blocks straight from the input; the last one or two blocks carry the padding and length.
  const tailStart = n - (n % 64);
  const tail = new Uint8Array(n % 64 < 56 ? 64 : 128);
  tail.set(bytes.subarray(tailStart));
  tail[n % 64] = 0x80;
  const bits = n * 8;
  const tv = new DataView(tail.buffer);
  tv.setUint32(tail.length - 8, Math.floor(bits / 2 ** 32));
  tv.setUint32(tail.length - 4, bits >>> 0);
  const block = (src: Uint8Array, at: number): void => {
    for (let i = 0; i < 16; i++) {
      const j = at + 4 * i;
      w[i] = (src[j]! << 24) | (src[j + 1]! << 16) | (src[j + 2]! << 8) | src[j + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!;
      const b = w[i - 2]!;
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = h[0]!;
    let b = h[1]!;
    let c = h[2]!;
    let d = h[3]!;
    let e = h[4]!;
    let f = h[5]!;
    let g = h[6]!;
    let hh = h[7]!;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = h[0]! + a;
    h[1] = h[1]! + b;
    h[2] = h[2]! + c;
    h[3] = h[3]! + d;
    h[4] = h[4]! + e;
    h[5] = h[5]! + f;
    h[6] = h[6]! + g;
    h[7] = h[7]! + hh;
  };
  for (let at = 0; at < tailStart; at += 64) block(bytes, at);
  for (let at = 0; at < tail.length; at += 64) block(tail, at);
  return [...h].map((x) => x.toString(16).padStart(8, '0')).join('');
}

// ---------------------------------------------------------------------------------------------------
// Encoding.

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function float32Bytes(values: Float32Array, out: Uint8Array, at: number): void {
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset);
  for (let i = 0; i < values.length; i++) view.setFloat32(at + 4 * i, values[i]!, true);
}

/** Metric numbers may be NaN (e.g. val_acc of a model without accuracy); JSON writes those as null. */
const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Serialises a checkpoint to bytes (see the file comment for the layout). */
export function encodeCheckpoint(ckpt: TrainingCheckpoint): Uint8Array {
  const tensors: TensorEntry[] = [];
  const arrays: Float32Array[] = [];
  let offset = 0;
  const add = (role: TensorEntry['role'], dict: StateDict): void => {
    for (const [name, { shape, data }] of Object.entries(dict)) {
      const length = shape.reduce((a, b) => a * b, 1);
      if (length !== data.length) {
        throw new ArgumentError(
          `encodeCheckpoint: ${role} ${name} has shape ${formatShape(shape)} but ${data.length} values.`,
        );
      }
      tensors.push({ name, role, shape: [...shape], offset, length });
      arrays.push(data);
      offset += length;
    }
  };
  add('param', ckpt.params);
  add('momentum', ckpt.momentum);
  const payload = new Uint8Array(offset * 4);
  arrays.forEach((a, i) => float32Bytes(a, payload, tensors[i]!.offset * 4));
  const header = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    model: { className: ckpt.modelClass, config: ckpt.config },
    training: {
      epoch: ckpt.epoch,
      stepInEpoch: ckpt.stepInEpoch,
      ...(ckpt.partial === undefined ? {} : { partial: ckpt.partial }),
    },
    optimizer: ckpt.optimizer,
    generators: ckpt.generators,
    data: ckpt.data,
    metrics: {
      epochs: ckpt.metrics.epochs.map((m) => ({
        epoch: m.epoch,
        trainLoss: num(m.trainLoss),
        valLoss: num(m.valLoss),
        valAcc: num(m.valAcc),
        epochSeconds: num(m.epochSeconds),
        samplesPerSecond: num(m.samplesPerSecond),
      })),
      board: ckpt.metrics.board.map((p) => ({ metric: p.metric, epoch: p.epoch, value: num(p.value) })),
    },
    tensors,
    payload: { bytes: payload.length, sha256: sha256Hex(payload) },
  };
  let json = JSON.stringify(header);
  json += ' '.repeat((4 - (new TextEncoder().encode(json).length % 4)) % 4);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(PREAMBLE_BYTES + headerBytes.length + payload.length);
  out.set(new TextEncoder().encode(CHECKPOINT_MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, CHECKPOINT_VERSION, true);
  view.setUint32(12, headerBytes.length, true);
  out.set(hexBytes(sha256Hex(headerBytes)), 16);
  out.set(headerBytes, PREAMBLE_BYTES);
  out.set(payload, PREAMBLE_BYTES + headerBytes.length);
  return out;
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------------------------------------------
// Decoding: a tiny schema checker whose every failure is a DataError naming the field.

type Json = unknown;

class Reader {
  constructor(private readonly fail: (problem: string) => DataError) {}

  obj(v: Json, where: string): Record<string, Json> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw this.fail(`has no object at ${where}`);
    return v as Record<string, Json>;
  }

  arr(v: Json, where: string): Json[] {
    if (!Array.isArray(v)) throw this.fail(`has no array at ${where}`);
    return v;
  }

  str(v: Json, where: string): string {
    if (typeof v !== 'string') throw this.fail(`has no string at ${where}`);
    return v;
  }

  /** A finite number. */
  num(v: Json, where: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.fail(`has no finite number at ${where}`);
    return v;
  }

  /** A metric value: a number, or null standing for NaN. */
  metric(v: Json, where: string): number {
    return v === null ? Number.NaN : this.num(v, where);
  }

  /** A non-negative safe integer, at most `max`. */
  int(v: Json, where: string, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
      throw this.fail(`has ${JSON.stringify(v) ?? 'nothing'} at ${where}, expected an integer in 0…${max}`);
    }
    return v;
  }

  generator(v: Json, where: string): GeneratorState {
    const o = this.obj(v, where);
    return { seed: this.int(o.seed, `${where}.seed`), offset: this.int(o.offset, `${where}.offset`) };
  }
}

/**
 * Parses and validates checkpoint bytes; `name` (e.g. the file path) starts every error message.
 * Throws a one-line DataError for anything malformed: wrong magic or version, truncation, sizes or
 * offsets out of range, a checksum mismatch, or a header that does not match the schema.
 */
export function decodeCheckpoint(bytes: Uint8Array, name = 'checkpoint'): TrainingCheckpoint {
  const fail = (problem: string): DataError => new DataError(`${name} ${problem}. Fix: ${FIX}.`);
  if (bytes.length < PREAMBLE_BYTES) {
    throw fail(`is truncated: ${bytes.length} bytes, too short for the ${PREAMBLE_BYTES}-byte preamble`);
  }
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== CHECKPOINT_MAGIC) {
    throw fail(
      `is not a dropout-lab checkpoint: magic ${JSON.stringify(magic)}, expected "${CHECKPOINT_MAGIC}"`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (!READABLE_VERSIONS.includes(version)) {
    throw fail(
      `has format version ${version}; this dropout-lab reads versions ${READABLE_VERSIONS.join(' and ')}`,
    );
  }
  const headerLength = view.getUint32(12, true);
  if (headerLength === 0 || headerLength % 4 !== 0 || headerLength > MAX_CHECKPOINT_HEADER_BYTES) {
    throw fail(
      `claims a ${headerLength}-byte header; expected a positive multiple of 4 up to ${MAX_CHECKPOINT_HEADER_BYTES}`,
    );
  }
  const payloadStart = PREAMBLE_BYTES + headerLength;
  if (bytes.length < payloadStart) {
    throw fail(`is truncated: ${bytes.length} bytes, but its header ends at byte ${payloadStart}`);
  }
  const headerBytes = bytes.subarray(PREAMBLE_BYTES, payloadStart);
  const headerSum = toHex(bytes.subarray(16, PREAMBLE_BYTES));
  if (sha256Hex(headerBytes) !== headerSum) throw fail('fails its header checksum (SHA-256): it is corrupt');
  let parsed: Json;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch {
    throw fail('has a header that is not valid UTF-8 JSON');
  }
  const r = new Reader(fail);
  const h = r.obj(parsed, 'the header');
  if (h.format !== CHECKPOINT_FORMAT) {
    throw fail(`has format ${JSON.stringify(h.format) ?? 'nothing'}, expected "${CHECKPOINT_FORMAT}"`);
  }
  if (h.version !== version) {
    throw fail(`has header version ${JSON.stringify(h.version) ?? 'nothing'}, expected ${version}`);
  }

  const model = r.obj(h.model, 'model');
  const config: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(r.obj(model.config, 'model.config'))) {
    if (v !== null && !['number', 'string', 'boolean'].includes(typeof v)) {
      throw fail(`has a non-scalar value at model.config.${k}`);
    }
    config[k] = v as ConfigValue;
  }
  const training = r.obj(h.training, 'training');
  const opt = r.obj(h.optimizer, 'optimizer');
  if (opt.name !== 'SGD')
    throw fail(`names optimizer ${JSON.stringify(opt.name) ?? 'nothing'}, expected "SGD"`);
  const gens = r.obj(h.generators, 'generators');
  const data = r.obj(h.data, 'data');
  const metrics = r.obj(h.metrics, 'metrics');

  const epochs: EpochMetrics[] = r.arr(metrics.epochs, 'metrics.epochs').map((v, i) => {
    const m = r.obj(v, `metrics.epochs[${i}]`);
    const at = (k: string): string => `metrics.epochs[${i}].${k}`;
    return {
      epoch: r.int(m.epoch, at('epoch')),
      trainLoss: r.metric(m.trainLoss, at('trainLoss')),
      valLoss: r.metric(m.valLoss, at('valLoss')),
      valAcc: r.metric(m.valAcc, at('valAcc')),
      epochSeconds: r.metric(m.epochSeconds, at('epochSeconds')),
      samplesPerSecond: r.metric(m.samplesPerSecond, at('samplesPerSecond')),
    };
  });
  const board: BoardPoint[] = r.arr(metrics.board, 'metrics.board').map((v, i) => {
    const p = r.obj(v, `metrics.board[${i}]`);
    const metric = p.metric as BoardMetric;
    if (!BOARD_METRICS.includes(metric)) throw fail(`has an unknown metric at metrics.board[${i}]`);
    return {
      metric,
      epoch: r.num(p.epoch, `metrics.board[${i}].epoch`),
      value: r.metric(p.value, `metrics.board[${i}].value`),
    };
  });

  // The tensor table: contiguous, in range, and exactly as large as the payload.
  const payloadInfo = r.obj(h.payload, 'payload');
  const payloadBytes = r.int(payloadInfo.bytes, 'payload.bytes', MAX_CHECKPOINT_PAYLOAD_BYTES);
  const payloadSum = r.str(payloadInfo.sha256, 'payload.sha256');
  const maxElements = payloadBytes / 4;
  const entries: TensorEntry[] = [];
  const seen = new Set<string>();
  let next = 0;
  for (const [i, v] of r.arr(h.tensors, 'tensors').entries()) {
    const t = r.obj(v, `tensors[${i}]`);
    const tName = r.str(t.name, `tensors[${i}].name`);
    const role = t.role;
    if (role !== 'param' && role !== 'momentum') throw fail(`has an unknown role at tensors[${i}].role`);
    const shape = r
      .arr(t.shape, `tensors[${i}].shape`)
      .map((d, j) => r.int(d, `tensors[${i}].shape[${j}]`, maxElements));
    if (shape.length > 8) throw fail(`has a ${shape.length}-D tensor at tensors[${i}]; at most 8 dims`);
    const offset = r.int(t.offset, `tensors[${i}].offset`, maxElements);
    const length = r.int(t.length, `tensors[${i}].length`, maxElements);
    // Products of dims each ≤ 2^28 stay exact in float64 long enough to exceed the bound and stop.
    let size = 1;
    for (const d of shape) size *= d;
    if (size !== length) {
      throw fail(`has tensors[${i}] (${tName}) of shape ${formatShape(shape)} but length ${length}`);
    }
    if (offset !== next || offset + length > maxElements) {
      throw fail(
        `has tensors[${i}] (${tName}) at elements ${offset}…${offset + length}, outside the packed payload of ${maxElements}`,
      );
    }
    const key = `${role}:${tName}`;
    if (seen.has(key)) throw fail(`lists ${role} ${tName} twice`);
    seen.add(key);
    entries.push({ name: tName, role, shape, offset, length });
    next = offset + length;
  }
  if (next * 4 !== payloadBytes) {
    throw fail(`has tensors totalling ${next * 4} bytes but a payload of ${payloadBytes} bytes`);
  }
  for (const e of entries) {
    if (e.role === 'momentum' && !seen.has(`param:${e.name}`)) {
      throw fail(`has a momentum buffer for ${e.name}, which is not a parameter`);
    }
  }
  const present = bytes.length - payloadStart;
  if (present !== payloadBytes) {
    throw fail(
      present < payloadBytes
        ? `is truncated: its payload needs ${payloadBytes} bytes but only ${present} are present`
        : `has ${present - payloadBytes} trailing bytes after its ${payloadBytes}-byte payload`,
    );
  }
  const payload = bytes.subarray(payloadStart);
  if (sha256Hex(payload) !== payloadSum) throw fail('fails its payload checksum (SHA-256): it is corrupt');

  const params: StateDict = {};
  const momentum: StateDict = {};
  const pv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  for (const e of entries) {
    const values = new Float32Array(e.length);
    for (let i = 0; i < e.length; i++) values[i] = pv.getFloat32(4 * (e.offset + i), true);
    // The writer never saves NaN or Infinity (a checkpoint is a last good state): such values mean a
    // crafted or foreign file, and resuming from them would train on garbage.
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw fail(`holds a non-finite value (${values[bad]}) in ${e.role} ${e.name}[${bad}]`);
    (e.role === 'param' ? params : momentum)[e.name] = { shape: e.shape, data: values };
  }
  const stepInEpoch = r.int(training.stepInEpoch, 'training.stepInEpoch');
  let partial: PartialEpoch | undefined;
  if (version === 1 && stepInEpoch !== 0) throw fail('is a version 1 checkpoint written mid-epoch');
  if (stepInEpoch > 0) {
    const pe = r.obj(training.partial, 'training.partial');
    partial = {
      sum: r.num(pe.sum, 'training.partial.sum'),
      count: r.int(pe.count, 'training.partial.count'),
      epochSum: r.num(pe.epochSum, 'training.partial.epochSum'),
      epochCount: r.int(pe.epochCount, 'training.partial.epochCount'),
      seconds: r.num(pe.seconds, 'training.partial.seconds'),
    };
  } else if (training.partial !== undefined) {
    throw fail('has training.partial at an epoch boundary (stepInEpoch 0)');
  }
  return {
    modelClass: r.str(model.className, 'model.className'),
    config,
    epoch: r.int(training.epoch, 'training.epoch'),
    stepInEpoch,
    ...(partial === undefined ? {} : { partial }),
    optimizer: {
      name: 'SGD',
      lr: r.num(opt.lr, 'optimizer.lr'),
      momentum: r.num(opt.momentum, 'optimizer.momentum'),
      weightDecay: r.num(opt.weightDecay, 'optimizer.weightDecay'),
      maxNorm: opt.maxNorm === null ? null : r.num(opt.maxNorm, 'optimizer.maxNorm'),
    },
    generators: {
      model: r.generator(gens.model, 'generators.model'),
      data: gens.data === null ? null : r.generator(gens.data, 'generators.data'),
    },
    data: {
      batchSize: r.int(data.batchSize, 'data.batchSize'),
      numTrain: r.int(data.numTrain, 'data.numTrain'),
      numVal: r.int(data.numVal, 'data.numVal'),
      position: r.int(data.position, 'data.position'),
    },
    metrics: { epochs, board },
    params,
    momentum,
  };
}

// ---------------------------------------------------------------------------------------------------
// Compatibility: a checkpoint resumes only the run it came from.

/** What a run is, for comparing against a checkpoint before resuming it. */
export interface RunIdentity {
  readonly modelClass: string;
  readonly config: Readonly<Record<string, ConfigValue>>;
  readonly optimizer: OptimizerHparams;
  readonly data: Omit<DataPosition, 'position'>;
  /** Parameter names and shapes, in order. */
  readonly shapes: readonly (readonly [string, readonly number[]])[];
}

const describeConfig = (c: Readonly<Record<string, ConfigValue>>): string =>
  Object.entries(c)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');

/**
 * Throws a one-line ArgumentError if `ckpt` was not written by a run like `run` (another model class,
 * other hyperparameters, optimiser, batch size or data size, other parameter shapes).
 */
export function checkCompatible(ckpt: TrainingCheckpoint, run: RunIdentity, name = 'checkpoint'): void {
  const refuse = (what: string): never => {
    throw new ArgumentError(
      `${name} does not match this run: ${what}; resume with the same model and hyperparameters, or start without resuming.`,
    );
  };
  if (ckpt.modelClass !== run.modelClass) {
    refuse(`it holds a ${ckpt.modelClass} but this run trains a ${run.modelClass}`);
  }
  const keys = new Set([...Object.keys(ckpt.config), ...Object.keys(run.config)]);
  for (const k of keys) {
    if (ckpt.config[k] !== run.config[k]) {
      refuse(
        `${k} is ${String(ckpt.config[k])} in the checkpoint but ${String(run.config[k])} here ` +
          `(checkpoint: ${describeConfig(ckpt.config)})`,
      );
    }
  }
  for (const k of ['lr', 'momentum', 'weightDecay', 'maxNorm'] as const) {
    if (ckpt.optimizer[k] !== run.optimizer[k]) {
      refuse(
        `optimizer ${k} is ${String(ckpt.optimizer[k])} in the checkpoint but ${String(run.optimizer[k])} here`,
      );
    }
  }
  for (const k of ['batchSize', 'numTrain', 'numVal'] as const) {
    if (ckpt.data[k] !== run.data[k])
      refuse(`data ${k} is ${ckpt.data[k]} in the checkpoint but ${run.data[k]} here`);
  }
  const names = Object.keys(ckpt.params);
  if (names.join('\n') !== run.shapes.map(([n]) => n).join('\n')) {
    refuse(
      `its parameters are [${names.join(', ')}] but the model's are [${run.shapes.map(([n]) => n).join(', ')}]`,
    );
  }
  for (const [n, shape] of run.shapes) {
    const saved = ckpt.params[n]!.shape;
    if (formatShape(saved) !== formatShape(shape)) {
      refuse(`${n} has shape ${formatShape(saved)} in the checkpoint but ${formatShape(shape)} in the model`);
    }
  }
}
