/**
 * Node-only host support: the relaxed-SIMD V8 flag and helper threads on worker_threads. Loaded
 * with a dynamic import only when `process` exists, so the backend module itself stays browser-safe.
 */
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { relaxedSimdSupported } from './binary.js';
import { CMD, CTL, HELPER_LOOP_SOURCE, type Helper } from './threads.js';

/**
 * How long (ms) the helper polls after its last command before sleeping in Atomics.wait. A training
 * step issues a parallel kernel every few hundred microseconds; a sleeping helper takes tens of
 * microseconds (more on a busy machine) to wake, so polling through the gaps keeps both cores on the
 * GEMMs. GEMMs are cut into chunks taken dynamically, so a helper that is late (descheduled on a busy
 * machine) only takes fewer chunks.
 */
const HELPER_SPIN = 0.3;
/** How long the main thread polls for DONE (~50 µs) before sleeping; the halves usually end together. */
const MAIN_SPIN = 10000;
/** A helper that does not answer within this time is presumed dead (it would otherwise hang us). */
const FINISH_TIMEOUT_MS = 30000;

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
  const words = new Int32Array(memory.buffer, ctl, 4);
  let seq = Atomics.load(words, CTL.SEQ);
  let disposed = false;
  const helper: Helper = {
    start() {
      // CLAIM = previous seq whether or not anyone claimed it (a share abandoned by an exception
      // would otherwise block every later claim); values only grow, so a stale helper still fails.
      Atomics.store(words, CTL.CLAIM, seq);
      seq = (seq + 1) | 0;
      Atomics.store(words, CTL.SEQ, seq);
      Atomics.notify(words, CTL.SEQ);
    },
    finish(helperShare) {
      const prev = (seq - 1) | 0;
      if (Atomics.compareExchange(words, CTL.CLAIM, prev, seq) === prev) {
        helperShare();
        return;
      }
      for (let n = 0; n < MAIN_SPIN; n++) if (Atomics.load(words, CTL.DONE) === seq) return;
      const deadline = Date.now() + FINISH_TIMEOUT_MS;
      while (Atomics.load(words, CTL.DONE) !== seq) {
        Atomics.wait(words, CTL.DONE, Atomics.load(words, CTL.DONE), 100);
        if (Date.now() > deadline) throw new Error('wasm backend: helper thread stopped responding');
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      Atomics.store(words, CTL.CMD, CMD.EXIT);
      helper.start();
      void worker.terminate();
    },
  };
  return helper;
}
