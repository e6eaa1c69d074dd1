/**
 * The training-curve plots d2l's ProgressBoard draws (train_loss, val_loss, val_acc against epoch),
 * rendered headless: vega-lite compiles the chart, vega renders it to SVG with no DOM or canvas, and
 * resvg (compiled to WebAssembly, so no native binary) rasterises the SVG to PNG.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { initWasm, Resvg } from '@resvg/resvg-wasm';
import type { ResvgRenderOptions } from '@resvg/resvg-wasm';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { ArgumentError } from '../errors.js';
import { mkdirs } from './mkdirs.js';
import { writeFilesAtomic, type FileToWrite } from './atomicWrite.js';

/** The metrics the board plots, in legend order (the order d2l's board adds them). */
export const METRICS = ['train_loss', 'val_loss', 'val_acc'] as const;

/** One point of one curve: `epoch` is fractional for train_loss (e.g. 0.5, 1.0), whole for the val series. */
export interface MetricPoint {
  model: string;
  metric: 'train_loss' | 'val_loss' | 'val_acc';
  epoch: number;
  value: number;
}

/** Chart options: `width`/`height` are the whole SVG's size in pixels (legend and axes included). */
export interface PlotOptions {
  title?: string;
  width?: number;
  height?: number;
}

/** Options of {@link writePlots}: the chart options plus the PNG's pixel width (default twice the SVG width, for crisp text). */
export interface WritePlotsOptions extends PlotOptions {
  pngWidth?: number;
}

/** Result of {@link writePlots}: where the two files went. */
export interface PlotPaths {
  svgPath: string;
  pngPath: string;
}

// matplotlib's default cycle (C0, C1, C2) and d2l's line styles ('-', '--', '-.'), so the plots look
// like the book's figures: each metric has its own colour.
const METRIC_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c'];
// Models are told apart by dash pattern; colour stays tied to the metric.
const MODEL_DASHES = [
  [1, 0],
  [6, 4],
  [2, 2],
  [8, 3, 2, 3],
  [12, 4],
];

const DEFAULT_WIDTH = 560;
const DEFAULT_HEIGHT = 360;

/** Renders the training curves as an SVG string: x = epoch, y = value, colour = metric, dash = model when several models are given. */
export async function renderCurvesSvg(points: MetricPoint[], opts: PlotOptions = {}): Promise<string> {
  const width = positiveSize(opts.width ?? DEFAULT_WIDTH, 'width');
  const height = positiveSize(opts.height ?? DEFAULT_HEIGHT, 'height');
  // A diverged run logs NaN/Infinity; Infinity would blow up the y scale and NaN would end up as a
  // gap anyway, so drop non-finite points instead of failing the whole plot.
  const values = points
    .filter((p) => Number.isFinite(p.epoch) && Number.isFinite(p.value))
    .map((p) => ({ model: p.model, metric: p.metric, epoch: p.epoch, value: p.value }));
  const models = [...new Set(values.map((p) => p.model))];
  const metrics = METRICS.filter((m) => values.some((p) => p.metric === m));
  const multiModel = models.length > 1;

  const color = {
    field: 'metric',
    type: 'nominal',
    title: 'metric',
    // Fixed domain so a metric keeps its colour whichever subset of series is present.
    scale: { domain: [...METRICS], range: METRIC_COLORS },
    sort: [...METRICS],
  } as const;
  const modelScale = (range: unknown[]) => ({ domain: models, range: cycle(range, models.length) });
  const strokeDash = multiModel
    ? { strokeDash: { field: 'model', type: 'nominal', title: 'model', scale: modelScale(MODEL_DASHES) } }
    : {};
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { nice: false } } as const;
  const y = { field: 'value', type: 'quantitative', title: yTitle(metrics) } as const;

  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title !== undefined && opts.title !== '' ? { title: opts.title } : {}),
    width,
    height,
    // 'fit' makes width/height the size of the whole SVG, which is what a caller sizing an image means.
    autosize: { type: 'fit', contains: 'padding' },
    background: 'white',
    data: { values },
    layer: [
      { mark: { type: 'line', strokeWidth: 1.75 }, encoding: { x, y, color, ...strokeDash } },
      {
        // d2l marks the once-per-epoch validation points; train_loss is logged too densely for markers.
        transform: [{ filter: "datum.metric !== 'train_loss'" }],
        mark: { type: 'point', filled: true, size: 36 },
        encoding: { x, y, color },
      },
    ],
    config: {
      font: 'sans-serif',
      view: { stroke: '#444' },
      axis: { grid: true, gridOpacity: 0.5, labelFontSize: 11, titleFontSize: 12 },
      // Line swatches long enough to show the dash pattern, like matplotlib's legend handles.
      legend: {
        labelFontSize: 11,
        titleFontSize: 11,
        symbolType: 'stroke',
        symbolSize: 500,
        symbolStrokeWidth: 2,
      },
    },
  } as TopLevelSpec;

  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    // Releases the dataflow's timers and listeners so a CLI run can exit promptly.
    view.finalize();
  }
}

