/**
 * Node-only host support: the relaxed-SIMD V8 flag and helper threads on worker_threads. Loaded
 * with a dynamic import only when `process` exists. It takes Node's modules from
 * `process.getBuiltinModule` rather than `import`, so no `node:` import ever reaches a browser
 * bundle (bundlers would externalize it with a warning) and it can run synchronously.
 */
import type { Worker } from 'node:worker_threads';
import { relaxedSimdSupported } from './binary.js';
import { controlHelper, HELPER_LOOP_SOURCE, HELPER_SPIN, type Helper } from './threads.js';

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
  const worker = spawn(bytes, memory, ctl);
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  worker.unref();
  return controlHelper(memory, ctl, true, () => void worker.terminate());
}

/**
 * Starts the helper without waiting for it (for the backend created synchronously on first use).
 * Safe because of the claim protocol (threads.ts): until the helper runs, the main thread claims
 * and computes every share itself, so a slow or failed start costs speed, never results.
 */
export function startNodeHelperSync(bytes: Uint8Array, memory: WebAssembly.Memory, ctl: number): Helper {
  const worker = spawn(bytes, memory, ctl);
  worker.once('error', () => undefined); // a helper that cannot start leaves the work to this thread
  worker.unref();
  return controlHelper(memory, ctl, true, () => void worker.terminate());
}

function spawn(bytes: Uint8Array, memory: WebAssembly.Memory, ctl: number): Worker {
  const { Worker } = process.getBuiltinModule('node:worker_threads');
  return new Worker(WORKER_SOURCE, { eval: true, workerData: { bytes, memory, ctl, spin: HELPER_SPIN } });
}
