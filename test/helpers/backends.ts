/**
 * The backends the op table runs on. The plain JavaScript reference backend always; the WebAssembly
 * backend when src/backend/wasm/index.ts exists and exports `createWasmBackend` (it is imported
 * dynamically so the suite still runs before it lands, and a skip is logged with its reason; with
 * CI=true a wasm backend that cannot be imported fails every suite that uses this list).
 */
import { ReferenceBackend } from '../../src/index.js';
import type { Backend } from '../../src/internals.js';

/** A backend under test: a name for titles and a factory. */
export interface BackendEntry {
  readonly name: string;
  readonly create: () => Promise<Backend>;
}

/** Why the wasm backend is not in the list, or null when it is. */
export let wasmSkipReason: string | null = null;

async function wasmEntry(): Promise<BackendEntry | null> {
  // A variable specifier keeps TypeScript from requiring the module at compile time.
  const specifier = '../../src/backend/wasm/index.js';
  try {
    const mod = (await import(specifier)) as { createWasmBackend?: unknown };
    if (typeof mod.createWasmBackend !== 'function') {
      wasmSkipReason = 'src/backend/wasm/index.ts does not export createWasmBackend';
      return null;
    }
    const create = mod.createWasmBackend as () => Promise<Backend>;
    return { name: 'wasm', create };
  } catch (error) {
    wasmSkipReason = `src/backend/wasm/index.ts could not be imported: ${(error as Error).message}`;
    return null;
  }
}

/** Every backend to run the op table on (top-level await: resolved once per test file). */
export const backends: readonly BackendEntry[] = [
  { name: 'js', create: async () => new ReferenceBackend() },
  ...[await wasmEntry()].filter((b): b is BackendEntry => b !== null),
];

if (wasmSkipReason !== null) {
  // With CI=true the op suite must not pass on the reference backend alone.
  if (process.env['CI'] === 'true')
    throw new Error(`CI=true: the wasm backend is required: ${wasmSkipReason}`);
  console.log(`# wasm backend skipped: ${wasmSkipReason}`);
}
