/**
 * The network view: a slice of the MLP (8 of 784 inputs, the first 16 units of each hidden layer, the
 * 10 outputs) with the units that dropout zeroed for example 0 of the current minibatch greyed out,
 * together with every edge that touches them (a dropped unit neither receives nor sends a signal).
 */
import { esc, px } from './svg.js';

const W = 640;
const H = 330;
const INPUTS = 8;

/** What one frame of the view shows. */
export interface NetworkFrame {
  /** Keep masks (1 kept, 0 dropped) of the shown hidden units; empty before the first step. */
  readonly h1: readonly number[];
  readonly h2: readonly number[];
  readonly caption: string;
}

function column(n: number, cx: number): { x: number; y: number }[] {
  const top = 30;
  const bottom = H - 36;
  const gap = n > 1 ? Math.min(18, (bottom - top) / (n - 1)) : 0;
  const start = (top + bottom) / 2 - (gap * (n - 1)) / 2;
  return Array.from({ length: n }, (_, i) => ({ x: cx, y: start + i * gap }));
}

/** Draws one frame into `svg`. */
export function renderNetwork(svg: SVGSVGElement, frame: NetworkFrame, units: number): void {
  const cols = [
    { name: 'input (8 of 784)', nodes: column(INPUTS, 70), keep: new Array<number>(INPUTS).fill(1) },
    { name: `hidden 1 (${units} shown)`, nodes: column(units, 250), keep: frame.h1 },
    { name: `hidden 2 (${units} shown)`, nodes: column(units, 430), keep: frame.h2 },
    { name: 'output (10)', nodes: column(10, 590), keep: new Array<number>(10).fill(1) },
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
    parts.push(
      `<text class="col-label" x="${col.nodes[0]!.x}" y="16" text-anchor="middle">${esc(col.name)}</text>`,
    );
    col.nodes.forEach((p, i) => {
      const on = kept(c, i);
      parts.push(
        `<circle class="${on ? 'unit' : 'unit dropped'}" cx="${px(p.x)}" cy="${px(p.y)}" r="6.5">` +
          `<title>${esc(col.name)} unit ${i}${on ? '' : ': dropped'}</title></circle>`,
      );
    });
  });
  parts.push(
    `<text class="caption" x="${W / 2}" y="${H - 10}" text-anchor="middle">${esc(frame.caption)}</text>`,
  );
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.innerHTML = parts.join('');
  svg.dataset['mask'] = [...frame.h1, ...frame.h2].join('');
}
