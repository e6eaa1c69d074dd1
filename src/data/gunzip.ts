/** Node-only gzip support for IDX files; idx.ts stays browser-safe by leaving decompression to this file. */
import { gunzipSync } from 'node:zlib';
import { DataError } from '../errors.js';
import { DEFAULT_IDX_FIX, type IdxArray, isGzip, MAX_IDX_BYTES, parseIdx } from './idx.js';

// Largest header: magic + 255 dims. Capping the output defuses a gzip bomb before it fills memory.
const MAX_OUTPUT_BYTES = MAX_IDX_BYTES + 4 + 4 * 255;

/** Returns `bytes` gunzipped when they start with the gzip magic, else unchanged; bad gzip is a DataError. */
export function gunzipIfNeeded(bytes: Uint8Array, name: string, fix: string = DEFAULT_IDX_FIX): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_OUTPUT_BYTES });
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/\s+/g, ' ') : String(err);
    const problem = `is not a valid gzip file (${reason})`;
    throw new DataError(fix === '' ? `${name} ${problem}` : `${name} ${problem}. Fix: ${fix}.`);
  }
}

/** Decodes an IDX file as stored on disk, raw or gzip-compressed: gunzipIfNeeded, then parseIdx. */
export function decodeIdxFile(bytes: Uint8Array, name: string, fix: string = DEFAULT_IDX_FIX): IdxArray {
  return parseIdx(gunzipIfNeeded(bytes, name, fix), name, fix);
}
