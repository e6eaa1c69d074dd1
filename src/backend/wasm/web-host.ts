/**
 * Browser host support: a helper thread on a Web Worker sharing the kernels' memory. Needs a
 * cross-origin isolated page or worker (COOP same-origin + COEP require-corp) for SharedArrayBuffer;
 * the worker runs from a Blob URL, so a Content-Security-Policy must allow `worker-src blob:`.
 * Loaded with a dynamic import only in browsers.
 */
import { controlHelper, HELPER_LOOP_SOURCE, HELPER_SPIN, type Helper } from './threads.js';

const WORKER_SOURCE = `
${HELPER_LOOP_SOURCE}
self.onmessage = (event) => {
  const { bytes, memory, ctl, spin } = event.data;
  self.postMessage('ready');
  helperLoop(bytes, memory, ctl, spin);
};
`;

/**
 * Starts one Web Worker that serves the control block at byte `ctl` of `memory` with the kernels in
 * `bytes`; resolves once it runs. On a page's main thread (where Atomics.wait is not allowed) the
 * wait for the helper polls instead of sleeping; in a worker it sleeps.
 */
export async function startWebHelper(
  bytes: Uint8Array,
  memory: WebAssembly.Memory,
  ctl: number,
): Promise<Helper> {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const failed = (why: string): Error =>
    new Error(
      `wasm backend: the helper Web Worker did not start (${why}); allow \`worker-src blob:\` in the ` +
        "page's Content-Security-Policy, or create the backend with threads: 1.",
    );
  let worker: Worker | undefined;
  try {
    worker = new Worker(url, { name: 'dropout-lab wasm helper' });
    const w = worker;
    await new Promise<void>((resolve, reject) => {
      w.onmessage = () => resolve();
      w.onerror = (e) => reject(failed(e.message));
      w.postMessage({ bytes, memory, ctl, spin: HELPER_SPIN });
    });
  } catch (err) {
    worker?.terminate();
    throw err instanceof Error && err.message.startsWith('wasm backend:') ? err : failed(String(err));
  } finally {
    URL.revokeObjectURL(url);
  }
  const onPage = typeof (globalThis as { document?: unknown }).document !== 'undefined';
  const started = worker;
  return controlHelper(memory, ctl, !onPage, () => started.terminate());
}
