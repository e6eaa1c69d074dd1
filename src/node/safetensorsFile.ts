/** safetensors files on disk (Node): atomic saves and one-line errors naming the file. */
import { readFile } from 'node:fs/promises';
import { DataError } from '../errors.js';
import type { Module, StateDictEntry } from '../nn/module.js';
import {
  loadSafetensors as decodeSafetensors,
  saveSafetensors as encodeSafetensors,
  type SafetensorsContents,
} from '../nn/safetensors.js';
import { writeFileAtomic } from './atomicWrite.js';

/**
 * Writes a model's parameters (or a state dict) to `path` as safetensors, atomically: the old file or the whole new one.
 *
 * @example
 * ```ts
 * import { nn } from 'dropout-lab';
 * import { loadSafetensorsFile, saveSafetensorsFile } from 'dropout-lab/node';
 * const model = new nn.Linear(4, 2);
 * await saveSafetensorsFile('linear.safetensors', model, { format: 'pt' });
 * model.loadStateDict((await loadSafetensorsFile('linear.safetensors')).tensors);
 * ```
 */
export async function saveSafetensorsFile(
  path: string,
  source: Module | Readonly<Record<string, StateDictEntry>>,
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  const bytes = encodeSafetensors(source, metadata);
  try {
    await writeFileAtomic(path, bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DataError(
      `Cannot write ${path} (${reason}). Fix: name a file in a folder that exists and is writable.`,
    );
  }
}

/** Reads a safetensors file: tensors by name (for `model.loadStateDict`) and its metadata. */
export async function loadSafetensorsFile(path: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DataError(`Cannot read ${path} (${reason}). Fix: name an existing .safetensors file.`);
  }
  return decodeSafetensors(bytes, path);
}
