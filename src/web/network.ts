/**
 * The network view: a slice of the MLP (8 of 784 inputs, the first 16 units of each hidden layer, the
 * 10 outputs) with the units that dropout zeroed for the first image of the current minibatch drawn as
 * dashed empty circles with a cross, together with every edge that touches them (a dropped unit
 * neither receives nor sends a signal). Drawn in CSS pixels at the shown width, so labels keep their
 * size on a phone and on a projector.
 *
 * The ensemble strip: the thinned subnetworks of the last steps, one small picture per step (the two
 * hidden layers and the edges between units that both survived), which is the "ensemble of
 * subnetworks" that dropout trains.
 */
import { esc, px } from './svg.js';

const INPUTS = 8;

/** What one frame of the view shows. */
export interface NetworkFrame {
  /** Keep masks (1 kept, 0 dropped) of the shown hidden units; empty before the first step. */
  readonly h1: readonly number[];
  readonly h2: readonly number[];
  readonly caption: string;
}

function column(
  n: number,
  cx: number,
  top: number,
  bottom: number,
  maxGap: number,
): { x: number; y: number }[] {
  const gap = n > 1 ? Math.min(maxGap, (bottom - top) / (n - 1)) : 0;
  const start = (top + bottom) / 2 - (gap * (n - 1)) / 2;
  return Array.from({ length: n }, (_, i) => ({ x: cx, y: start + i * gap }));
}

function unit(p: { x: number; y: number }, on: boolean, r: number, title: string): string {
  const cx = px(p.x);
  const cy = px(p.y);
  if (on) return `<circle class="unit" cx="${cx}" cy="${cy}" r="${r}"><title>${title}</title></circle>`;
  const k = r * 0.55;
  const d = `M${px(p.x - k)},${px(p.y - k)}L${px(p.x + k)},${px(p.y + k)}M${px(p.x + k)},${px(p.y - k)}L${px(p.x - k)},${px(p.y + k)}`;
  return (
    `<g><circle class="unit dropped" cx="${cx}" cy="${cy}" r="${r}"/><path class="cross" d="${d}"/>` +
    `<title>${title}: dropped</title></g>`
  );
}

function wrapWords(text: string, max: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines[lines.length - 1];
    if (last !== undefined && last.length + 1 + word.length <= max)
      lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** Draws one frame into `svg` at `width` CSS pixels. */
export function renderNetwork(svg: SVGSVGElement, frame: NetworkFrame, units: number, width = 640): void {
  const W = Math.max(280, Math.round(width));
  const H = 356;
  // Two-line column labels: one line of four labels does not fit below ~620 px.
  const narrow = W < 620;
  const xs = [0.1, 0.37, 0.64, 0.9].map((f) => f * W);
  const top = narrow ? 52 : 36;
  const cols = [
    {
      name: narrow ? ['input', '8 of 784'] : ['input (8 of 784)'],
      nodes: column(INPUTS, xs[0]!, top, H - 60, 19),
      keep: new Array<number>(INPUTS).fill(1),
    },
    {
      name: narrow ? ['hidden 1', `${units} shown`] : [`hidden 1 (${units} shown)`],
      nodes: column(units, xs[1]!, top, H - 60, 19),
      keep: frame.h1,
    },
    {
      name: narrow ? ['hidden 2', `${units} shown`] : [`hidden 2 (${units} shown)`],
      nodes: column(units, xs[2]!, top, H - 60, 19),
      keep: frame.h2,
    },
    {
      name: narrow ? ['output', '10'] : ['output (10)'],
      nodes: column(10, xs[3]!, top, H - 60, 19),
      keep: new Array<number>(10).fill(1),
    },
  ];
  const kept = (c: number, i: number): boolean => (cols[c]!.keep[i] ?? 1) === 1;
  const parts: string[] = [];
  for (let c = 0; c + 1 < cols.length; c++) {
    const a = cols[c]!.nodes;
    const b = cols[c + 1]!.nodes;
    a.forEach((p, i) =>
      b.forEach((q, j) => {
        const on = kept(c, i) && kept(c + 1, j);
        parts.push(
          `<line class="${on ? 'edge' : 'edge off'}" x1="${px(p.x)}" y1="${px(p.y)}" x2="${px(q.x)}" y2="${px(q.y)}"/>`,
        );
      }),
    );
  }
  cols.forEach((col, c) => {
    const lines = col.name
      .map((t, k) => `<tspan x="${px(col.nodes[0]!.x)}" dy="${k === 0 ? 0 : 15}">${esc(t)}</tspan>`)
      .join('');
    parts.push(
      `<text class="col-label" x="${px(col.nodes[0]!.x)}" y="16" text-anchor="middle">${lines}</text>`,
    );
    col.nodes.forEach((p, i) => parts.push(unit(p, kept(c, i), 7, `${esc(col.name.join(' '))} unit ${i}`)));
  });
  // Wrap the caption by words (about 7.5 px per character at 14 px) so it never runs off a phone.
  const lines = wrapWords(frame.caption, Math.floor((W - 16) / 7.5));
  const caption = lines
    .map((t, k) => `<tspan x="${W / 2}" dy="${k === 0 ? 0 : 16}">${esc(t)}</tspan>`)
    .join('');
  const captionY = H - 12 - 16 * (lines.length - 1);
  parts.push(`<text class="caption" x="${W / 2}" y="${captionY}" text-anchor="middle">${caption}</text>`);
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('width', String(W));
  svg.setAttribute('height', String(H));
  svg.innerHTML = parts.join('');
  svg.dataset['mask'] = [...frame.h1, ...frame.h2].join('');
}

/** One thinned subnetwork: the step it was sampled at and its keep masks. */
export interface Thinned {
  readonly step: number;
  readonly h1: readonly number[];
  readonly h2: readonly number[];
}

/** A small SVG of one thinned subnetwork (hidden 1 → hidden 2, surviving units and edges only). */
export function thinnedSvg(t: Thinned): string {
  const W = 54;
  const H = 132;
  const a = column(t.h1.length, 12, 8, H - 8, 8);
  const b = column(t.h2.length, W - 12, 8, H - 8, 8);
  const parts: string[] = [];
  a.forEach((p, i) =>
    b.forEach((q, j) => {
      if (t.h1[i] === 1 && t.h2[j] === 1)
        parts.push(`<line class="edge" x1="${p.x}" y1="${px(p.y)}" x2="${q.x}" y2="${px(q.y)}"/>`);
    }),
  );
  const dot = (p: { x: number; y: number }, on: boolean): string =>
    `<circle class="${on ? 'unit' : 'unit dropped'}" cx="${p.x}" cy="${px(p.y)}" r="3"/>`;
  a.forEach((p, i) => parts.push(dot(p, t.h1[i] === 1)));
  b.forEach((p, j) => parts.push(dot(p, t.h2[j] === 1)));
  const kept1 = t.h1.filter((k) => k === 1).length;
  const kept2 = t.h2.filter((k) => k === 1).length;
  return (
    `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" ` +
    `aria-label="step ${t.step}: ${kept1} and ${kept2} of ${t.h1.length} units kept">${parts.join('')}</svg>`
  );
}
