/**
 * safetensors, the weight format PyTorch and Hugging Face exchange (https://github.com/huggingface/safetensors),
 * as bytes (browser-safe; the Node entry adds files). Layout: an 8-byte little-endian header length N, N
 * bytes of UTF-8 JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}`
 * padded with spaces so the data starts 8-byte aligned, then the tensors' bytes, contiguous, with offsets
 * relative to the start of the data. Only F32 is read and written. Names are PyTorch's `state_dict()`
 * names for the same architecture (e.g. `net.1.weight` [256, 784] for d2l's concise DropoutMLP), so a file
 * moves between the two libraries as it is.
 */
import { DataError, formatShape, formatValue } from '../errors.js';
import type { Module, StateDict, StateDictEntry } from './module.js';
import { Tensor } from '../tensor/tensor.js';

/** The spec's cap on the header (100 MB); larger headers are refused before parsing. */
export const SAFETENSORS_MAX_HEADER = 100_000_000;

/** What a safetensors file holds: tensors by name and the optional string-to-string metadata. */
export interface SafetensorsContents {
  tensors: StateDict;
  metadata: Record<string, string>;
}

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Encodes a model's parameters (or a state dict, tensors allowed) as safetensors bytes, F32, tensors in
 * name order. `metadata` goes into `__metadata__` (string values only, as the format requires).
 */
export function saveSafetensors(
  source: Module | Readonly<Record<string, StateDictEntry>>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const state = isModule(source) ? source.stateDict() : source;
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new DataError(
        `saveSafetensors: metadata values must be strings, got ${formatValue(value)} for "${key}".`,
      );
    }
  }
  const names = Object.keys(state).sort();
  if (names.includes('__metadata__'))
    throw new DataError('saveSafetensors: "__metadata__" cannot name a tensor.');
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = { ...metadata };
  const arrays: Float32Array[] = [];
  let offset = 0;
  for (const name of names) {
    const entry = state[name]!;
    const shape = [...entry.shape];
    const values = entry instanceof Tensor ? entry.dataSync() : Float32Array.from(entry.data);
    if (values.length !== shape.reduce((a, b) => a * b, 1)) {
      throw new DataError(
        `saveSafetensors: ${name} has shape ${formatShape(shape)} but ${values.length} values.`,
      );
    }
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + values.byteLength] };
    offset += values.byteLength;
    arrays.push(values);
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad with spaces so that 8 + N is a multiple of 8: the data then starts aligned, as the reference writes it.
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const values of arrays) {
    if (isLittleEndian) out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
    else values.forEach((v, i) => view.setFloat32(at + 4 * i, v, true));
    at += values.byteLength;
  }
  return out;
}

/**
 * Decodes safetensors bytes into a state dict (`{ shape, data }` per name, ready for
 * `model.loadStateDict`) and the metadata. Anything malformed is one DataError line: a short or oversized
 * header, bad JSON, a dtype other than F32, offsets that overlap, leave holes or miss the data, a
 * byte count that does not match the shape.
 */
export function loadSafetensors(bytes: Uint8Array, name = 'the safetensors data'): SafetensorsContents {
  const fail = (problem: string): never => {
    throw new DataError(`${name} is not a valid safetensors file: ${problem}.`);
  };
  if (bytes.length < 8) fail(`it has ${bytes.length} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(SAFETENSORS_MAX_HEADER))
    fail(`its header length ${n} exceeds the ${SAFETENSORS_MAX_HEADER}-byte limit`);
  const headerLength = Number(n);
  if (8 + headerLength > bytes.length)
    fail(`its header length ${headerLength} runs past the end of the ${bytes.length}-byte file`);
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
    if (!text.startsWith('{')) fail('its header does not start with "{"');
    header = JSON.parse(text);
  } catch (err) {
    if (err instanceof DataError) throw err;
    fail(`its header is not UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    fail('its header is not a JSON object');
  const data = bytes.subarray(8 + headerLength);
  const metadata: Record<string, string> = {};
  const entries: Array<{ name: string; shape: number[]; begin: number; end: number }> = [];
  for (const [key, value] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        fail('"__metadata__" is not an object');
      for (const [mk, mv] of Object.entries(value as Record<string, unknown>)) {
        if (typeof mv !== 'string') fail(`"__metadata__"."${mk}" is ${formatValue(mv)}, not a string`);
        metadata[mk] = mv as string;
      }
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof info !== 'object' || info === null)
      fail(`tensor "${key}" is ${formatValue(value)}, not an object`);
    const { dtype, shape, data_offsets: offsets } = info!;
    if (dtype !== 'F32')
      fail(`tensor "${key}" has dtype ${formatValue(dtype)}; only F32 is supported (in PyTorch: .float())`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${key}" has shape ${formatValue(shape)}, not a list of non-negative integers`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      fail(`tensor "${key}" has data_offsets ${formatValue(offsets)}, not [begin, end] with 0 ≤ begin ≤ end`);
    }
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== count * 4) {
      fail(
        `tensor "${key}" has shape ${formatShape(shape as number[])} (${count * 4} bytes) but data_offsets span ${end - begin} bytes`,
      );
    }
    entries.push({ name: key, shape: shape as number[], begin, end });
  }
  // The tensors must tile the data exactly: no overlap, no hole, nothing past the end, nothing after.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of entries) {
    if (e.begin !== expected) {
      fail(
        e.begin < expected
          ? `tensor "${e.name}" overlaps the one before it`
          : `there is a hole in the data before tensor "${e.name}"`,
      );
    }
    expected = e.end;
  }
  if (expected !== data.length) {
    fail(
      expected > data.length
        ? `the data is ${data.length} bytes but the tensors need ${expected} (truncated)`
        : `the data is ${data.length} bytes but the tensors cover only ${expected}`,
    );
  }
  const tensors: StateDict = {};
  for (const e of entries) {
    const values = new Float32Array((e.end - e.begin) / 4);
    const at = data.byteOffset + e.begin;
    if (isLittleEndian && at % 4 === 0) values.set(new Float32Array(data.buffer, at, values.length));
    else
      for (let i = 0; i < values.length; i++)
        values[i] = view.getFloat32(8 + headerLength + e.begin + 4 * i, true);
    tensors[e.name] = { shape: e.shape, data: values };
  }
  return { tensors, metadata };
}

function isModule(value: unknown): value is Module {
  return typeof value === 'object' && value !== null && typeof (value as Module).stateDict === 'function';
}
