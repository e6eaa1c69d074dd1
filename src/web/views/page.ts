/**
 * The page's own lines: the status line, the banner, the engine line (and the title's engine) and
 * the body's data-state, which the end-to-end tests wait on.
 */
import type { LabState } from '../state.js';
import type { View } from './view.js';

/** The elements this view writes. */
export interface PageElements {
  readonly status: HTMLElement;
  readonly banner: HTMLElement;
  readonly engine: HTMLElement;
  readonly engineHead: HTMLElement;
}

/** The view of the status, banner, engine and data-state lines. */
export function pageView(el: PageElements): View {
  let last: LabState | undefined;
  return (s) => {
    if (last?.status !== s.status) el.status.textContent = s.status;
    if (last === undefined || last.banner !== s.banner) {
      el.banner.hidden = s.banner === undefined;
      el.banner.textContent = s.banner ?? '';
    }
    if (last?.engine !== s.engine && s.engine !== undefined) {
      if (s.engine.head !== undefined) el.engineHead.textContent = s.engine.head;
      el.engine.textContent = s.engine.text;
    }
    if (last?.phase !== s.phase) document.body.dataset['state'] = s.phase;
    last = s;
  };
}
