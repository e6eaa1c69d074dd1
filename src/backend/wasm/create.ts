/**
 * Creating the wasm backend on each host: the thread count and kernel variant its options get here
 * (threads need shared memory: Node, or a cross-origin isolated page), compiling and instantiating the
 * kernels on a fresh memory, and starting the helper threads (node-host.ts or web-host.ts). Kept apart
 * from the ops so the host-specific loading never mixes with kernel calls.
 */
import {
  kernelBytes,
  kernelBytesSync,
  relaxedSimdSupported,
  unsharedMemoryVariant,
  type KernelVariant,
} from './binary.js';
import type { Kernels } from './exports.js';
import { MAX_MEMORY_PAGES } from './kernels.generated.js';
import { MAX_THREADS } from './limits.js';
import { WasmBackend } from './wasm-backend.js';

/** Options of createWasmBackend. */
export interface WasmBackendOptions {
  /** Threads that share large kernels, the main thread included (1 or more; default 1). */
  readonly threads?: number | undefined;
  /** Kernel build: 'auto' (default) picks relaxed SIMD when the engine supports it. */
  readonly variant?: KernelVariant | 'auto' | undefined;
  /**
   * Skip the zeros of a mostly-zero left operand (dropout and ReLU outputs and their gradients) with
   * a sparse × dense product: 'auto' (default) times it against the dense GEMM per shape and
   * density band on this machine and keeps the faster; true always takes it below density 0.65;
   * false always runs the dense GEMM. Results are bit-identical either way.
   */
  readonly sparse?: boolean | 'auto' | undefined;
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * The Node-only thread host, loaded with `require` (Node >= 20.19 requires ES modules) rather than
 * `import()`, so bundlers never see it and no browser bundle contains it.
 */
function nodeHost(): typeof import('./node-host.js') {
  const load = process.getBuiltinModule('node:module').createRequire(import.meta.url);
  return load('./node-host.js') as typeof import('./node-host.js');
}

/** Node 20 ships relaxed SIMD behind a V8 flag; node-host.ts turns it on (before compiling). */
function enableRelaxedSimdInNode(): void {
  if (isNode && !relaxedSimdSupported()) nodeHost().enableRelaxedSimd();
}

/** Browsers share wasm memory with workers only when cross-origin isolated (COOP + COEP). */
function browserThreadsAvailable(): boolean {
  return (
    (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true &&
    typeof Worker !== 'undefined' &&
    typeof SharedArrayBuffer !== 'undefined'
  );
}

let saidOneThread = false;

/** The threads and kernel variant a backend gets from its options on this host. */
function plan(opts: WasmBackendOptions): { threads: number; variant: KernelVariant } {
  let threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new RangeError(`wasm backend: threads must be an integer from 1 to ${MAX_THREADS}, got ${threads}`);
  }
  // A browser context that is not cross-origin isolated has no shared memory: one thread.
  if (threads > 1 && !isNode && !browserThreadsAvailable()) {
    threads = 1;
    if (!saidOneThread) {
      saidOneThread = true;
      console.info(
        'dropout-lab: the wasm backend runs on one thread: this page is not cross-origin isolated ' +
          '(serve it with COOP same-origin and COEP require-corp for more).',
      );
    }
  }
  let variant = opts.variant ?? 'auto';
  if (variant === 'auto') variant = relaxedSimdSupported() ? 'relaxed' : 'simd';
  else if (variant === 'relaxed' && !relaxedSimdSupported()) {
    throw new Error('wasm backend: relaxed SIMD is not supported by this engine');
  }
  return { threads, variant };
}

/** A fresh memory for the kernels: shared when helpers will run on it. */
function newMemory(shared: boolean): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: 16, maximum: MAX_MEMORY_PAGES, shared });
}

/**
 * Creates the WebAssembly SIMD backend (name 'wasm'). `threads: N` starts N − 1 helper threads that
 * take chunks of every large GEMM, dropout mask and SGD step: Node worker_threads, or in browsers
 * Web Workers when the context is cross-origin isolated (else the backend falls back to one thread;
 * `threads` tells). Results are bit-identical for every N. Call `dispose()` to stop the helpers
 * (they never keep a Node process alive either way).
 */
export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  if (opts.variant !== 'simd') enableRelaxedSimdInNode();
  const { threads, variant } = plan(opts);
  const shared = threads > 1;
  const bytes = await kernelBytes(variant);
  // Single-threaded use takes an unshared memory, which every host can create.
  const module = await WebAssembly.compile(shared ? bytes : unsharedMemoryVariant(bytes));
  const memory = newMemory(shared);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const kernels = instance.exports as unknown as Kernels;
  const backend = new WasmBackend(kernels, memory, variant, opts.sparse ?? 'auto', threads);
  if (shared) {
    const start = isNode ? nodeHost().startNodeHelpers : (await import('./web-host.js')).startWebHelpers;
    backend.attachHelpers(await start(bytes, memory, backend.controlBlock, threads));
  }
  return backend;
}

/**
 * Creates the wasm backend synchronously; Node only (>= 20.19: it loads the kernels and the thread
 * host with `require`). Used for the backend chosen on first use, when nothing can be awaited. The
 * helper thread starts without being waited for (see startNodeHelperSync).
 */
export function createWasmBackendSync(opts: WasmBackendOptions = {}): WasmBackend {
  if (!isNode) throw new Error('wasm backend: synchronous creation needs Node; await createBackend(...)');
  const host = nodeHost();
  if (opts.variant !== 'simd') host.enableRelaxedSimd();
  const { threads, variant } = plan(opts);
  const shared = threads > 1;
  const bytes = kernelBytesSync(variant);
  const module = new WebAssembly.Module(shared ? bytes : unsharedMemoryVariant(bytes));
  const memory = newMemory(shared);
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const kernels = instance.exports as unknown as Kernels;
  const backend = new WasmBackend(kernels, memory, variant, opts.sparse ?? 'auto', threads);
  if (shared) backend.attachHelpers(host.startNodeHelpersSync(bytes, memory, backend.controlBlock, threads));
  return backend;
}