let resvgReady: Promise<void> | undefined;

/** Compiles resvg's WebAssembly module once per process. */
function loadResvg(): Promise<void> {
  const wasmPath = createRequire(import.meta.url).resolve('@resvg/resvg-wasm/index_bg.wasm');
  return (resvgReady ??= initWasm(readFileSync(wasmPath)));
}

/** Rasterises an SVG to PNG bytes with resvg, `width` pixels wide (default: the SVG's own width); text uses a system sans-serif font. */
export async function svgToPng(svg: string, opts: { width?: number } = {}): Promise<Buffer> {
  const fitTo: ResvgRenderOptions['fitTo'] =
    opts.width === undefined
      ? { mode: 'original' }
      : { mode: 'width', value: Math.round(positiveSize(opts.width, 'width')) };
  await loadResvg();
  const resvg = new Resvg(svg, { fitTo, background: 'white', font: fontOptions() });
  try {
    return Buffer.from(resvg.render().asPng());
  } finally {
    resvg.free(); // wasm memory is not garbage-collected
  }
}

/** Renders the two plot files of {@link writePlots} in memory (nothing is written): DIR/BASE.svg and DIR/BASE.png. */
export async function renderPlotFiles(
  dir: string,
  baseName: string,
  points: MetricPoint[],
  opts: WritePlotsOptions = {},
): Promise<[FileToWrite, FileToWrite]> {
  if (baseName === '' || /[/\\]/.test(baseName) || baseName === '.' || baseName === '..') {
    throw new ArgumentError(
      `Plot base name ${JSON.stringify(baseName)} is not a plain file name; pass a name such as "compare" and put directories in the output directory instead.`,
    );
  }
  const { pngWidth, ...chart } = opts;
  const svg = await renderCurvesSvg(points, chart);
  const png = await svgToPng(svg, { width: pngWidth ?? 2 * (chart.width ?? DEFAULT_WIDTH) });
  return [
    { path: join(dir, `${baseName}.svg`), data: svg },
    { path: join(dir, `${baseName}.png`), data: png },
  ];
}

/** Writes DIR/BASE.svg and DIR/BASE.png (creating DIR), both or neither; rendering happens first, so a rendering error writes nothing. */
export async function writePlots(
  dir: string,
  baseName: string,
  points: MetricPoint[],
  opts: WritePlotsOptions = {},
): Promise<PlotPaths> {
  const files = await renderPlotFiles(dir, baseName, points, opts);
  await mkdirs(dir);
  await writeFilesAtomic(files);
  return { svgPath: files[0].path, pngPath: files[1].path };
}

