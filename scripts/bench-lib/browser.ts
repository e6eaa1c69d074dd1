/**
 * A training step of the book's dropout MLP in headless Chromium next to the same step in Node: the
 * compiled library (dist/) runs in a module Web Worker of a cross-origin isolated page (served
 * through Playwright routes, as the lab serves it: COOP same-origin + COEP require-corp), on the wasm
 * backend with every thread the browser reports (navigator.hardwareConcurrency); Node runs the same
 * timing code on the same batches with the same thread count. The timing code is one JavaScript
 * source (STEP_TIMER_SOURCE), loaded in both, so the two figures differ only by the host.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ORIGIN = 'http://localhost:8978';
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * `timeSteps(lib, threads, images, labels, rows, warm, steps)`: builds the book's dropout MLP on a
 * wasm backend with `threads` threads, runs `warm` steps, then times `steps` steps over the batches
 * in `images`/`labels` (cycled) with d2l.trainStep (the Trainer's step: forward, loss, backward, SGD,
 * loss read back). `lib` is the dropout-lab module.
 */
export const STEP_TIMER_SOURCE = `
export async function timeSteps(lib, threads, images, labels, rows, warm, steps) {
  const backend = await lib.createBackend('wasm', { threads });
  lib.setBackend(backend);
  lib.manualSeed(0);
  const model = new lib.DropoutMLP({ numHiddens1: 256, numHiddens2: 256, dropout1: 0.5, dropout2: 0.5, lr: 0.1 });
  const batches = labels.length / rows;
  const batch = (i) => ({
    X: lib.tensor(images.subarray(i * rows * 784, (i + 1) * rows * 784), { shape: [rows, 1, 28, 28] }),
    y: lib.tensor(labels.subarray(i * rows, (i + 1) * rows), { shape: [rows] }),
  });
  const first = batch(0);
  lib.noGrad(() => lib.tidy(() => model.eval().forward(first.X)));
  first.X.dispose();
  first.y.dispose();
  model.train();
  const optim = model.configureOptimizers();
  const run = async (n, offset) => {
    for (let s = 0; s < n; s++) {
      const b = batch((s + offset) % batches);
      await lib.d2l.trainStep(model, optim, b);
      b.X.dispose();
      b.y.dispose();
    }
  };
  await run(warm, 0);
  const t0 = performance.now();
  await run(steps, warm);
  const ms = (performance.now() - t0) / steps;
  const info = { msPerStep: ms, threads: backend.threads, variant: backend.variant };
  lib.disposeBackend(backend);
  return info;
}
`;

/** One measurement of the step. */
export interface StepTime {
  readonly msPerStep: number;
  readonly threads: number;
  readonly variant: string;
}

type TimeSteps = (
  lib: unknown,
  threads: number,
  images: Float32Array,
  labels: Float32Array,
  rows: number,
  warm: number,
  steps: number,
) => Promise<StepTime>;

const WORKER_SCRIPT = `
import * as lib from '/dist/index.js';
import { timeSteps } from '/timer.js';
self.onmessage = async (e) => {
  const { rows, warm, steps } = e.data;
  try {
    const buf = await (await fetch('/batches.bin')).arrayBuffer();
    const n = buf.byteLength / 4 / 785;
    const images = new Float32Array(buf, 0, n * 784);
    const labels = new Float32Array(buf, n * 784 * 4, n);
    self.postMessage(await timeSteps(lib, navigator.hardwareConcurrency, images, labels, rows, warm, steps));
  } catch (err) {
    self.postMessage({ error: String(err && err.message ? err.message : err) });
  }
};
`;

const PAGE_SCRIPT = `
globalThis.run = (opts) => new Promise((resolve) => {
  const w = new Worker('/worker.js', { type: 'module' });
  w.onmessage = (e) => { w.terminate(); resolve({ ...e.data, isolated: globalThis.crossOriginIsolated }); };
  w.onerror = (e) => resolve({ error: e.message });
  w.postMessage(opts);
});
`;

/** The result of browserVsNode. */
export interface BrowserVsNode {
  readonly node: StepTime[];
  readonly chromium: StepTime[];
  readonly chromiumVersion: string;
  readonly rows: number;
  readonly steps: number;
}

/**
 * Times `steps` dropout-MLP steps (batch `rows`, after `warm` warm-up steps) alternately in Node and
 * in Chromium, `rounds` times each, on `images`/`labels` (float32, labels as numbers). Throws when
 * Chromium or dist/ is missing, or the page is not cross-origin isolated.
 */
export async function browserVsNode(
  images: Float32Array,
  labels: Float32Array,
  rows: number,
  warm: number,
  steps: number,
  rounds: number,
): Promise<BrowserVsNode> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (install Debian's chromium)`);
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is not built (npm run build)');
  const timerUrl = 'data:text/javascript,' + encodeURIComponent(STEP_TIMER_SOURCE);
  const { timeSteps } = (await import(timerUrl)) as { timeSteps: TimeSteps };
  const lib = await import('../../src/index.js');
  const blob = Buffer.concat([
    Buffer.from(images.buffer, images.byteOffset, images.byteLength),
    Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength),
  ]);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  const node: StepTime[] = [];
  const inBrowser: StepTime[] = [];
  try {
    const page = await browser.newPage();
    const bodies: Record<string, [string, string | Buffer]> = {
      'index.html': ['text/html', '<!doctype html><script type="module" src="/main.js"></script>'],
      'main.js': ['text/javascript', PAGE_SCRIPT],
      'worker.js': ['text/javascript', WORKER_SCRIPT],
      'timer.js': ['text/javascript', STEP_TIMER_SOURCE],
      'batches.bin': ['application/octet-stream', blob],
    };
    await page.route(`${ORIGIN}/**`, async (route) => {
      const path = new URL(route.request().url()).pathname.slice(1);
      const known = bodies[path];
      if (known !== undefined) {
        await route.fulfill({ contentType: known[0], headers: ISOLATION, body: known[1] });
      } else if (path.startsWith('dist/') && !normalize(path).includes('..')) {
        const body = await readFile(join(ROOT, path));
        await route.fulfill({ contentType: 'text/javascript', headers: ISOLATION, body });
      } else {
        await route.fulfill({ status: 404, headers: ISOLATION, body: '' });
      }
    });
    await page.goto(`${ORIGIN}/index.html`);
    await page.waitForFunction(() => typeof (globalThis as { run?: unknown }).run === 'function');
    for (let r = 0; r < rounds; r++) {
      const got = (await page.evaluate(
        (o) => (globalThis as unknown as { run: (o: unknown) => Promise<unknown> }).run(o),
        { rows, warm, steps },
      )) as Partial<StepTime> & { error?: string; isolated?: boolean };
      if (got.error !== undefined) throw new Error(`Chromium: ${got.error}`);
      if (got.isolated !== true) throw new Error('Chromium: the page is not cross-origin isolated');
      inBrowser.push({ msPerStep: got.msPerStep!, threads: got.threads!, variant: got.variant! });
      node.push(await timeSteps(lib, got.threads!, images, labels, rows, warm, steps));
    }
    return { node, chromium: inBrowser, chromiumVersion: browser.version(), rows, steps };
  } finally {
    await browser.close();
  }
}
