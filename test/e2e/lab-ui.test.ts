// The browser lab as a teacher and a student use it, in headless Chromium: the settings round-trip
// through the address bar, invalid fields are marked beside themselves, a diverging run is marked
// without wrecking the axis, the exports download and parse, and the page fits 1440×900, 1024×768 and
// a 390×844 phone without sideways scrolling. With LAB_SCREENSHOTS=docs the screenshots of the three
// viewports and of dark mode are written to docs/ (the README shows them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { svgToPng } from '../../src/node/plot.js';
import type { Page } from 'playwright-core';
import { CHROMIUM, ROOT, launchLab, loadOfflineData } from '../helpers/browser.js';
import { Y_CAP } from '../../src/web/chart.js';
import { CHOICE_FIELDS, NUMBER_FIELDS } from '../../src/web/fields.js';

const CI = process.env['CI'] === 'true';

const skipReason =
  !existsSync(CHROMIUM) && !CI
    ? `skipped: ${CHROMIUM} is missing (install Debian's chromium to run the browser lab test)`
    : false;
if (skipReason) process.stdout.write(`# e2e-lab-ui ${skipReason}\n`);

/** Fills the run form (by URL key) and starts a run; resolves when it is done. */
async function runOnce(page: Page, settings: Record<string, string>): Promise<void> {
  for (const [key, value] of Object.entries(settings)) {
    if (key === 'model') await page.selectOption('select[name="model"]', value);
    else await page.fill(`input[name="${key}"]`, value);
  }
  const before = await page.locator('#runs tbody tr').count();
  await page.click('#start');
  try {
    await page.waitForFunction(
      (n) =>
        document.querySelectorAll('#runs tbody tr').length === n + 1 &&
        document.body.dataset['state'] === 'done',
      before,
      { timeout: 90_000 },
    );
  } catch (err) {
    throw new Error(`run did not finish; status: ${await page.textContent('#status')}`, { cause: err });
  }
}

/** The y coordinates of a polyline's points. */
async function polylineYs(page: Page, selector: string): Promise<number[]> {
  const pts = await page.locator(selector).first().getAttribute('points');
  return (pts ?? '').split(' ').map((p) => Number(p.split(',')[1]));
}

