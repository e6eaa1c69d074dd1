/**
 * Node-only gzip and file reading for IDX files; idx.ts stays browser-safe by leaving decompression
 * and I/O to this file. Sizes are checked against the IDX header before anything large is read or
 * inflated: a gzip bomb stops at the size its header implies, and an oversized raw file is refused
 * after reading its first kilobyte.
 */
import { open } from 'node:fs/promises';
import { constants, gunzipSync } from 'node:zlib';
import { DataError } from '../../errors.js';
import { type IdxArray, isGzip, MAX_IDX_BYTES, parseIdx } from '../../data/idx.js';

/** The fix named in errors of files this layer found (the cache, a download, or the user's folder). */
export const DEFAULT_IDX_FIX = 'delete it and run again to re-download, or pass --data-dir';

// Largest header: magic + 255 dims.
const MAX_HEADER_BYTES = 4 + 4 * 255;
const MAX_OUTPUT_BYTES = MAX_IDX_BYTES + MAX_HEADER_BYTES;
/** Compressed bytes inflated to read the header: at most ~1000× as many come out (deflate's limit). */
const HEADER_PROBE_BYTES = 4096;

function message(name: string, problem: string, fix: string): string {
  return fix === '' ? `${name} ${problem}` : `${name} ${problem}. Fix: ${fix}.`;
}

/**
 * The total size (header + data) an IDX header in `prefix` implies, or undefined when the prefix is
 * too short or not an IDX header (parseIdx then reports the exact problem).
 */
function impliedSize(prefix: Uint8Array): number | undefined {
  if (prefix.length < 4 || prefix[0] !== 0 || prefix[1] !== 0) return undefined;
  const ndim = prefix[3]!;
  const header = 4 + 4 * ndim;
  if (prefix.length < header) return undefined;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  let size = 1;
  for (let i = 0; i < ndim; i++) size *= view.getUint32(4 + 4 * i);
  return header + size;
}

/** Returns `bytes` gunzipped when they start with the gzip magic, else unchanged; bad gzip is a DataError. */
export function gunzipIfNeeded(bytes: Uint8Array, name: string, fix: string = DEFAULT_IDX_FIX): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  const fail = (problem: string): DataError => new DataError(message(name, problem, fix));
  // Inflate a small prefix first to read the IDX header, then inflate the whole stream capped at
  // the size that header implies (+1 byte, so trailing data shows up as "more than implied").
  let limit = MAX_OUTPUT_BYTES;
  try {
    const head = gunzipSync(bytes.subarray(0, HEADER_PROBE_BYTES), {
      finishFlush: constants.Z_SYNC_FLUSH,
      maxOutputLength: MAX_OUTPUT_BYTES,
    });
    const implied = impliedSize(head);
    if (implied !== undefined) {
      if (implied > MAX_OUTPUT_BYTES) {
        throw fail(
          `claims ${implied} bytes in its IDX header, over the ${MAX_IDX_BYTES}-byte limit; it is corrupt`,
        );
      }
      limit = implied + 1;
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    // A prefix that does not inflate: the full decompression below reports why.
  }
  let out: Uint8Array;
  try {
    out = gunzipSync(bytes, { maxOutputLength: limit });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' && limit < MAX_OUTPUT_BYTES) {
      throw fail(
        `decompresses to more than the ${limit - 1} bytes its IDX header implies (a gzip bomb or trailing data)`,
      );
    }
    const reason = err instanceof Error ? err.message.replace(/\s+/g, ' ') : String(err);
    throw fail(`is not a valid gzip file (${reason})`);
  }
  return out;
}

/**
 * Reads an IDX file (raw or gzip) from disk, refusing before the big read a file larger than any
 * valid one, or a raw file whose size differs from what its header implies.
 */
export async function readIdxBytes(path: string, fix: string = DEFAULT_IDX_FIX): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    // A gzip stream is never much larger than what it holds; nothing valid exceeds this.
    if (size > MAX_OUTPUT_BYTES + 2 ** 20) {
      throw new DataError(
        message(
          path,
          `is ${size} bytes, over the ${MAX_IDX_BYTES}-byte limit of an IDX file; it is not Fashion-MNIST`,
          fix,
        ),
      );
    }
    const prefix = new Uint8Array(Math.min(size, MAX_HEADER_BYTES));
    await handle.read(prefix, 0, prefix.length, 0);
    if (!isGzip(prefix)) {
      const implied = impliedSize(prefix);
      // Larger than its header implies: refused unread (a short file is small; parseIdx words it).
      if (implied !== undefined && size > implied) {
        throw new DataError(
          message(
            path,
            `has ${size - implied} trailing bytes beyond the ${implied} bytes its IDX header implies`,
            fix,
          ),
        );
      }
    }
    const bytes = new Uint8Array(size);
    for (let at = 0; at < size;) {
      const { bytesRead } = await handle.read(bytes, at, size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Decodes an IDX file as stored on disk, raw or gzip-compressed: gunzipIfNeeded, then parseIdx. */
export function decodeIdxFile(bytes: Uint8Array, name: string, fix: string = DEFAULT_IDX_FIX): IdxArray {
  return parseIdx(gunzipIfNeeded(bytes, name, fix), name, fix);
}
