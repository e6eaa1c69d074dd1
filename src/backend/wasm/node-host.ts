/**
 * Node-only host support: the relaxed-SIMD V8 flag and helper threads on worker_threads. Loaded
 * with a dynamic import only when `process` exists, so the backend module itself stays browser-safe.
 */
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { relaxedSimdSupported } from './binary.js';
import { controlHelper, HELPER_LOOP_SOURCE, HELPER_SPIN, type Helper } from './threads.js';

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
const { bytes, memory, ctl, spin } = workerData;
helperLoop(bytes, memory, ctl, spin);
`;

/**
 * Starts one worker that serves the control block at byte `ctl` of `memory` with the kernels in
 * `bytes`; resolves once it runs. The worker is unref'd so it never keeps the process alive.
 */
export async function startNodeHelper(
  bytes: Uint8Array,
  memory: WebAssembly.Memory,
  ctl: number,
): Promise<Helper> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { bytes, memory, ctl, spin: HELPER_SPIN },
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  worker.unref();
  return controlHelper(memory, ctl, true, () => void worker.terminate());
}
