/**
 * Chart builders for the experiments, in the style of src/node/plot.ts (vega-lite → vega SVG → resvg
 * PNG): mean curves with ± std bands or error bars, a heatmap for 2-D grids, a reliability diagram,
 * and a grid of 28×28 thumbnails drawn as plain SVG.
 */
import { mkdirs } from './mkdirs.js';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFilesAtomic } from './atomicWrite.js';
import { svgToPng } from './plot.js';

/** One point of a mean ± std series. */
export interface BandPoint {
  readonly series: string;
  readonly x: number;
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
}

const CONFIG = {
  font: 'sans-serif',
  view: { stroke: '#444' },
  axis: { grid: true, gridOpacity: 0.5, labelFontSize: 11, titleFontSize: 12 },
  // Titles left-aligned and legends below the plot, so long labels never crop the chart.
  title: { anchor: 'start', fontSize: 13 },
  legend: { labelFontSize: 11, titleFontSize: 11, labelLimit: 480, orient: 'bottom', direction: 'vertical' },
};

function frame(title: string, width: number, height: number): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width,
    height,
    autosize: { type: 'fit', contains: 'padding' },
    background: 'white',
    config: CONFIG,
  };
}

/**
 * Mean lines with a ± std band ('band', for dense x such as epochs or MC samples) or error bars
 * ('errorbar', for a few swept values); colour = series. `xLog` puts x on a log scale (Fig. 10).
 */
export function bandChart(
  points: readonly BandPoint[],
  opts: { title: string; xTitle: string; yTitle: string; style?: 'band' | 'errorbar'; xLog?: boolean },
): TopLevelSpec {
  const values = points.filter((p) => [p.x, p.mean, p.lo, p.hi].every(Number.isFinite));
  const x = {
    field: 'x',
    type: 'quantitative',
    title: opts.xTitle,
    scale: opts.xLog ? { type: 'log' } : { nice: false, zero: false },
  };
  const y = { field: 'mean', type: 'quantitative', title: opts.yTitle, scale: { zero: false } };
  const color = { field: 'series', type: 'nominal', title: null };
  const spread =
    opts.style === 'errorbar'
      ? {
          mark: { type: 'rule', strokeWidth: 1.5 },
          encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color },
        }
      : {
          mark: { type: 'area', opacity: 0.2 },
          encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color },
        };
  return {
    ...frame(opts.title, 620, 380),
    data: { values },
    layer: [
      spread,
      { mark: { type: 'line', strokeWidth: 1.75 }, encoding: { x, y, color } },
      ...(opts.style === 'errorbar'
        ? [{ mark: { type: 'point', filled: true, size: 40 }, encoding: { x, y, color } }]
        : []),
    ],
  } as TopLevelSpec;
}

/** A heatmap of `value` over two nominal axes with the formatted value written in each cell. */
export function heatmap(
  cells: readonly { x: string; y: string; value: number; label: string }[],
  opts: { title: string; xTitle: string; yTitle: string; valueTitle: string },
): TopLevelSpec {
  const x = { field: 'x', type: 'ordinal', title: opts.xTitle, axis: { labelAngle: 0 } };
  const y = { field: 'y', type: 'ordinal', title: opts.yTitle, sort: 'descending' };
  return {
    ...frame(opts.title, 520, 400),
    // A colour bar beside the grid, and no grid lines across the cells.
    config: {
      ...CONFIG,
      axis: { ...CONFIG.axis, grid: false },
      legend: { ...CONFIG.legend, orient: 'right' },
    },
    data: { values: cells },
    layer: [
      {
        mark: 'rect',
        encoding: {
          x,
          y,
          color: {
            field: 'value',
            type: 'quantitative',
            title: opts.valueTitle,
            scale: { scheme: 'viridis' },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          x,
          y,
          text: { field: 'label' },
          color: {
            condition: { test: 'datum.value < ' + median(cells.map((c) => c.value)), value: 'white' },
            value: 'black',
          },
        },
      },
    ],
  } as TopLevelSpec;
}

function median(v: number[]): number {
  const s = [...v].filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
}

/** Reliability diagram: accuracy against mean confidence per bin, one line per method, and the diagonal. */
export function reliabilityChart(
  bins: readonly { series: string; confidence: number; accuracy: number; count: number }[],
  title: string,
): TopLevelSpec {
  const values = bins.filter((b) => b.count > 0);
  const axis = (field: string, t: string) => ({
    field,
    type: 'quantitative',
    title: t,
    scale: { domain: [0, 1] },
  });
  return {
    ...frame(title, 480, 440),
    layer: [
      {
        data: { values: [{ a: 0 }, { a: 1 }] },
        mark: { type: 'line', color: '#999', strokeDash: [4, 4] },
        encoding: { x: axis('a', 'confidence'), y: axis('a', 'accuracy') },
      },
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: axis('confidence', 'confidence (mean max probability in bin)'),
          y: axis('accuracy', 'accuracy'),
          color: { field: 'series', type: 'nominal', title: null },
        },
      },
    ],
  } as TopLevelSpec;
}

