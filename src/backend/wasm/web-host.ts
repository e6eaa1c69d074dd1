/**
 * Browser host support: helper threads on Web Workers sharing the kernels' memory. Needs a
 * cross-origin isolated page or worker (COOP same-origin + COEP require-corp) for SharedArrayBuffer;
 * the worker runs from a Blob URL, so a Content-Security-Policy must allow `worker-src blob:`.
 * Loaded with a dynamic import only in browsers.
 */
import { controlPool, HELPER_LOOP_SOURCE, HELPER_SPIN, type ThreadPool } from './threads.js';

const WORKER_SOURCE = `
${HELPER_LOOP_SOURCE}
self.onmessage = (event) => {
  const { bytes, memory, ctl, threads, index, spin } = event.data;
  self.postMessage('ready');
  helperLoop(bytes, memory, ctl, threads, index, spin);
};
`;

/**
 * Starts `threads` − 1 Web Workers that serve the control block at byte `ctl` of `memory` with the
 * kernels in `bytes`; resolves once all run. On a page's main thread (where Atomics.wait is not
 * allowed) the wait for the helpers polls instead of sleeping; in a worker it sleeps.
 */
export async function startWebHelpers(
  bytes: Uint8Array,
  memory: WebAssembly.Memory,
  ctl: number,
  threads: number,
): Promise<ThreadPool> {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const failed = (why: string): Error =>
    new Error(
      `wasm backend: a helper Web Worker did not start (${why}); allow \`worker-src blob:\` in the ` +
        "page's Content-Security-Policy, or create the backend with threads: 1.",
    );
  const workers: Worker[] = [];
  const stop = (): void => workers.forEach((w) => w.terminate());
  try {
    for (let index = 1; index < threads; index++) {
      const w = new Worker(url, { name: `dropout-lab wasm helper ${index}` });
      workers.push(w);
    }
    await Promise.all(
      workers.map(
        (w, i) =>
          new Promise<void>((resolve, reject) => {
            w.onmessage = () => resolve();
            w.onerror = (e) => reject(failed(e.message));
            w.postMessage({ bytes, memory, ctl, threads, index: i + 1, spin: HELPER_SPIN });
          }),
      ),
    );
  } catch (err) {
    stop();
    throw err instanceof Error && err.message.startsWith('wasm backend:') ? err : failed(String(err));
  } finally {
    URL.revokeObjectURL(url);
  }
  const onPage = typeof (globalThis as { document?: unknown }).document !== 'undefined';
  return controlPool(memory, ctl, threads - 1, !onPage, stop);
}
