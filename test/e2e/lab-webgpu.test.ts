// End to end on WebGPU: the browser lab in headless Chromium with its software adapter (SwiftShader,
// `--enable-unsafe-webgpu`). Without `?backend=` the library's rule passes the software adapter over
// for WebAssembly; with `?backend=webgpu` the lab trains on it, names it, draws exactly the dropout
// masks Node draws, and gets Node's losses on Node's WebGPU backend (Dawn on Mesa's lavapipe).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { CHROMIUM, launchLab, loadOfflineData } from '../helpers/browser.js';
import type { FashionMnistRaw } from '../../src/node/data/fashionMnistFiles.js';
import { NoiseRecorder } from '../../src/web/masks.js';
import { stepNoise } from '../../src/web/noiseSites.js';
import { VIEW_UNITS } from '../../src/web/protocol.js';
import { DropoutMLP, d2l, disposeBackend, manualSeed, setBackend } from '../../src/index.js';
import { createWebGPUBackend } from '../../src/backend/webgpu/index.js';

const CI = process.env['CI'] === 'true';

// Small, since a software adapter is slow: 8 steps of 32 examples, one epoch.
const RUN = { trainLimit: 256, valLimit: 128, epochs: 1, batchSize: 32, lr: 0.1, seed: 0, p: 0.5 };

/** The reason this test cannot run here, or false; in CI every missing piece is a failure instead. */
async function missing(): Promise<string | false> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (install Debian's chromium)`;
  try {
    disposeBackend(await createWebGPUBackend());
  } catch (err) {
    return `no WebGPU in Node (${(err as Error).message})`;
  }
  return false;
}

/** Fills the lab's form with RUN, records every network frame, starts and waits for the end. */
async function runInPage(page: Page): Promise<{ frames: string[]; trainLoss: number; engine: string }> {
  await page.selectOption('#model', 'dropout-mlp');
  await page.fill('#p1', String(RUN.p));
  await page.fill('#p2', String(RUN.p));
  await page.fill('#batch', String(RUN.batchSize));
  await page.fill('#lr', String(RUN.lr));
  await page.fill('#epochs', String(RUN.epochs));
  await page.fill('#seed', String(RUN.seed));
  await page.fill('#train-limit', String(RUN.trainLimit));
  await page.fill('#val-limit', String(RUN.valLimit));
  await page.fill('#gcount', '4');
  await page.fill('#gpasses', '2');
  await page.evaluate(() => {
    const svg = document.getElementById('network')!;
    const frames: string[] = [];
    (globalThis as unknown as { frames: string[] }).frames = frames;
    new MutationObserver(() => frames.push(`${svg.dataset['step']}:${svg.dataset['mask']}`)).observe(svg, {
      attributes: true,
      attributeFilter: ['data-step'],
    });
  });
  await page.click('#start');
  await page.waitForSelector('body[data-state="done"]', { timeout: 90_000 });
  const frames = await page.evaluate(() => (globalThis as unknown as { frames: string[] }).frames);
  const trainLoss = Number(await page.locator('#metrics tbody tr').first().getAttribute('data-train-loss'));
  const engine = (await page.locator('#engine').textContent()) ?? '';
  return { frames, trainLoss, engine };
}

/** The same run in Node on its WebGPU backend: the masks of every step (as the page draws them) and the loss. */
async function runInNode(data: FashionMnistRaw): Promise<{ frames: string[]; trainLoss: number }> {
  const gpu = await createWebGPUBackend();
  setBackend(gpu);
  const recorder = new NoiseRecorder();
  try {
    const dm = new d2l.FashionMNIST(data, {
      batchSize: RUN.batchSize,
      trainLimit: RUN.trainLimit,
      valLimit: RUN.valLimit,
    });
    manualSeed(RUN.seed);
    dm.shuffleGenerator.manualSeed(RUN.seed + 2 ** 32);
    const model = new DropoutMLP({ dropout1: RUN.p, dropout2: RUN.p, lr: RUN.lr });
    const frames: string[] = [];
    const trainer = new d2l.Trainer({
      maxEpochs: RUN.epochs,
      onStep: () => {
        const { hidden } = stepNoise(recorder.take(), VIEW_UNITS);
        const bits = [...hidden.keep[0], ...hidden.keep[1]].join('');
        frames.push(`${frames.length + 1}:${bits}`);
      },
    });
    const fit = await trainer.fit(model, dm);
    return { frames, trainLoss: fit.epochs[0]!.trainLoss };
  } finally {
    recorder.dispose();
    disposeBackend(gpu);
  }
}