/** Compiles and renders a vega-lite spec to an SVG string, headless. */
export async function renderSpec(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes DIR/BASE.svg and DIR/BASE.png (twice the width) atomically; returns the SVG path. */
export async function writeSvgPng(dir: string, base: string, svg: string): Promise<string> {
  const width = Number(/width="(\d+(?:\.\d+)?)"/.exec(svg)?.[1] ?? 600);
  const png = await svgToPng(svg, { width: 2 * width });
  await mkdirs(dir);
  // Both or neither: a full disk must not leave a new SVG beside a stale PNG.
  await writeFilesAtomic([
    { path: join(dir, `${base}.svg`), data: svg },
    { path: join(dir, `${base}.png`), data: png },
  ]);
  return join(dir, `${base}.svg`);
}

/** Renders a vega-lite spec to DIR/BASE.svg and .png. */
export async function writeChart(dir: string, base: string, spec: TopLevelSpec): Promise<string> {
  return writeSvgPng(dir, base, await renderSpec(spec));
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/**
 * A grid of 28×28 grayscale thumbnails (one <rect> per non-background pixel, ink dark on white, as
 * d2l shows Fashion-MNIST), one titled row per group, each image captioned.
 */
export function thumbnailGridSvg(
  rows: readonly { title: string; images: readonly { pixels: readonly number[]; caption: string }[] }[],
  opts: { title: string; scale?: number },
): string {
  const s = opts.scale ?? 3;
  const cell = 28 * s;
  const gap = 12;
  const colW = Math.max(cell, 120) + gap;
  const rowH = cell + 62;
  const cols = Math.max(1, ...rows.map((r) => r.images.length));
  const width = cols * colW + gap;
  const height = 40 + rows.length * (rowH + 24);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${gap}" y="24" font-size="16" font-weight="bold">${escapeXml(opts.title)}</text>`,
  ];
  rows.forEach((row, r) => {
    const top = 40 + r * (rowH + 24);
    parts.push(`<text x="${gap}" y="${top + 14}" font-size="13">${escapeXml(row.title)}</text>`);
    row.images.forEach((img, c) => {
      const x0 = gap + c * colW;
      const y0 = top + 22;
      parts.push(
        `<g transform="translate(${x0},${y0})"><rect width="${cell}" height="${cell}" fill="white" stroke="#bbb"/>`,
      );
      for (let i = 0; i < 784; i++) {
        const v = img.pixels[i]!;
        if (v === 0) continue;
        const g = 255 - v;
        parts.push(
          `<rect x="${(i % 28) * s}" y="${Math.floor(i / 28) * s}" width="${s}" height="${s}" fill="rgb(${g},${g},${g})"/>`,
        );
      }
      parts.push('</g>');
      // One text line per caption line, so long class names do not run into the next image.
      img.caption.split('\n').forEach((line, k) => {
        parts.push(`<text x="${x0}" y="${y0 + cell + 14 + 13 * k}" font-size="11">${escapeXml(line)}</text>`);
      });
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}