test(
  'browser lab UI: URL state, field errors, divergence, exports, three viewports, dark mode',
  { skip: skipReason, timeout: 300_000 },
  async (t) => {
    const data = await loadOfflineData();
    if (typeof data === 'string') {
      if (CI) assert.fail(`Fashion-MNIST is missing: ${data}`);
      t.skip(`Fashion-MNIST is not available offline (${data})`);
      return;
    }
    const shotDir =
      process.env['LAB_SCREENSHOTS'] === 'docs' ? join(ROOT, 'docs') : join(tmpdir(), 'dropout-lab-e2e-ui');
    await mkdir(shotDir, { recursive: true });
    await launchLab(data, async ({ browser, url }) => {
      const context = await browser.newContext({
        viewport: { width: 1440, height: 900 },
        acceptDownloads: true,
      });
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') pageErrors.push(m.text());
      });

      // --- URL state: a shared link fills the form; every input's name is its URL key (the CLI's). ---
      await page.goto(`${url}?model=dropout-mlp-scratch&dropout1=0.2&epochs=3`);
      assert.equal(await page.inputValue('#model'), 'dropout-mlp-scratch');
      assert.equal(await page.inputValue('#p1'), '0.2');
      assert.equal(await page.inputValue('#epochs'), '3');
      for (const f of NUMBER_FIELDS) {
        assert.equal(await page.getAttribute(`#${f.id}`, 'name'), f.key, `#${f.id} is named ${f.key}`);
      }
      await page.fill('input[name="seed"]', '7');
      await page.fill('input[name="train-limit"]', '1500');
      const query = new URLSearchParams(await page.evaluate(() => location.search));
      assert.equal(query.get('seed'), '7');
      assert.equal(query.get('train-limit'), '1500');
      assert.equal(query.get('dropout1'), '0.2');
      assert.deepEqual(
        [...query.keys()],
        ['model', ...NUMBER_FIELDS.map((f) => f.key), ...CHOICE_FIELDS.map((f) => f.key)],
        'every setting is in the address bar, under the CLI names',
      );
      await page.reload();
      assert.equal(await page.inputValue('#seed'), '7', 'round trip through a reload');
      assert.equal(await page.inputValue('#train-limit'), '1500');
      assert.equal(await page.inputValue('#model'), 'dropout-mlp-scratch');

      // --- The option table's choice rows are selects: named by URL key, the table's names, in the URL. ---
      for (const f of CHOICE_FIELDS) {
        assert.equal(await page.evaluate((id) => document.getElementById(id)?.tagName, f.id), 'SELECT');
        assert.equal(await page.getAttribute(`#${f.id}`, 'name'), f.key);
        assert.deepEqual(
          await page
            .locator(`#${f.id} option`)
            .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
          [...f.choices],
        );
        assert.equal(await page.inputValue(`#${f.id}`), f.defaultValue);
      }
      // They sit folded under one summary (the form stays one screen tall); a click shows them.
      assert.equal(await page.isVisible('#drop-mode'), false);
      await page.click('.more-fields summary');
      await page.selectOption('select[name="drop-mode"]', 'late');
      assert.equal(new URLSearchParams(await page.evaluate(() => location.search)).get('drop-mode'), 'late');
      const shared = page.url();
      // A link with a name the select lacks keeps the default and marks it; valid names fill the form.
      await page.goto(
        `${url}?model=cnn-dropout&variant=gaussian&drop-mode=early&cutoff-epoch=1&drop-schedule=zigzag`,
      );
      assert.equal(await page.inputValue('#variant'), 'gaussian');
      assert.equal(await page.inputValue('#drop-mode'), 'early');
      assert.equal(await page.inputValue('#cutoff-epoch'), '1');
      assert.equal(await page.inputValue('#drop-schedule'), 'constant');
      assert.equal(await page.getAttribute('#drop-schedule', 'aria-invalid'), 'true');
      assert.match(
        (await page.textContent('#drop-schedule-err')) ?? '',
        /Drop schedule must be one of constant, linear; got 'zigzag'/,
      );
      // What the model refuses is refused at Start, in one line, before any run (checkRun).
      await page.click('#start');
      assert.match(
        (await page.textContent('#status')) ?? '',
        /drop mode early schedules nn\.Dropout's p only; use variant bernoulli/,
      );
      await page.selectOption('#variant', 'bernoulli');
      await page.click('#start');
      assert.match(
        (await page.textContent('#status')) ?? '',
        /drop mode early schedules nn\.Dropout only, not cnn-dropout's spatial dropout/,
      );
      assert.equal(await page.locator('#runs tbody tr').count(), 0, 'no run started');
      await page.goto(shared);
      assert.equal(await page.inputValue('#drop-mode'), 'late', 'the choice came back from the link');
      assert.equal(await page.isVisible('#drop-mode'), true, 'a link that sets a folded field unfolds it');
      await page.selectOption('#drop-mode', 'standard');
      await page.click('.more-fields summary');
      assert.equal(await page.isVisible('#drop-mode'), false);

      // Arrow keys step on the grid: 0.1 → 0.11 (not 0.1001), 60000 → 59999 (not 59501).
      await page.fill('#lr', '0.1');
      await page.focus('#lr');
      await page.keyboard.press('ArrowUp');
      assert.equal(await page.inputValue('#lr'), '0.11');
      await page.fill('#train-limit', '60000');
      await page.focus('#train-limit');
      await page.keyboard.press('ArrowDown');
      assert.equal(await page.inputValue('#train-limit'), '59999');

      // --- Every invalid field is marked beside itself; fixed fields lose aria-invalid. ---
      await page.fill('#batch', '0');
      await page.fill('#lr', '');
      await page.click('#start');
      assert.match((await page.textContent('#status')) ?? '', /2 fields need fixing/);
      assert.equal(await page.getAttribute('#batch', 'aria-invalid'), 'true');
      assert.equal(await page.getAttribute('#lr', 'aria-invalid'), 'true');
      assert.equal(await page.isVisible('#batch-err'), true);
      assert.match((await page.textContent('#lr-err')) ?? '', /Learning rate must be a number in \(0, 100\]/);
      await page.fill('#batch', '64');
      await page.fill('#lr', '0.1');
      assert.equal(await page.getAttribute('#batch', 'aria-invalid'), 'false');
      assert.equal(await page.isVisible('#batch-err'), false);

      // An invalid gallery field does not block a run; its message sits beside the gallery.
      await page.fill('#gcount', '0');
      assert.equal(await page.isVisible('#gcount-err'), true);
      const small = {
        model: 'dropout-mlp',
        'train-limit': '1024',
        'val-limit': '256',
        epochs: '2',
        'batch-size': '64',
      };
      await runOnce(page, { ...small, lr: '0.1' });
      assert.equal(await page.locator('#gallery li').count(), 0, 'no gallery while its field is invalid');
      assert.equal(await page.isDisabled('#grun'), true);
      // Recompute comes back once the field is fixed.
      await page.fill('#gcount', '8');
      assert.equal(await page.isDisabled('#grun'), false, 'Recompute enabled again after the fix');
      await page.click('#grun');
      await page.waitForFunction(() => document.querySelectorAll('#gallery li').length === 8, undefined, {
        timeout: 30_000,
      });
      assert.match((await page.textContent('#gnote')) ?? '', /^Run #1 /, 'the gallery names its run');
      assert.match(
        (await page.textContent('#gacc')) ?? '',
        /weight scaling \(eval\(\)\) [\d.]+% correct, MC average/,
      );
      await page.click('#gallery li button >> nth=0');
      assert.equal(await page.locator('#gdetail tbody tr').count(), 10, 'all 10 classes of the chosen image');

      // --- A diverging run: marked, and the axis keeps the other run readable. ---
      const before = await polylineYs(page, '#chart polyline[data-run="1"][data-metric="val_acc"]');
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.fill('#lr', '50');
      await page.check('#slow'); // 400 ms per step: time to look at the running page
      await page.click('#start');
      // While it trains the settings are locked and say so (edits would not apply to this run).
      assert.equal(await page.isDisabled('#lr'), true, 'settings locked during a run');
      assert.match((await page.textContent('#locked')) ?? '', /settings of run #2/);
      await page.uncheck('#slow');
      await page.waitForFunction(() => document.body.dataset['state'] === 'done', undefined, {
        timeout: 90_000,
      });
      assert.equal(await page.evaluate(() => window.scrollY), 0, 'the page does not scroll by itself');
      assert.notEqual(await page.evaluate(() => document.activeElement?.tagName), 'BODY', 'focus kept');
      assert.equal(await page.locator('#runs tr[data-diverged]').count(), 1, 'run 2 is marked diverged');
      assert.match((await page.textContent('#runs tr[data-run="2"] .state')) ?? '', /diverged/);
      assert.match((await page.textContent('#banner')) ?? '', /Run #2 diverged/);
      assert.ok((await page.locator('#chart .offscale').count()) > 0, 'off-scale values marked with ▲');
      const yMax = Number(await page.getAttribute('#chart', 'data-ymax'));
      assert.ok(yMax <= Y_CAP, `y-axis ends at ${yMax} ≤ ${Y_CAP}`);
      const after = await polylineYs(page, '#chart polyline[data-run="1"][data-metric="val_acc"]');
      const span = (ys: number[]): number => Math.max(...ys) - Math.min(...ys);
      t.diagnostic(
        `run 1 val_acc spans ${span(before).toFixed(1)} px alone, ${span(after).toFixed(1)} px beside run 2`,
      );
      assert.equal(after.length, before.length);
      const cells = await page.locator('#runs td, #metrics td').allTextContents();
      assert.ok(
        cells.every((c) => !/\d{9,}/.test(c)),
        `no 19-digit numbers in the tables: ${cells.join(' | ')}`,
      );
      assert.ok(Math.abs(span(after) - span(before)) < 0.5, 'run 1 keeps its scale beside the diverged run');
      const ticks = await page.locator('#chart .tick').allTextContents();
      assert.ok(
        ticks.every((s) => s.length <= 5),
        `tick labels fit: ${ticks.join(' ')}`,
      );
      // Hide a run and a metric.
      await page.uncheck('#runs tr[data-run="2"] input[type="checkbox"]');
      assert.equal(await page.locator('#chart polyline[data-run="2"]').count(), 0);
      await page.uncheck('#metric-toggles input[data-metric="train_loss"]');
      assert.equal(await page.locator('#chart polyline[data-metric="train_loss"]').count(), 0);
      await page.check('#metric-toggles input[data-metric="train_loss"]');
      await page.check('#runs tr[data-run="2"] input[type="checkbox"]');
      // The settings stay with the run: the form is unlocked again and equals run 2's settings.
      assert.equal(await page.isDisabled('#lr'), false);
      assert.equal(await page.inputValue('#lr'), '50');

      // --- Exports: download each and parse it. ---
      const grab = async (button: string): Promise<Buffer> => {
        const [dl] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
        return readFileSync((await dl.path())!);
      };
      const csv = (await grab('#export-csv')).toString('utf8').trim().split('\n');
      assert.equal(
        csv[0],
        'run,model,variant,dropout1,dropout2,batch_size,lr,momentum,weight_decay,drop_mode,drop_schedule,cutoff_epoch,rdrop_alpha,epochs,seed,train_limit,val_limit,' +
          'epoch,train_loss,val_loss,val_acc,epoch_seconds,samples_per_second',
      );
      const valAcc = csv[0]!.split(',').indexOf('val_acc');
      const epochRows = await page.locator('#metrics tbody tr').count();
      assert.ok(epochRows >= 2);
      assert.equal(csv.length, 1 + epochRows, 'one line per run and epoch');
      const row1 = csv[2]!.split(',');
      assert.equal(row1[0], '1');
      assert.ok(Number(row1[valAcc]) > 0.3 && Number(row1[valAcc]) <= 1, `val_acc ${row1[valAcc]}`);
      const jsonl = (await grab('#export-jsonl'))
        .toString('utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(jsonl.length, epochRows);
      for (const e of jsonl) {
        for (const k of [
          'event',
          'model',
          'epoch',
          'train_loss',
          'val_loss',
          'val_acc',
          'epoch_seconds',
          'samples_per_second',
          'run',
        ]) {
          assert.ok(k in e, `JSON line has ${k}`);
        }
      }
      assert.equal(jsonl[0]!['event'], 'epoch');
      const png = await grab('#export-png');
      assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'a PNG signature');
      const chartWidth = Number(await page.getAttribute('#chart', 'width'));
      assert.equal(png.readUInt32BE(16), chartWidth * 2, 'PNG at twice the chart width');
      const svg = (await grab('#export-svg')).toString('utf8');
      assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.ok((svg.match(/<polyline/g) ?? []).length >= 4, 'both runs, three metrics');
      assert.doesNotMatch(svg, /class="/, 'styles inlined');
      // resvg (the CLI's renderer, in WebAssembly) at the SVG's own size; a PNG's width is at byte 16.
      const rendered = await svgToPng(svg);
      assert.equal(rendered.readUInt32BE(16), chartWidth, 'the SVG renders standalone');

      // --- The ensemble strip and the quick check's average. ---
      assert.ok((await page.locator('#ensemble li svg').count()) > 0, 'thinned subnetworks shown');
      await page.fill('#qp', '0.5');
      await page.selectOption('#qdraws', '1000');
      const means = (await page.locator('#qtable td.mcell').allTextContents()).map(Number);
      assert.equal(means.length, 16);
      means.forEach((m, x) =>
        assert.ok(Math.abs(m - x) < 0.12 * Math.max(1, x) + 0.3, `mean of X[${x}] ≈ ${x}: ${m}`),
      );

      // --- Three viewports: no sideways scrolling; the chart and network ≥ 300 px on the phone. ---
      const viewports = [
        { name: 'lab-1440x900', width: 1440, height: 900 },
        { name: 'lab-1024x768', width: 1024, height: 768 },
        { name: 'lab-390x844', width: 390, height: 844 },
      ];
      for (const v of viewports) {
        await page.setViewportSize({ width: v.width, height: v.height });
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        const dims = await page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
          chart: document.getElementById('chart')!.getBoundingClientRect().width,
          network: document.getElementById('network')!.getBoundingClientRect().width,
          tick: getComputedStyle(document.querySelector('#chart .tick')!).fontSize,
          // What sticks out, outside any scrolling box (for the failure message).
          wide: Array.from(document.querySelectorAll('body *'))
            .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
            .filter((e) => !e.parentElement?.closest('.table-wrap, .table-scroll'))
            .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.getAttribute('class') ?? ''}`)
            .slice(0, 8),
        }));
        t.diagnostic(
          `${v.name}: scrollWidth ${dims.scroll}, chart ${dims.chart} px, network ${dims.network} px, ticks ${dims.tick}`,
        );
        assert.ok(
          dims.scroll <= dims.client,
          `${v.name}: no horizontal scrolling (${dims.scroll} > ${dims.client}: ${dims.wide.join(', ')})`,
        );
        assert.ok(
          dims.chart >= 300 && dims.network >= 300,
          `${v.name}: chart ${dims.chart}, network ${dims.network}`,
        );
        assert.equal(
          Number(await page.getAttribute('#chart', 'width')),
          Math.round(dims.chart),
          'drawn at shown width',
        );
        // The phone shot shows the curves (the top of the page is the form); the others the top.
        if (v.width < 760) await page.locator('#curves').scrollIntoViewIfNeeded();
        else await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: join(shotDir, `${v.name}.png`) });
      }
      await page.setViewportSize({ width: 1440, height: 900 });
      await page.emulateMedia({ colorScheme: 'dark' });
      const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
      assert.equal(bg, 'rgb(13, 17, 23)', 'dark theme follows the system preference');
      await page.screenshot({ path: join(shotDir, 'lab-dark.png') });
      await page.emulateMedia({ colorScheme: 'light' });
      t.diagnostic(`screenshots in ${shotDir}`);

      // --- Reset asks first; dismissing keeps the runs. ---
      page.once('dialog', (d) => void d.dismiss());
      await page.click('#reset');
      assert.equal(await page.locator('#runs tbody tr').count(), 2, 'dismissed: runs kept');
      page.once('dialog', (d) => void d.accept());
      await page.click('#reset');
      assert.equal(await page.locator('#runs tbody tr').count(), 0, 'accepted: runs discarded');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'start', 'focus on Start');

      // --- Where the noise fell: a CNN with DropBlock shows its maps' blocks and its head's units. ---
      await runOnce(page, { ...small, model: 'cnn-dropblock', 'train-limit': '256', epochs: '1', lr: '0.1' });
      const kinds = await page
        .locator('#sites li')
        .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset['kind']));
      assert.deepEqual(kinds, ['blocks', 'blocks', 'units', 'units'], 'two DropBlock sites, then the head');
      assert.ok((await page.locator('#sites li[data-kind="blocks"] rect.block').count()) > 0, 'blocks drawn');
      assert.match(
        (await page.textContent('#sites li >> nth=0')) ?? '',
        /DropBlock 3×3 on \[64, 6, 14, 14\]/,
      );

      // --- A model's own defaults fill the form: the ViT's AdamW rate and 0.1 dropout, and back. ---
      await page.selectOption('#model', 'vit-dropout');
      assert.equal(await page.inputValue('#lr'), '0.001', "the ViT's AdamW learning rate");
      assert.equal(await page.inputValue('#p1'), '0.1', 'the Transformer rate');
      // p₁ and p₂ are labelled with what they are in this model (the registry's words).
      assert.match(
        (await page.textContent('#p1-label')) ?? '',
        /^p₁: dropout on the attention probabilities/,
      );
      assert.match((await page.textContent('#p2-label')) ?? '', /^p₂: DropPath/);
      await page.selectOption('#model', 'vit');
      assert.equal(await page.isDisabled('#p1'), true, 'a ViT without dropout has no p₁');
      assert.match((await page.textContent('#p1-label')) ?? '', /^p₁ \(not used by vit\)$/);
      await page.selectOption('#model', 'dropout-mlp');
      assert.match((await page.textContent('#p1-label')) ?? '', /^p₁: dropout after hidden layer 1$/);
      assert.equal(await page.inputValue('#lr'), '0.1', "back to the book's SGD rate");
      assert.equal(await page.inputValue('#p1'), '0.5');
      // The ViT's draws: attention probabilities by head, residual dropout by position, DropPath.
      await runOnce(page, { ...small, model: 'vit-dropout', 'train-limit': '128', epochs: '1' });
      const vitKinds = new Set(
        await page
          .locator('#sites li')
          .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset['kind'])),
      );
      assert.deepEqual(
        [...vitKinds].sort(),
        ['groups', 'path'],
        'head/position shares and residual branches',
      );
      assert.match((await page.textContent('#sites')) ?? '', /dropped, by head/);
      // A link that names only the model gets the model's defaults too.
      await page.goto(`${url}?model=vit-dropout&epochs=2`);
      assert.equal(await page.inputValue('#lr'), '0.001');
      assert.equal(await page.inputValue('#p2'), '0.1');
      assert.equal(await page.inputValue('#epochs'), '2');

      assert.deepEqual(pageErrors, [], 'no console errors');
    });
  },
);