const reason = await missing();
if (reason !== false && !CI) process.stdout.write(`# e2e-lab-webgpu skipped: ${reason}\n`);

test(
  'browser lab on WebGPU: the rule skips a software adapter; ?backend=webgpu trains on it like Node',
  { skip: reason !== false && !CI ? reason : false, timeout: 240_000 },
  async (t) => {
    assert.equal(reason, false, `CI=true needs every piece of this test: ${String(reason)}`);
    const data = await loadOfflineData();
    if (typeof data === 'string') {
      if (CI) assert.fail(`Fashion-MNIST is not available offline (${data})`);
      t.skip(`Fashion-MNIST is not available offline (${data})`);
      return;
    }
    await launchLab(
      data,
      async ({ browser, url }) => {
        const pageErrors: string[] = [];
        const open = async (query: string): Promise<Page> => {
          const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
          page.on('pageerror', (e) => pageErrors.push(e.message));
          page.on('console', (m) => {
            if (m.type() === 'error') pageErrors.push(m.text());
          });
          await page.goto(`${url}${query}`);
          return page;
        };

        // The page sees SwiftShader, a software adapter, so the rule picks WebAssembly.
        const auto = await open('');
        const adapter = await auto.evaluate(async () => {
          type Info = { info: { isFallbackAdapter?: boolean; architecture: string } };
          const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<Info | null> } }).gpu;
          const a = await gpu?.requestAdapter();
          return a === null || a === undefined
            ? null
            : { fallback: a.info.isFallbackAdapter, arch: a.info.architecture };
        });
        t.diagnostic(`Chromium's adapter: ${JSON.stringify(adapter)}`);
        assert.notEqual(adapter, null, '--enable-unsafe-webgpu gives Chromium a (software) adapter');
        const byRule = await runInPage(auto);
        assert.match(byRule.engine, /WebAssembly SIMD: wasm \((relaxed|simd)\)/, byRule.engine);
        await auto.close();

        const page = await open('?backend=webgpu');
        const onGpu = await runInPage(page);
        t.diagnostic(`engine: ${onGpu.engine}`);
        assert.match(onGpu.engine, /WebGPU: webgpu on .*swiftshader.*\(software adapter\)/i, onGpu.engine);
        const head = (await page.locator('#engine-head').textContent()) ?? '';
        assert.match(head, /WebGPU/, 'the header names the engine in use');

        const node = await runInNode(data);
        const steps = Math.ceil(RUN.trainLimit / RUN.batchSize) * RUN.epochs;
        assert.equal(onGpu.frames.length, steps, 'one network frame per step');
        assert.deepEqual(onGpu.frames, node.frames, "every step's masks are Node's, bit for bit");
        assert.deepEqual(byRule.frames, node.frames, 'and the wasm run draws the same masks');
        t.diagnostic(`train_loss: chromium webgpu ${onGpu.trainLoss}, node webgpu ${node.trainLoss}`);
        // Two GPUs (SwiftShader, lavapipe) round float32 sums in different orders: close, not equal.
        assert.ok(
          Math.abs(onGpu.trainLoss - node.trainLoss) <= 1e-4 * Math.max(1, Math.abs(node.trainLoss)),
          `train_loss ${onGpu.trainLoss} vs Node's ${node.trainLoss}`,
        );
        assert.deepEqual(pageErrors, []);
      },
      { webgpu: true },
    );
  },
);
