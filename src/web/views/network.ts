/**
 * The network view of the last step (its dropout masks, network.ts, and every noise draw,
 * noiseView.ts) and the ensemble strip of recent thinned subnetworks, redrawn at most once per
 * animation frame however many steps arrived.
 */
import { renderNetwork, thinnedSvg } from '../network.js';
import { renderSites } from '../noiseView.js';
import { VIEW_UNITS } from '../protocol.js';
import type { LabState } from '../state.js';
import type { View } from './view.js';

const SITES_EMPTY = 'start a run with dropout to see where its noise fell';

/** The elements this view writes. */
export interface NetworkElements {
  readonly network: SVGSVGElement;
  readonly box: HTMLElement;
  readonly sites: HTMLElement;
  readonly ensemble: HTMLElement;
}

/** The view of the network, its noise sites and the ensemble strip. */
export function networkView(el: NetworkElements): View {
  let last: LabState | undefined;
  let pending = false;
  let latest: LabState | undefined;
  return (s, force = false) => {
    latest = s;
    if (force || last?.network !== s.network) {
      const width = el.box.clientWidth || 640;
      renderNetwork(el.network, s.network.frame, VIEW_UNITS, width);
      renderSites(el.sites, s.network.sites, SITES_EMPTY, width);
      if (s.network.step !== undefined) el.network.dataset['step'] = String(s.network.step);
      if (s.network.runId !== undefined) el.network.dataset['run'] = String(s.network.runId);
    }
    if (last !== undefined && last.ensemble !== s.ensemble) {
      if (s.ensemble.length === 0) el.ensemble.replaceChildren();
      else if (!pending) {
        pending = true;
        requestAnimationFrame(() => {
          pending = false;
          el.ensemble.innerHTML = latest!.ensemble
            .map((t) => `<li>${thinnedSvg(t)}<span>step ${t.step}</span></li>`)
            .join('');
        });
      }
    }
    last = s;
  };
}
