/**
 * "Where the noise fell": every noise draw of the current step, for the first image of the minibatch,
 * one row per site in the order the forward pass drew them (noiseSites.ts computes them). Per-unit
 * dropout is a strip of cells, spatial dropout one tile per feature map, DropBlock each map's grid with
 * its dropped blocks filled, attention or token dropout one bar per head or position (the share
 * dropped), and DropPath whether the residual branch ran. Kept cells are filled, dropped ones hollow.
 */
import type { NoiseSiteView } from './noiseSites.js';
import { esc, px } from './svg.js';

/** One site's picture as an SVG string, `width` CSS pixels at most. */
function siteSvg(s: NoiseSiteView, width: number): string {
  const parts: string[] = [];
  let w = 0;
  let h = 0;
  const cell = (x: number, y: number, size: number, on: boolean): void => {
    parts.push(
      `<rect class="${on ? 'cell-on' : 'cell-off'}" x="${px(x)}" y="${px(y)}" width="${px(size)}" height="${px(size)}"/>`,
    );
  };
  switch (s.kind) {
    case 'units':
    case 'maps': {
      const size = s.kind === 'maps' ? 18 : Math.max(6, Math.min(12, (width - 4) / s.keep.length - 2));
      s.keep.forEach((k, i) => cell(2 + i * (size + 2), 2, size, k === 1));
      w = 2 + s.keep.length * (size + 2);
      h = size + 4;
      break;
    }
    case 'blocks': {
      const size = Math.max(2, Math.min(8, Math.floor(60 / Math.max(s.height, s.width))));
      const mapW = s.width * size;
      const perRow = Math.max(1, Math.floor((width - 4) / (mapW + 8)));
      s.maps.forEach((m, c) => {
        const ox = 2 + (c % perRow) * (mapW + 8);
        const oy = 2 + Math.floor(c / perRow) * (s.height * size + 8);
        parts.push(
          `<rect class="map-frame" x="${ox - 1}" y="${oy - 1}" width="${mapW + 2}" height="${s.height * size + 2}"/>`,
        );
        m.forEach((k, i) => {
          if (k === 0) {
            const x = ox + (i % s.width) * size;
            const y = oy + Math.floor(i / s.width) * size;
            parts.push(`<rect class="cell-off block" x="${x}" y="${y}" width="${size}" height="${size}"/>`);
          }
        });
      });
      const rows = Math.ceil(s.maps.length / perRow);
      w = 2 + Math.min(s.maps.length, perRow) * (mapW + 8);
      h = 2 + rows * (s.height * size + 8);
      break;
    }
    case 'groups': {
      const bw = Math.max(4, Math.min(18, (width - 4) / s.shares.length - 2));
      const bh = 28;
      s.shares.forEach((f, i) => {
        const x = 2 + i * (bw + 2);
        parts.push(`<rect class="bar-track" x="${px(x)}" y="2" width="${px(bw)}" height="${bh}"/>`);
        parts.push(
          `<rect class="bar-dropped" x="${px(x)}" y="${px(2 + bh * (1 - f))}" width="${px(bw)}" height="${px(bh * f)}">` +
            `<title>${s.axis} ${i}: ${(f * 100).toFixed(0)}% dropped</title></rect>`,
        );
      });
      w = 2 + s.shares.length * (bw + 2);
      h = bh + 4;
      break;
    }
    case 'path': {
      const kept = s.keep[0] === 1;
      parts.push(
        `<rect class="${kept ? 'cell-on' : 'cell-off'}" x="2" y="2" width="120" height="20" rx="10"/>` +
          `<text class="path-label" x="62" y="16" text-anchor="middle">${kept ? 'branch ran' : 'branch skipped'}</text>`,
      );
      w = 124;
      h = 24;
      break;
    }
  }
  return (
    `<svg class="site-svg" viewBox="0 0 ${px(w)} ${px(h)}" width="${px(w)}" height="${px(h)}" role="img" ` +
    `aria-label="${esc(summary(s))}">${parts.join('')}</svg>`
  );
}

/** One line of words for a site (its label, p and the share example 0 lost). */
export function summary(s: NoiseSiteView): string {
  const lost = `${(s.dropped * 100).toFixed(0)}%`;
  const what =
    s.kind === 'path'
      ? s.keep[0] === 1
        ? 'the residual branch ran'
        : 'the residual branch was skipped'
      : s.kind === 'maps'
        ? `${lost} of the feature maps dropped`
        : s.kind === 'blocks'
          ? `${lost} of the cells dropped, in blocks`
          : s.kind === 'groups'
            ? `${lost} dropped, by ${s.axis}`
            : s.onWeights
              ? `${lost} of the weights dropped`
              : `${lost} of the units dropped`;
  return `${s.label}, p = ${Number(s.p.toPrecision(3))}: ${what}`;
}

/** Draws the sites of a step into `box` (a list; empty: `empty` is shown instead). */
export function renderSites(
  box: HTMLElement,
  sites: readonly NoiseSiteView[],
  empty: string,
  width = 640,
): void {
  if (sites.length === 0) {
    box.innerHTML = `<p class="muted">${esc(empty)}</p>`;
    box.dataset['sites'] = '0';
    return;
  }
  box.innerHTML =
    '<ol class="sites">' +
    sites
      .map(
        (s) =>
          `<li class="site" data-kind="${s.kind}"><span>${esc(summary(s))}</span>${siteSvg(s, width)}</li>`,
      )
      .join('') +
    '</ol>';
  box.dataset['sites'] = String(sites.length);
}
