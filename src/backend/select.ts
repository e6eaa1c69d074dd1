/**
 * Choosing a backend by name: `wasm` (WebAssembly SIMD, the default where it runs), `js` (the
 * reference backend, the oracle) or `webgpu` (GPUs through WebGPU: the browser's `navigator.gpu`,
 * or Dawn from the optional `webgpu` package in Node). Shared by the CLI, the benchmark and the lab.
 */
import { ArgumentError, formatValue } from '../errors.js';
import type { Backend } from './backend.js';
import { ReferenceBackend } from './reference.js';
import { MAX_THREADS } from './wasm/limits.js';

/** Backend names accepted by `createBackend` (and the CLI's backend option). */
export const BACKEND_NAMES = ['wasm', 'js', 'webgpu'] as const;

/** A backend name. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Options of createBackend. */
export interface CreateBackendOptions {
  /** Threads for the wasm backend (1 to MAX_THREADS; see defaultThreads). */
  readonly threads?: number | undefined;
  /** wasm: skip the zeros of mostly-zero left operands in matmul (default 'auto'; see WasmBackendOptions). */
  readonly sparse?: boolean | 'auto' | undefined;
}

/**
 * Threads beyond which the book's models (batch 256, 256 hidden units) stop getting faster: a
 * step's GEMMs cut into 2 chunks per thread, and below ~64×64 outputs per chunk the hand-offs and
 * the serial parts (softmax, reductions, the JavaScript between kernels) dominate. See README.
 */
export const THREADS_THAT_PAY = 8;

/** The default thread count on a machine with `cores` available cores: all of them, up to THREADS_THAT_PAY. */
export function defaultThreads(cores: number): number {
  return Math.max(1, Math.min(Math.floor(cores), THREADS_THAT_PAY));
}

/** Creates the named backend; `wasm` compiles its kernels (relaxed SIMD when the engine has it). */
export async function createBackend(name: BackendName, opts: CreateBackendOptions = {}): Promise<Backend> {
  if (name === 'js') return new ReferenceBackend();
  if (name === 'wasm') {
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
      throw new ArgumentError(
        `createBackend: threads must be an integer from 1 to ${MAX_THREADS} for the wasm backend, got ${formatValue(threads)}; ` +
          "use at most the machine's available cores.",
      );
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
