// Training-curve plots (src/node/plot.ts) and the atomic writer they use (src/node/atomicWrite.ts).
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeFileAtomic } from '../../../src/node/atomicWrite.js';
import { renderCurvesSvg, svgToPng, writePlots } from '../../../src/node/plot.js';
import type { MetricPoint } from '../../../src/node/plot.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A d2l-shaped run: train_loss twice per epoch, val_loss/val_acc once per epoch. */
function run(model: string, epochs = 5, offset = 0): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (let e = 1; e <= epochs; e++) {
    points.push({ model, metric: 'train_loss', epoch: e - 0.5, value: 1 / e + offset });
    points.push({ model, metric: 'train_loss', epoch: e, value: 0.9 / e + offset });
    points.push({ model, metric: 'val_loss', epoch: e, value: 1.1 / e + offset });
    points.push({ model, metric: 'val_acc', epoch: e, value: 0.6 + 0.05 * e - offset });
  }
  return points;
}

/** Width and height from a PNG's IHDR chunk (big-endian u32s at bytes 16 and 20). */
function pngSize(png: Buffer): { width: number; height: number } {
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dropout-lab-plot-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('renderCurvesSvg', () => {
  it('draws every series with a legend, axis titles and the title', async () => {
    const svg = await renderCurvesSvg(run('mlp'), { title: 'dropout MLP' });
    assert.ok(svg.startsWith('<svg'), 'an SVG document');
    for (const text of ['train_loss', 'val_loss', 'val_acc', 'epoch', 'metric', 'dropout MLP']) {
      assert.ok(svg.includes(`>${text}<`), `SVG has the text ${text}`);
    }
    // Three line paths (one per metric), drawn in d2l's matplotlib colours.
    for (const colour of ['#1f77b4', '#ff7f0e', '#2ca02c']) assert.ok(svg.includes(colour), colour);
    // A single model needs no model legend.
    assert.ok(!svg.includes('>model<'));
  });

  it('honours width and height as the SVG size', async () => {
    const svg = await renderCurvesSvg(run('mlp'), { width: 400, height: 250 });
    assert.match(svg, /<svg[^>]* width="400" height="250"/);
  });

  it('distinguishes two models by dash pattern and a model legend', async () => {
    const svg = await renderCurvesSvg([...run('dropout'), ...run('no-dropout', 5, 0.1)]);
    assert.ok(svg.includes('>model<'), 'model legend title');
    assert.ok(svg.includes('>dropout<') && svg.includes('>no-dropout<'), 'both model names');
    assert.ok(svg.includes('stroke-dasharray'), 'the second model is dashed');
  });

  it('drops non-finite values instead of failing', async () => {
    const points = run('mlp');
    points.push({ model: 'mlp', metric: 'train_loss', epoch: 5.5, value: Number.POSITIVE_INFINITY });
    points.push({ model: 'mlp', metric: 'val_loss', epoch: 6, value: Number.NaN });
    const svg = await renderCurvesSvg(points);
    assert.ok(!/Infinity|NaN/.test(svg));
  });

  it('rejects a non-positive size', async () => {
    await assert.rejects(renderCurvesSvg(run('mlp'), { width: 0 }), /width/);
  });
});

describe('svgToPng', () => {
  it('produces a PNG of the SVG size, or of the requested width', async () => {
    const svg = await renderCurvesSvg(run('mlp'), { width: 500, height: 300 });
    const png = await svgToPng(svg);
    assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
    assert.deepEqual(pngSize(png), { width: 500, height: 300 });
    const big = await svgToPng(svg, { width: 1000 });
    assert.deepEqual(pngSize(big), { width: 1000, height: 600 });
    // A blank white image compresses to well under 10 kB; text and curves do not.
    assert.ok(big.length > 20_000, `PNG of ${big.length} bytes looks blank`);
  });
});

describe('writePlots', () => {
  it('writes BASE.svg and BASE.png (creating the directory) and leaves no temp files', async () => {
    const out = join(dir, 'plots', 'nested');
    const { svgPath, pngPath } = await writePlots(out, 'compare', [...run('a'), ...run('b', 5, 0.1)], {
      title: 'a vs b',
    });
    assert.equal(svgPath, join(out, 'compare.svg'));
    assert.equal(pngPath, join(out, 'compare.png'));
    assert.ok((await readFile(svgPath, 'utf8')).includes('>a vs b<'));
    const png = await readFile(pngPath);
    assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
    assert.deepEqual(pngSize(png), { width: 1120, height: 720 }, 'PNG defaults to twice the SVG width');
    assert.deepEqual((await readdir(out)).sort(), ['compare.png', 'compare.svg']);
  });

  it('rejects a base name that is a path', async () => {
    await assert.rejects(writePlots(dir, '../escape', run('a')), /plain file name/);
    await assert.rejects(writePlots(dir, '', run('a')), /plain file name/);
  });
});

describe('writeFileAtomic', () => {
  it('writes and replaces a file, leaving only the target', async () => {
    const sub = await mkdtemp(join(dir, 'atomic-'));
    const target = join(sub, 'result.json');
    await writeFileAtomic(target, '{"v":1}');
    await writeFileAtomic(target, new Uint8Array([0x7b, 0x7d]));
    assert.equal(await readFile(target, 'utf8'), '{}');
    assert.deepEqual(await readdir(sub), ['result.json']);
  });

  it('throws and leaves nothing when the directory does not exist', async () => {
    const missing = join(dir, 'no-such-dir');
    await assert.rejects(writeFileAtomic(join(missing, 'x.txt'), 'data'), { code: 'ENOENT' });
    await assert.rejects(readdir(missing), { code: 'ENOENT' });
  });

  it('throws and leaves nothing when the parent is a file, not a directory', async () => {
    // Fails the same way for root and other users, unlike the permission test below.
    const sub = await mkdtemp(join(dir, 'notdir-'));
    await writeFile(join(sub, 'file'), 'x');
    await assert.rejects(writeFileAtomic(join(sub, 'file', 'x.txt'), 'data'), { code: 'ENOTDIR' });
    assert.deepEqual(await readdir(sub), ['file']);
  });

  it('throws and leaves nothing when the directory is not writable', async (t) => {
    // root ignores permission bits, so the failure cannot be provoked that way there.
    if (process.getuid?.() === 0) return t.skip('running as root: permission bits are not enforced');
    const ro = await mkdtemp(join(dir, 'readonly-'));
    await chmod(ro, 0o555);
    try {
      await assert.rejects(writeFileAtomic(join(ro, 'x.txt'), 'data'), { code: 'EACCES' });
      assert.deepEqual(await readdir(ro), []);
    } finally {
      await chmod(ro, 0o755);
    }
  });

  it('cleans up its temp file when the rename fails, leaving what was there', async () => {
    // Renaming a file over a non-empty directory fails after the temp file was fully written,
    // which exercises the cleanup path even as root.
    const sub = await mkdtemp(join(dir, 'rename-'));
    const target = join(sub, 'occupied');
    await writeFile(join(sub, 'keep.txt'), 'old');
    await mkdir(join(target, 'child'), { recursive: true });
    await assert.rejects(writeFileAtomic(target, 'new'));
    assert.deepEqual((await readdir(sub)).sort(), ['keep.txt', 'occupied']);
    assert.deepEqual(await readdir(target), ['child']);
  });
});
