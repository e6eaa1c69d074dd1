/**
 * Node-only host support: the relaxed-SIMD V8 flag and helper threads on worker_threads. Loaded
 * with a dynamic import only when `process` exists. It takes Node's modules from
 * `process.getBuiltinModule` rather than `import`, so no `node:` import ever reaches a browser
 * bundle (bundlers would externalize it with a warning) and it can run synchronously.
 */
import type { Worker } from 'node:worker_threads';
import { relaxedSimdSupported } from './binary.js';
import { controlPool, HELPER_LOOP_SOURCE, HELPER_SPIN, type ThreadPool } from './threads.js';

/**
 * Node 20 ships relaxed SIMD behind a V8 flag. Setting it at runtime works as long as it happens
 * before the module is compiled; the flag is process-wide, so worker threads see it too.
 */
export function enableRelaxedSimd(): void {
  if (!relaxedSimdSupported()) {
    process.getBuiltinModule('node:v8').setFlagsFromString('--experimental-wasm-relaxed-simd');
  }
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
${HELPER_LOOP_SOURCE}
parentPort.postMessage('ready');
const { bytes, memory, ctl, threads, index, spin } = workerData;
helperLoop(bytes, memory, ctl, threads, index, spin);
`;

/**
 * Starts `threads` − 1 workers that serve the control block at byte `ctl` of `memory` with the
 * kernels in `bytes`; resolves once all run. The workers are unref'd so they never keep the process
 * alive.
 */
export async function startNodeHelpers(
  bytes: Uint8Array,
  memory: WebAssembly.Memory,
  ctl: number,
  threads: number,
): Promise<ThreadPool> {
  const workers = spawnAll(bytes, memory, ctl, threads);
  const stop = (): void => workers.forEach((w) => void w.terminate());
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.once('message', () => resolve());
            worker.once('error', reject);
          }),
      ),
    );
  } catch (err) {
    stop();
    throw err;
  }
  workers.forEach((w) => w.unref());
  return controlPool(memory, ctl, threads - 1, true, stop);
}

/**
 * Starts the helpers without waiting for them (for the backend created synchronously on first use).
 * Safe because of the chunk protocol (threads.ts): the main thread takes every chunk no helper has
 * taken, so a helper that is slow to start, or never starts, costs speed, never results.
 */
export function startNodeHelpersSync(
  bytes: Uint8Array,
  memory: WebAssembly.Memory,
  ctl: number,
  threads: number,
): ThreadPool {
  const workers = spawnAll(bytes, memory, ctl, threads);
  for (const worker of workers) {
    worker.once('error', () => undefined); // a helper that cannot start leaves its chunks to the others
    worker.unref();
  }
  return controlPool(memory, ctl, threads - 1, true, () => workers.forEach((w) => void w.terminate()));
}

/** Spawns helpers 1 … threads − 1 (Worker from process.getBuiltinModule: no `node:` import to bundle). */
function spawnAll(bytes: Uint8Array, memory: WebAssembly.Memory, ctl: number, threads: number): Worker[] {
  const { Worker } = process.getBuiltinModule('node:worker_threads');
  const workers: Worker[] = [];
  for (let index = 1; index < threads; index++) {
    workers.push(
      new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { bytes, memory, ctl, threads, index, spin: HELPER_SPIN },
      }),
    );
  }
  return workers;
}
