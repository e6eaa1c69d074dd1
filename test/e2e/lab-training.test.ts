// End to end: the browser lab in headless Chromium trains a model in a Web Worker, draws the curves and
// the dropout masks, and gets the same numbers as Node for the same seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, launchLab, loadOfflineData } from '../helpers/browser.js';
import { CI, requires } from '../helpers/environment.js';
import { createBackend } from '../../src/backend/select.js';
import { DropoutMLP, d2l, manualSeed, setBackend } from '../../src/index.js';

// The run both engines do: a small subset, two epochs, the dropout MLP with the book's p and lr.
const RUN = { trainLimit: 2000, valLimit: 500, epochs: 2, batchSize: 32, lr: 0.1, seed: 0, p: 0.5 };

const { skip: skipReason } = requires(
  existsSync(CHROMIUM),
  `${CHROMIUM} is missing (install Debian's chromium to run the browser lab test)`,
);

test(
  'browser lab: trains in a worker, curves and masks update, same numbers as Node',
  { skip: skipReason, timeout: 120_000 },
  async (t) => {
    const data = await loadOfflineData();
    if (typeof data === 'string') {
      // A data-loading bug must not turn into a skip in CI.
      assert.ok(!CI, `CI=true: Fashion-MNIST must load: ${data}`);
      t.skip(`Fashion-MNIST is not available offline (${data})`);
      return;
    }
    await launchLab(data, async ({ browser, url }) => {
      const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') pageErrors.push(m.text());
      });
      await page.goto(url);
      assert.equal(
        await page.evaluate(() => globalThis.crossOriginIsolated),
        true,
        'COOP/COEP make the page isolated',
      );
      assert.equal(await page.locator('#banner').isHidden(), true, 'no data-missing banner');

      // The quick check reacts to the p slider: p = 0 drops nothing, p = 1 everything.
      await page.locator('#qp').fill('0');
      assert.equal(await page.locator('#qtable').getAttribute('data-dropped'), '0');
      await page.locator('#qp').fill('1');
      assert.equal(await page.locator('#qtable').getAttribute('data-dropped'), '16');
      await page.locator('#qp').fill('0.5');
      assert.equal(await page.locator('#qtable td.cell').count(), 16);

      await page.selectOption('#model', 'dropout-mlp');
      await page.fill('#p1', String(RUN.p));
      await page.fill('#p2', String(RUN.p));
      await page.fill('#batch', String(RUN.batchSize));
      await page.fill('#lr', String(RUN.lr));
      await page.fill('#epochs', String(RUN.epochs));
      await page.fill('#seed', String(RUN.seed));
      await page.fill('#train-limit', String(RUN.trainLimit));
      await page.fill('#val-limit', String(RUN.valLimit));
      await page.fill('#gcount', '24');
      await page.fill('#gpasses', '20');
      // Record every frame of the network view (step number and mask string).
      await page.evaluate(() => {
        const svg = document.getElementById('network')!;
        const frames: string[] = [];
        (globalThis as unknown as { frames: string[] }).frames = frames;
        new MutationObserver(() => frames.push(`${svg.dataset['step']}:${svg.dataset['mask']}`)).observe(
          svg,
          {
            attributes: true,
            attributeFilter: ['data-step'],
          },
        );
      });
      await page.click('#start');
      // Pause holds the worker after the current step (the page stays responsive), Resume continues.
      await page.click('#pause');
      await page.waitForFunction(() => /paused/.test(document.getElementById('status')!.textContent ?? ''));
      const heldAt = await page.locator('#network').getAttribute('data-step');
      await page.waitForTimeout(400);
      assert.equal(await page.locator('#network').getAttribute('data-step'), heldAt, 'no steps while paused');
      assert.equal(await page.evaluate(() => 1 + 1), 2, 'the page answers while the worker is paused');
      await page.click('#pause');
      // The curves update while it trains: points appear before the run is over.
      await page.waitForFunction(() => Number(document.getElementById('chart')!.dataset['points'] ?? 0) > 0);
      await page.waitForSelector('body[data-state="done"]', { timeout: 60_000 });
      await page.waitForSelector('#gallery li', { timeout: 30_000 });
      // Isolated page, two cores, no GPU: wasm on two threads (this worker + a helper Web Worker).
      const engine = (await page.locator('#engine').textContent()) ?? '';
      assert.match(engine, /wasm \((relaxed|simd)\), 2 threads/, engine);

      const rows = await page.$$eval('#metrics tbody tr', (trs) =>
        trs.map((tr) => ({
          epoch: Number((tr as HTMLElement).dataset['epoch']),
          trainLoss: Number((tr as HTMLElement).dataset['trainLoss']),
          valAcc: Number((tr as HTMLElement).dataset['valAcc']),
          seconds: Number((tr as HTMLElement).dataset['seconds']),
        })),
      );
      assert.equal(rows.length, RUN.epochs);
      assert.ok(rows[1]!.valAcc > 0.6, `val_acc ${rows[1]!.valAcc} > 0.6`);
      assert.ok(rows[1]!.trainLoss < rows[0]!.trainLoss, 'train_loss falls');
      const points = Number(await page.locator('#chart').getAttribute('data-points'));
      assert.equal(points, RUN.epochs * 4, 'two train_loss points and one val_loss/val_acc point per epoch');
      assert.ok((await page.locator('#chart polyline').count()) >= 3);

      const frames = await page.evaluate(() => (globalThis as unknown as { frames: string[] }).frames);
      const stepsPerEpoch = Math.ceil(RUN.trainLimit / RUN.batchSize);
      assert.equal(frames.length, RUN.epochs * stepsPerEpoch, 'one network frame per step');
      const masks = frames.map((f) => f.split(':')[1]!);
      assert.ok(
        masks.every((m) => /^[01]{32}$/.test(m)),
        'masks of 2 × 16 units',
      );
      assert.ok(masks.some((m) => m.includes('0')) && masks.some((m) => m.includes('1')));
      const changes = masks.filter((m, i) => i > 0 && m !== masks[i - 1]).length;
      assert.ok(changes >= frames.length / 2, `the masks change between steps (${changes} changes)`);
      assert.ok(
        (await page.locator('#network circle.dropped').count()) > 0,
        'dropped units are drawn greyed',
      );

      const stds = await page.$$eval('#gallery li', (lis) =>
        lis.map((li) => Number((li as HTMLElement).dataset['std'])),
      );
      assert.equal(stds.length, 24);
      assert.ok(
        stds.some((s) => s > 0),
        'MC dropout passes disagree',
      );
      assert.deepEqual(
        stds,
        [...stds].sort((a, b) => b - a),
        'sorted by uncertainty',
      );

      const outDir = join(tmpdir(), 'dropout-lab-e2e');
      await mkdir(outDir, { recursive: true });
      const shot = join(outDir, 'lab.png');
      await page.screenshot({ path: shot, fullPage: true });
      t.diagnostic(`screenshot: ${shot}`);

      // Node, same library calls, same seed and subset: the same first-epoch train_loss.
      setBackend(await createBackend('wasm', { threads: 1 }));
      const dm = new d2l.FashionMNIST(data, {
        batchSize: RUN.batchSize,
        trainLimit: RUN.trainLimit,
        valLimit: RUN.valLimit,
      });
      manualSeed(RUN.seed);
      dm.shuffleGenerator.manualSeed(RUN.seed + 2 ** 32);
      const model = new DropoutMLP({ dropout1: RUN.p, dropout2: RUN.p, lr: RUN.lr });
      const fit = await new d2l.Trainer({ maxEpochs: RUN.epochs }).fit(model, dm);
      const node = fit.epochs;
      t.diagnostic(
        `train_loss epoch 1: chromium ${rows[0]!.trainLoss} node ${node[0]!.trainLoss}; ` +
          `s/epoch chromium ${rows.map((r) => r.seconds.toFixed(3)).join(', ')} node ${node.map((e) => e.epochSeconds.toFixed(3)).join(', ')}`,
      );
      assert.ok(
        Math.abs(rows[0]!.trainLoss - node[0]!.trainLoss) <= 1e-6,
        'first epoch train_loss matches Node',
      );
      assert.ok(Math.abs(rows[1]!.valAcc - node[1]!.valAcc) <= 1e-6, 'last val_acc matches Node');
      assert.deepEqual(pageErrors, []);
    });
  },
);
