/**
 * What each noise draw of a training step did to example 0 of the minibatch, recomputed exactly from
 * the draw's counter-based stream (ops/noiseTap.ts reports kind, shapes, p and stream as the ops draw;
 * fillUniform replays the uniforms). Recomputing reads the step's actual masks, not a new sample, and
 * costs only example 0's share of each draw. The result is plain data the worker posts to the page,
 * where noiseView.ts draws it: dropped units, feature maps, DropBlock blocks, residual branches, and
 * for wider tensors the share dropped per head or token.
 */
import type { NoiseDraw } from '../ops/noiseTap.js';
import { keepMask, uniformsOf } from './masks.js';

/** Units drawn for a per-unit site (the rest count in `dropped` only). */
export const SITE_UNITS = 48;
/** Feature maps drawn for a map or block site. */
export const SITE_MAPS = 16;

/** One site of a step, for example 0 (`dropped`: its share of example 0's mask that was dropped). */
export type NoiseSiteView =
  | {
      /** Per-unit dropout on [N, F] activations: keep bits of the first SITE_UNITS units. */
      readonly kind: 'units';
      readonly label: string;
      readonly p: number;
      readonly dropped: number;
      readonly keep: number[];
      /** DropConnect: the mask is on a weight matrix (row 0: unit 0's incoming weights), not on activations. */
      readonly onWeights: boolean;
    }
  | {
      /** Spatial dropout [N, C, 1, 1]: one keep bit per feature map. */
      readonly kind: 'maps';
      readonly label: string;
      readonly p: number;
      readonly dropped: number;
      readonly keep: number[];
    }
  | {
      /** DropBlock: per map, row-major H × W keep bits. */
      readonly kind: 'blocks';
      readonly label: string;
      readonly p: number;
      readonly dropped: number;
      readonly height: number;
      readonly width: number;
      readonly maps: number[][];
    }
  | {
      /** Dropout on a wider tensor (attention probabilities [N, heads, T, T], tokens [N, T, D]): share dropped per index of axis 1. */
      readonly kind: 'groups';
      readonly label: string;
      readonly p: number;
      readonly dropped: number;
      readonly axis: string;
      readonly shares: number[];
    }
  | {
      /** DropPath: whether example 0's residual branch was kept (1) or dropped (0). */
      readonly kind: 'path';
      readonly label: string;
      readonly p: number;
      readonly dropped: number;
      readonly keep: number[];
    };

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
const share = (bits: readonly number[]): number =>
  bits.length === 0 ? 0 : 1 - bits.reduce((a, b) => a + b, 0) / bits.length;
const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** DropBlock's keep bits of one H × W map from its uniforms (ops/dropBlock.ts: seeds grown into blocks). */
function blockKeep(u: Float32Array, p: number, bs: number, h: number, w: number): number[] {
  const half = (bs - 1) / 2;
  // The op compares float32 uniforms with γ stored as float32.
  const gamma = Math.fround(((p / (bs * bs)) * (h * w)) / ((h - bs + 1) * (w - bs + 1)));
  const keep = new Array<number>(h * w).fill(1);
  for (let i = half; i < h - half; i++) {
    for (let j = half; j < w - half; j++) {
      if (!(u[i * w + j]! < gamma)) continue;
      for (let a = i - half; a <= i + half; a++)
        for (let b = j - half; b <= j + half; b++) keep[a * w + b] = 0;
    }
  }
  return keep;
}

