/**
 * The MC-dropout gallery's part of the page: its note and accuracy line, the cards (gallery.ts draws
 * them, in the chosen order; choosing one opens its detail) and whether Recompute may be pressed.
 */
import { renderDetail, renderGallery } from '../gallery.js';
import { canRecompute, type LabState } from '../state.js';
import type { View } from './view.js';

/** The elements this view writes. */
export interface GalleryElements {
  readonly list: HTMLElement;
  readonly note: HTMLElement;
  readonly accuracy: HTMLElement;
  readonly detail: HTMLElement;
  readonly recompute: HTMLButtonElement;
}

/** The view of the gallery. */
export function galleryView(el: GalleryElements): View {
  let last: LabState | undefined;
  return (s) => {
    if (last?.galleryNote !== s.galleryNote) el.note.textContent = s.galleryNote;
    if (last === undefined || last.galleryAccuracy !== s.galleryAccuracy) {
      el.accuracy.hidden = s.galleryAccuracy === undefined;
      if (s.galleryAccuracy !== undefined) el.accuracy.textContent = s.galleryAccuracy;
    }
    const g = s.gallery;
    if (last !== undefined && last.gallery !== g) el.detail.hidden = true;
    if (last !== undefined && (last.gallery !== g || last.gallerySort !== s.gallerySort)) {
      if (g === undefined) el.list.replaceChildren();
      else
        renderGallery(el.list, g.items, g.images, s.gallerySort, (item) =>
          renderDetail(el.detail, item, g.passes),
        );
    }
    el.recompute.disabled = !canRecompute(s);
    last = s;
  };
}
