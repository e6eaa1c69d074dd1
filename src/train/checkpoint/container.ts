/**
 * The checkpoint container: a versioned single-file format (a JSON header plus a float32 payload of
 * the weights and the optimiser's buffers: SGD momentum, or AdamW's two moments). Bytes in, bytes out; the header's fields are schema.ts's, the
 * Node file I/O is src/cli/checkpointing.ts's.
 *
 * Layout (all integers little-endian):
 *
 *   offset 0   8 bytes   magic "DLABCKPT"
 *   offset 8   uint32    format version: 3 for AdamW or a learning-rate schedule, else 2 (so older
 *                        readers still read plain SGD runs); version 1 files (epoch boundaries) load
 *   offset 12  uint32    H, header length in bytes (a multiple of 4, at most MAX_CHECKPOINT_HEADER_BYTES)
 *   offset 16  32 bytes  SHA-256 of the header bytes
 *   offset 48  H bytes   header: UTF-8 JSON, padded with spaces to a multiple of 4
 *   offset 48+H          payload: float32 values, exactly header.payload.bytes bytes, then end of file
 *
 * Decoding trusts nothing: every size is checked against the bytes present before anything is
 * allocated, and every problem is one DataError line.
 */
import { sha256Hex } from '../../data/sha256.js';
import { ArgumentError, DataError, formatShape } from '../../errors.js';
import type { StateDict } from '../../nn/module.js';
import { readHeader, versionOf, writeHeader, type TensorEntry } from './schema.js';
import type { TrainingCheckpoint } from './types.js';

/** Versions this code reads: 1 (epoch boundaries only), 2 (adds mid-epoch checkpoints), 3 (adds AdamW and schedules). */
const READABLE_VERSIONS: readonly number[] = [1, 2, 3];
/** The first 8 bytes of every checkpoint file. */
export const CHECKPOINT_MAGIC = 'DLABCKPT';
/** Largest header accepted (16 MiB): a corrupt length field must not become a huge allocation. */
export const MAX_CHECKPOINT_HEADER_BYTES = 16 * 2 ** 20;

const PREAMBLE_BYTES = 48;
const FIX = 'delete it or resume from another checkpoint';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function float32Bytes(values: Float32Array, out: Uint8Array, at: number): void {
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset);
  for (let i = 0; i < values.length; i++) view.setFloat32(at + 4 * i, values[i]!, true);
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

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
  if (ckpt.adamw !== undefined) {
    add('exp_avg', ckpt.adamw.expAvg);
    add('exp_avg_sq', ckpt.adamw.expAvgSq);
  }
  const payload = new Uint8Array(offset * 4);
  arrays.forEach((a, i) => float32Bytes(a, payload, tensors[i]!.offset * 4));
  const header = writeHeader(ckpt, tensors, { bytes: payload.length, sha256: sha256Hex(payload) });
  let json = JSON.stringify(header);
  json += ' '.repeat((4 - (new TextEncoder().encode(json).length % 4)) % 4);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(PREAMBLE_BYTES + headerBytes.length + payload.length);
  out.set(new TextEncoder().encode(CHECKPOINT_MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, versionOf(ckpt), true);
  view.setUint32(12, headerBytes.length, true);
  out.set(hexBytes(sha256Hex(headerBytes)), 16);
  out.set(headerBytes, PREAMBLE_BYTES);
  out.set(payload, PREAMBLE_BYTES + headerBytes.length);
  return out;
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
      `has format version ${version}; this dropout-lab reads versions ${READABLE_VERSIONS.join(', ')}`,
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
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch {
    throw fail('has a header that is not valid UTF-8 JSON');
  }
  const { fields, tensors, payload: info } = readHeader(parsed, version, fail);

  const present = bytes.length - payloadStart;
  if (present !== info.bytes) {
    throw fail(
      present < info.bytes
        ? `is truncated: its payload needs ${info.bytes} bytes but only ${present} are present`
        : `has ${present - info.bytes} trailing bytes after its ${info.bytes}-byte payload`,
    );
  }
  const payload = bytes.subarray(payloadStart);
  if (sha256Hex(payload) !== info.sha256) throw fail('fails its payload checksum (SHA-256): it is corrupt');

  const params: StateDict = {};
  const momentum: StateDict = {};
  const expAvg: StateDict = {};
  const expAvgSq: StateDict = {};
  const dicts = { param: params, momentum, exp_avg: expAvg, exp_avg_sq: expAvgSq };
  const pv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  for (const e of tensors) {
    const values = new Float32Array(e.length);
    for (let i = 0; i < e.length; i++) values[i] = pv.getFloat32(4 * (e.offset + i), true);
    // The writer never saves NaN or Infinity (a checkpoint is a last good state): such values mean a
    // crafted or foreign file, and resuming from them would train on garbage.
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw fail(`holds a non-finite value (${values[bad]}) in ${e.role} ${e.name}[${bad}]`);
    dicts[e.role][e.name] = { shape: e.shape, data: values };
  }
  const { adamwStep, ...rest } = fields;
  return {
    ...rest,
    params,
    momentum,
    ...(adamwStep === undefined ? {} : { adamw: { step: adamwStep, expAvg, expAvgSq } }),
  };
}
