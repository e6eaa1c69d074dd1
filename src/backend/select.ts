/**
 * Choosing a backend by name: `wasm` (WebAssembly SIMD, the default where it runs), `js` (the
 * reference backend, the oracle) or `webgpu` (GPUs through WebGPU: the browser's `navigator.gpu`,
 * or Dawn from the optional `webgpu` package in Node). Shared by the CLI, the benchmark and the lab.
 */
import { ArgumentError } from '../errors.js';
import type { Backend } from './backend.js';
import { ReferenceBackend } from './reference.js';

/** Backend names accepted by `createBackend` (and the CLI's backend option). */
export const BACKEND_NAMES = ['wasm', 'js', 'webgpu'] as const;

/** A backend name. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Options of createBackend. */
export interface CreateBackendOptions {
  /** Threads for the wasm backend (1 or 2). */
  readonly threads?: number | undefined;
  /** wasm: skip the zeros of mostly-zero left operands in matmul (default true; see WasmBackendOptions). */
  readonly sparse?: boolean | undefined;
}

/** Creates the named backend; `wasm` compiles its kernels (relaxed SIMD when the engine has it). */
export async function createBackend(name: BackendName, opts: CreateBackendOptions = {}): Promise<Backend> {
  if (name === 'js') return new ReferenceBackend();
  if (name === 'wasm') {
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 2) {
      throw new ArgumentError(`createBackend: threads must be 1 or 2 for the wasm backend, got ${threads}.`);
    }
    const { createWasmBackend } = await import('./wasm/index.js');
    return createWasmBackend({ threads, ...(opts.sparse === undefined ? {} : { sparse: opts.sparse }) });
  }
  if (name === 'webgpu') {
    const { createWebGPUBackend } = await import('./webgpu/index.js');
    return createWebGPUBackend();
  }
  throw new ArgumentError(`unknown backend '${String(name)}'; use one of ${BACKEND_NAMES.join(', ')}.`);
}

/** Releases a backend's threads, if it has any (the wasm backend's worker). */
export function disposeBackend(backend: Backend): void {
  const maybe = backend as Partial<{ dispose: () => void }>;
  if (typeof maybe.dispose === 'function') maybe.dispose();
}