/** The view of one draw for example 0 (index 0 of the leading axis; a parameter's row 0 for DropConnect). */
export function siteView(d: NoiseDraw, index: number): NoiseSiteView {
  const n = `${index + 1}.`;
  const per = product(d.maskShape.slice(1));
  if (d.kind === 'droppath') {
    const keep = keepMask(d.stream, d.p, 0, 1);
    return {
      kind: 'path',
      label: `${n} DropPath on ${shapeText(d.shape)}`,
      p: d.p,
      dropped: share(keep),
      keep,
    };
  }
  if (d.kind === 'dropblock') {
    const [, c, h, w] = d.shape as [number, number, number, number];
    const u = uniformsOf(d.stream, 0, c * h * w);
    const maps: number[][] = [];
    let kept = 0;
    for (let ch = 0; ch < c; ch++) {
      const m = blockKeep(u.subarray(ch * h * w, (ch + 1) * h * w), d.p, d.blockSize ?? 1, h, w);
      kept += m.reduce((a, b) => a + b, 0);
      if (ch < SITE_MAPS) maps.push(m);
    }
    return {
      kind: 'blocks',
      label: `${n} DropBlock ${d.blockSize}×${d.blockSize} on ${shapeText(d.shape)}`,
      p: d.p,
      dropped: 1 - kept / (c * h * w),
      height: h,
      width: w,
      maps,
    };
  }
  const bits = keepMask(d.stream, d.p, 0, per);
  const mapsOnly = d.maskShape.length >= 3 && d.maskShape.slice(2).every((s) => s === 1);
  if (d.kind === 'broadcast' && mapsOnly) {
    return {
      kind: 'maps',
      label: `${n} spatial dropout on ${shapeText(d.shape)}`,
      p: d.p,
      dropped: share(bits),
      keep: bits.slice(0, SITE_MAPS),
    };
  }
  const what = d.onParameter ? 'DropConnect on the weights' : 'dropout';
  if (d.maskShape.length <= 2) {
    return {
      kind: 'units',
      label: `${n} ${what} on ${shapeText(d.shape)}`,
      p: d.p,
      dropped: share(bits),
      keep: bits.slice(0, SITE_UNITS),
      onWeights: d.onParameter === true,
    };
  }
  const groups = d.maskShape[1]!;
  const size = per / groups;
  const shares = Array.from({ length: groups }, (_, g) => share(bits.slice(g * size, (g + 1) * size)));
  return {
    kind: 'groups',
    label: `${n} ${what} on ${shapeText(d.shape)}`,
    p: d.p,
    dropped: share(bits),
    axis: d.maskShape.length === 4 ? 'head' : 'position',
    shares,
  };
}

/** The views of a step's draws, in the order the forward pass drew them. */
export function siteViews(draws: readonly NoiseDraw[]): NoiseSiteView[] {
  return draws.map((d, i) => siteView(d, i));
}

/** The masks the MLP network view draws: hidden layers 1 and 2 of example 0, with their rates. */
export interface HiddenMasks {
  /** Keep bits of the first `units` units of each hidden layer (all 1 where nothing was drawn). */
  readonly keep: [number[], number[]];
  /** Share of each layer's units dropped for example 0. */
  readonly dropped: [number, number];
  /** The rate each layer's draw used (0 where the layer drew nothing). */
  readonly p: [number, number];
}

/**
 * The two hidden layers' masks of a step, from its site views: the last two per-unit dropouts of
 * activations (the MLP's hidden layers, the CNN's head); with one, it is hidden layer 2 (dropout
 * after the last BatchNorm only); R-Drop's second pass is the one shown.
 */
export function hiddenMasks(sites: readonly NoiseSiteView[], units: number): HiddenMasks {
  const layers = sites.filter((s) => s.kind === 'units' && !s.onWeights).slice(-2);
  while (layers.length < 2) layers.unshift(undefined as never);
  const pick = (i: 0 | 1) => {
    const s = layers[i];
    if (s === undefined || s.kind !== 'units')
      return { keep: new Array<number>(units).fill(1), dropped: 0, p: 0 };
    return { keep: s.keep.slice(0, units), dropped: s.dropped, p: s.p };
  };
  const [a, b] = [pick(0), pick(1)];
  return { keep: [a.keep, b.keep], dropped: [a.dropped, b.dropped], p: [a.p, b.p] };
}

/** A step's draws as site views and the MLP view's hidden masks. */
export function stepNoise(
  draws: readonly NoiseDraw[],
  units: number,
): { sites: NoiseSiteView[]; hidden: HiddenMasks } {
  const sites = siteViews(draws);
  return { sites, hidden: hiddenMasks(sites, units) };
}
