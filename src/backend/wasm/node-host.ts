/**
 * Node-only host support: the relaxed-SIMD V8 flag and helper threads on worker_threads. Loaded
 * with a dynamic import only when `process` exists, so the backend module itself stays browser-safe.
 */
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { relaxedSimdSupported } from './binary.js';
import { controlPool, HELPER_LOOP_SOURCE, HELPER_SPIN, type ThreadPool } from './threads.js';

/**
 * Node 20 ships relaxed SIMD behind a V8 flag. Setting it at runtime works as long as it happens
 * before the module is compiled; the flag is process-wide, so worker threads see it too.
 */
export function enableRelaxedSimd(): void {
  if (!relaxedSimdSupported()) setFlagsFromString('--experimental-wasm-relaxed-simd');
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
  const workers: Worker[] = [];
  const stop = (): void => workers.forEach((w) => void w.terminate());
  try {
    for (let index = 1; index < threads; index++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { bytes, memory, ctl, threads, index, spin: HELPER_SPIN },
      });
      workers.push(worker);
    }
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
