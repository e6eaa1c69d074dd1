/**
 * The one rule that picks a backend, shared by the library (on first use) and the lab:
 *
 * 1. WebGPU, only on a hardware adapter: a software adapter (`isFallbackAdapter`, or adapter info
 *    naming SwiftShader, lavapipe/llvmpipe or Microsoft's Basic Render Driver) trains 60–100× slower
 *    than WebAssembly. Only where something can be awaited, since reading a WebGPU tensor is async.
 * 2. Else WebAssembly SIMD (`wasm`) where the engine validates SIMD, on every core up to the count
 *    that pays (select.ts's defaultThreads; a page that is not cross-origin isolated falls back to one
 *    thread and says so).
 * 3. Else the reference backend (`js`), which is also one call away: `setBackend(new ReferenceBackend())`.
 */
import type { Backend } from './backend.js';
import { ReferenceBackend } from './reference.js';
import { createBackend, defaultThreads, type BackendName } from './select.js';

/** The smallest module using a SIMD instruction (i8x16.popcnt, final SIMD); it validates only where SIMD runs. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98,
  11,
]);

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** True when this engine runs WebAssembly SIMD (the wasm backend's kernels). */
export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/** Threads for the wasm backend on this host: its available cores, up to the count that pays. */
export function hostThreads(): number {
  const cores = isNode
    ? process.getBuiltinModule('node:os').availableParallelism()
    : (globalThis.navigator?.hardwareConcurrency ?? 1);
  return defaultThreads(cores);
}

/**
 * What an adapter says about itself, across the spec's versions (info moved into `adapter.info`). A
 * GPUAdapter is one; the published declarations name this shape, not GPUAdapter, so a consumer without
 * the WebGPU types (lib.dom has none yet) type-checks them with skipLibCheck off.
 */
export interface AdapterFacts {
  readonly isFallbackAdapter?: boolean;
  readonly info?: {
    readonly vendor?: string;
    readonly architecture?: string;
    readonly device?: string;
    readonly description?: string;
    readonly isFallbackAdapter?: boolean;
  };
}

const SOFTWARE_ADAPTER = /swiftshader|lavapipe|llvmpipe|softpipe|software|basic render/i;

/** The adapter's own words: vendor, architecture, device and description, non-empty ones joined. */
export function describeAdapter(adapter: AdapterFacts): string {
  const { info } = adapter;
  const words = [info?.vendor, info?.architecture, info?.device, info?.description];
  const text = [...new Set(words.filter((w): w is string => typeof w === 'string' && w !== ''))].join(' ');
  return text === '' ? 'unnamed adapter' : text;
}

/** True for a software (CPU-emulated) WebGPU adapter such as SwiftShader or lavapipe. */
export function isSoftwareAdapter(adapter: AdapterFacts): boolean {
  if (adapter.isFallbackAdapter === true || adapter.info?.isFallbackAdapter === true) return true;
  return SOFTWARE_ADAPTER.test(describeAdapter(adapter));
}

/** The browser's WebGPU entry point, where there is one. */
function navigatorGpu(): { requestAdapter(): Promise<GPUAdapter | null> } | undefined {
  return (globalThis.navigator as { gpu?: { requestAdapter(): Promise<GPUAdapter | null> } } | undefined)
    ?.gpu;
}

/** The CPU backend the rule picks: `wasm` where SIMD runs, else `js`. */
export function cpuBackendName(): 'wasm' | 'js' {
  return wasmSimdSupported() ? 'wasm' : 'js';
}

/** A backend and, for WebGPU, the adapter it runs on (for a page to name it). */
export interface ChosenBackend {
  /** The backend, ready to pass to setBackend. */
  readonly backend: Backend;
  /** The adapter's own words (and whether it is a software one), for `webgpu`; undefined for CPU backends. */
  readonly adapter?: string | undefined;
}

/** Options of createBestBackend. */
export interface CreateBestBackendOptions {
  /** A backend to use instead of the rule (the lab's `?backend=`); 'auto' or undefined applies the rule. */
  readonly prefer?: BackendName | 'auto' | undefined;
  /** Consider WebGPU (default true); false keeps to the CPU backends, whose tensors read synchronously. */
  readonly gpu?: boolean | undefined;
}

/**
 * Creates the backend the rule picks (see the file comment), or the one `prefer` names. WebGPU is
 * looked for through `navigator.gpu` (browsers); in Node ask for it by name (`createBackend('webgpu')`).
 */
export async function createBestBackend(opts: CreateBestBackendOptions = {}): Promise<ChosenBackend> {
  const prefer = opts.prefer ?? 'auto';
  const gpu = navigatorGpu();
  if (prefer === 'webgpu' || (prefer === 'auto' && opts.gpu !== false && gpu !== undefined)) {
    const adapter = gpu === undefined ? null : await gpu.requestAdapter().catch(() => null);
    if (prefer === 'webgpu' || (adapter !== null && !isSoftwareAdapter(adapter))) {
      const { createWebGPUBackend } = await import('./webgpu/index.js');
      const backend = await createWebGPUBackend(adapter === null ? {} : { adapter });
      const label =
        adapter === null
          ? undefined
          : `${describeAdapter(adapter)}${isSoftwareAdapter(adapter) ? ' (software adapter)' : ''}`;
      return { backend, adapter: label };
    }
  }
  const name = prefer === 'auto' ? cpuBackendName() : prefer;
  return { backend: await createBackend(name, name === 'wasm' ? { threads: hostThreads() } : {}) };
}

let hinted = false;

/**
 * The backend tensors use when none was set: created on first use, synchronously, by the rule's
 * CPU part (a first use cannot await WebGPU, and a WebGPU tensor cannot be read synchronously).
 * In Node that is the wasm backend (on every core up to the count that pays); a browser cannot load the
 * kernels synchronously, so there the first use gets the reference backend and says once in the
 * console how to get the fast one (`setBackend((await createBestBackend()).backend)`).
 */
export function defaultBackend(): Backend {
  if (cpuBackendName() === 'wasm') {
    if (isNode) {
      const load = process.getBuiltinModule('node:module').createRequire(import.meta.url);
      const wasm = load('./wasm/index.js') as typeof import('./wasm/index.js');
      return wasm.createWasmBackendSync({ threads: hostThreads() });
    }
    if (!hinted) {
      hinted = true;
      console.info(
        'dropout-lab: using the reference backend; for WebAssembly SIMD (or WebGPU on a GPU) call ' +
          '`setBackend((await createBestBackend()).backend)` before creating tensors.',
      );
    }
  }
  return new ReferenceBackend();
}
