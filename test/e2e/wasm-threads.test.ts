// The wasm backend's two threads in a real browser: headless Chromium loads the compiled library
// (dist/) from pages served through Playwright routes with different isolation and CSP headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { CHROMIUM, ROOT, withChromium } from '../helpers/browser.js';
import { requires } from '../helpers/environment.js';

const DIST = join(ROOT, 'dist');
// localhost is a secure context, which cross-origin isolation requires; routes answer every request.
const ORIGIN = 'http://localhost:8977';

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};
const csp = (workerSrc: string): Record<string, string> => ({
  'Content-Security-Policy': `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src ${workerSrc}`,
});
/** Page name → response headers. */
const PAGES: Record<string, Record<string, string>> = {
  'isolated.html': { ...ISOLATION, ...csp("'self' blob:") },
  'strict-csp.html': { ...ISOLATION, ...csp("'self'") },
  'not-isolated.html': csp("'self' blob:"),
};

// Runs in the page: a 2-thread backend against a 1-thread one on a sparse and a dense product and
// on dropout (both halves of every split kernel), then reports what it got.
const PAGE_SCRIPT = `
import { createWasmBackend } from '/dist/backend/wasm/index.js';
globalThis.result = (async () => {
  try {
    const two = await createWasmBackend({ threads: 2 });
    const one = await createWasmBackend({ threads: 1 });
    let seed = 1;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const [m, n, k] = [256, 256, 256];
    const sparseA = Float32Array.from({ length: m * k }, () => (rnd() < 0.25 ? rnd() - 0.5 : 0));
    const denseA = Float32Array.from({ length: m * k }, () => rnd() - 0.5);
    const B = Float32Array.from({ length: n * k }, () => rnd() - 0.5);
    const outputs = [two, one].map((be) => {
      const r = [];
      for (const A of [sparseA, denseA]) {
        const a = be.alloc(m * k), b = be.alloc(n * k), c = be.alloc(m * n);
        be.write(a, A);
        be.write(b, B);
        be.matmul(a, b, c, m, n, k, false, true);
        r.push(Array.from(be.readSync(c, m * n)));
        be.dropout(a, { key: [3, 4], offset: 5 }, 0.5, c, m * k);
        r.push(Array.from(be.readSync(c, m * k)));
      }
      return r;
    });
    const identical = outputs[0].every((o, i) => o.every((v, j) => Object.is(v, outputs[1][i][j])));
    const threads = two.threads;
    two.dispose();
    return { threads, identical, isolated: globalThis.crossOriginIsolated };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
})();
`;

const { skip: skipReason } = !existsSync(CHROMIUM)
  ? requires(false, `${CHROMIUM} is missing (install Debian's chromium to run browser tests)`)
  : requires(existsSync(join(DIST, 'backend', 'wasm', 'index.js')), 'dist/ is not built (npm run build)');

test('wasm backend threads in Chromium', { skip: skipReason, timeout: 120_000 }, async (t) => {
  await withChromium(async (browser) => {
    const page = await browser.newPage();
    await page.route(`${ORIGIN}/**`, async (route) => {
      const path = new URL(route.request().url()).pathname.slice(1);
      const headers = PAGES[path];
      if (headers !== undefined) {
        await route.fulfill({
          contentType: 'text/html',
          headers,
          body: '<!doctype html><script type="module" src="/main.js"></script>',
        });
      } else if (path === 'main.js') {
        await route.fulfill({ contentType: 'text/javascript', body: PAGE_SCRIPT });
      } else if (path.startsWith('dist/') && !normalize(path).includes('..')) {
        await route.fulfill({ contentType: 'text/javascript', body: await readFile(join(ROOT, path)) });
      } else {
        await route.fulfill({ status: 404, body: '' });
      }
    });
    const run = async (name: string): Promise<Record<string, unknown>> => {
      await page.goto(`${ORIGIN}/${name}`);
      return (await page
        .waitForFunction(() => (globalThis as { result?: unknown }).result, null, {
          timeout: 60_000,
        })
        .then(() => page.evaluate(() => (globalThis as unknown as { result: unknown }).result))) as Record<
        string,
        unknown
      >;
    };

    await t.test('isolated page: a helper Web Worker, results identical to one thread', async () => {
      const r = await run('isolated.html');
      assert.deepEqual(r, { threads: 2, identical: true, isolated: true });
    });
    await t.test('not isolated: falls back to one thread', async () => {
      const r = await run('not-isolated.html');
      assert.deepEqual(r, { threads: 1, identical: true, isolated: false });
    });
    await t.test('a CSP without worker-src blob: is a clear error naming both fixes', async () => {
      const r = await run('strict-csp.html');
      assert.match(String(r['error']), /helper Web Worker did not start.*worker-src blob:.*threads: 1/);
    });
  });
});