/** Y-axis title naming what is actually plotted, as the board's single shared axis mixes loss and accuracy. */
function yTitle(metrics: readonly string[]): string {
  const hasLoss = metrics.some((m) => m.endsWith('_loss'));
  const hasAcc = metrics.includes('val_acc');
  if (hasLoss && hasAcc) return 'loss / accuracy';
  return hasAcc ? 'accuracy' : 'loss';
}

/** Repeats `range` until it has `n` entries, so any number of models gets a dash pattern. */
function cycle<T>(range: readonly T[], n: number): T[] {
  return Array.from({ length: Math.max(n, 1) }, (_, i) => range[i % range.length] as T);
}

/** Checks a pixel size is a positive finite number. */
function positiveSize(v: number, name: string): number {
  if (!Number.isFinite(v) || v <= 0) {
    throw new ArgumentError(`Plot ${name} must be a positive number of pixels, got ${v}.`);
  }
  return v;
}

// Sans-serif fonts we know the family name of, most preferred first. resvg silently drops text whose
// font family it cannot resolve, and its default "sans-serif" mapping (Arial) is absent on most Linux
// boxes, so we find a real font file and name its family explicitly.
const KNOWN_FONTS: readonly { family: string; files: readonly string[] }[] = [
  { family: 'DejaVu Sans', files: ['DejaVuSans.ttf'] },
  { family: 'Liberation Sans', files: ['LiberationSans-Regular.ttf'] },
  { family: 'Noto Sans', files: ['NotoSans-Regular.ttf'] },
  { family: 'FreeSans', files: ['FreeSans.ttf', 'FreeSans.otf'] },
  { family: 'Arial', files: ['Arial.ttf', 'arial.ttf'] },
  { family: 'Helvetica', files: ['Helvetica.ttc'] },
];

type FontOptions = NonNullable<ResvgRenderOptions['font']>;
let cachedFonts: FontOptions | undefined;

/** resvg font options: an installed sans-serif font, loaded from its file, as the default; warns once if none is found. */
function fontOptions(): FontOptions {
  if (cachedFonts !== undefined) return cachedFonts;
  const found = findKnownFont();
  if (found === undefined) {
    // Still render (lines, points and axes are fine); text may be missing, so say how to fix it.
    process.emitWarning(
      'No known sans-serif font (DejaVu Sans, Liberation Sans, Noto Sans, ...) was found; text in PNG plots may be missing. Install one, e.g. `apt-get install fonts-dejavu-core`.',
      { code: 'DROPOUT_LAB_NO_FONT' },
    );
    cachedFonts = { fontBuffers: [] };
  } else {
    cachedFonts = {
      // resvg in WebAssembly cannot read font directories: it gets the font file's bytes.
      fontBuffers: [readFileSync(found.path)],
      defaultFontFamily: found.family,
      sansSerifFamily: found.family,
    };
  }
  return cachedFonts;
}

/** Finds the first {@link KNOWN_FONTS} entry installed in a standard font directory. */
function findKnownFont(): { family: string; path: string } | undefined {
  const dirs = [
    '/usr/share/fonts',
    '/usr/local/share/fonts',
    join(homedir(), '.local/share/fonts'),
    join(homedir(), '.fonts'),
    '/System/Library/Fonts',
    '/Library/Fonts',
    join(process.env['WINDIR'] ?? 'C:\\Windows', 'Fonts'),
  ];
  const byName = new Map<string, string>();
  for (const dir of dirs) collectFontFiles(dir, 4, byName);
  for (const font of KNOWN_FONTS) {
    for (const file of font.files) {
      const path = byName.get(file);
      if (path !== undefined) return { family: font.family, path };
    }
  }
  return undefined;
}

/** Records file name → path for font files under `dir` (depth-limited: distros nest fonts 1-3 levels deep). */
function collectFontFiles(dir: string, depth: number, out: Map<string, string>): void {
  if (depth < 0 || !existsSync(dir)) return;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // unreadable directory: just not a place we can take fonts from
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) collectFontFiles(path, depth - 1, out);
    else if (!out.has(e.name)) out.set(e.name, path);
  }
}
