/**
 * IDX, the file format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS"):
 * a big-endian magic number 0x0000TTNN (TT = dtype code, NN = number of dims), NN big-endian uint32
 * dims, then the elements in row-major order. Both data sets use only uint8: 3-D images, 1-D labels.
 *
 * Browser-safe on purpose (no Node imports): parseIdx takes already-decompressed bytes; gzip lives in
 * the node-only gunzip.ts.
 */
import { DataError, formatShape } from '../errors.js';

/** A parsed IDX file: its dims and its uint8 elements in row-major order. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Magic number of a uint8 3-D IDX file (images: count, rows, columns). */
export const IDX_IMAGES_MAGIC = 0x00000803;

/** Magic number of a uint8 1-D IDX file (labels). */
export const IDX_LABELS_MAGIC = 0x00000801;

/**
 * Largest payload parseIdx accepts, 1 GiB. Fashion-MNIST's largest file holds 47 MB; the cap turns a
 * corrupt header that claims billions of elements into an error instead of a huge allocation.
 */
export const MAX_IDX_BYTES = 2 ** 30;

/** The fix named in IDX errors when the caller does not say where the file came from. */
const INTACT_COPY_FIX = 'replace it with an intact copy of the file';

const UINT8 = 0x08;
const DTYPE_NAMES: Record<number, string> = {
  0x08: 'uint8',
  0x09: 'int8',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/** True when `bytes` start with the gzip magic bytes 1f 8b (RFC 1952). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** One-line "<file> <problem>. Fix: <fix>." message; an empty fix leaves the fix to the caller. */
function problemMessage(name: string, problem: string, fix: string): string {
  return fix === '' ? `${name} ${problem}` : `${name} ${problem}. Fix: ${fix}.`;
}

function hex(value: number, digits: number): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}

/**
 * Parses decompressed IDX bytes, checking the magic number (uint8, 1-D or 3-D), that every dim is
 * positive, and that the payload is exactly the size the header claims. Throws a one-line DataError
 * naming `name`, the problem and `fix`. The returned data is a copy, independent of `bytes`.
 */
export function parseIdx(bytes: Uint8Array, name: string, fix: string = INTACT_COPY_FIX): IdxArray {
  const fail = (problem: string): DataError => new DataError(problemMessage(name, problem, fix));
  if (isGzip(bytes)) {
    throw fail('is still gzip-compressed; parseIdx takes decompressed bytes (decodeIdxFile gunzips first)');
  }
  if (bytes.length < 4) {
    throw fail(`is truncated: ${bytes.length} bytes, too short for the 4-byte IDX magic number`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const dtype = bytes[2]!;
  const ndim = bytes[3]!;
  const expected = `${hex(IDX_IMAGES_MAGIC, 8)} (images) or ${hex(IDX_LABELS_MAGIC, 8)} (labels)`;
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw fail(`is not an IDX file: magic number ${hex(magic, 8)}, expected ${expected}`);
  }
  if (dtype !== UINT8) {
    const dtypeName = DTYPE_NAMES[dtype] ?? 'an unknown type';
    throw fail(`has IDX dtype code ${hex(dtype, 2)} (${dtypeName}); only uint8 (0x08) is supported`);
  }
  if (magic !== IDX_IMAGES_MAGIC && magic !== IDX_LABELS_MAGIC) {
    throw fail(`has ${ndim} dims (magic number ${hex(magic, 8)}), expected ${expected}`);
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw fail(
      `is truncated: ${bytes.length} bytes, but its ${ndim}-D IDX header alone needs ${headerBytes}`,
    );
  }
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i));
  if (dims.some((d) => d === 0)) {
    throw fail(`has a zero-length dimension: dims ${formatShape(dims)}`);
  }
  // Multiplying uint32 dims in float64 may round but never wraps, so the cap check is sound.
  const size = dims.reduce((a, b) => a * b, 1);
  if (size > MAX_IDX_BYTES) {
    throw fail(
      `claims dims ${formatShape(dims)} (${size} bytes), over the ${MAX_IDX_BYTES}-byte limit; its header is corrupt`,
    );
  }
  const present = bytes.length - headerBytes;
  if (present < size) {
    throw fail(
      `is truncated: dims ${formatShape(dims)} need ${size} data bytes but only ${present} are present`,
    );
  }
  if (present > size) {
    throw fail(
      `has ${present - size} trailing bytes after the ${size} data bytes of dims ${formatShape(dims)}`,
    );
  }
  // new Uint8Array(view) copies, and gives a plain Uint8Array even when `bytes` is a Node Buffer.
  return { dims, data: new Uint8Array(bytes.subarray(headerBytes)) };
}

/** Encodes uint8 `data` with shape `dims` as IDX bytes, the inverse of parseIdx (used for test fixtures). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new DataError(
      `encodeIdx: dims ${formatShape(dims)} hold ${size} elements but data has ${data.length}`,
    );
  }
  const headerBytes = 4 + 4 * dims.length;
  const out = new Uint8Array(headerBytes + size);
  const view = new DataView(out.buffer);
  view.setUint32(0, (UINT8 << 8) | dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, headerBytes);
  return out;
}
