/** The MC-dropout gallery: test images with predicted class and the spread of T stochastic passes. */
import { FASHION_MNIST_LABELS } from '../data/fashionMnist.js';
import type { GalleryItem } from './protocol.js';

/** How the gallery is ordered. */
export type GallerySort = 'uncertain' | 'confident-low' | 'index';

/** Uncertainty of an item: the std of the predicted class's probability over the T passes. */
export function uncertainty(item: GalleryItem): number {
  return item.std[item.pred]!;
}

function sorted(items: readonly GalleryItem[], sort: GallerySort): GalleryItem[] {
  const out = [...items];
  if (sort === 'uncertain') out.sort((a, b) => uncertainty(b) - uncertainty(a) || a.index - b.index);
  else if (sort === 'confident-low')
    out.sort((a, b) => a.mean[a.pred]! - b.mean[b.pred]! || a.index - b.index);
  else out.sort((a, b) => a.index - b.index);
  return out;
}

/** Fills `list` with one figure per item (image canvas, prediction, mean ± std bar). */
export function renderGallery(
  list: HTMLElement,
  items: readonly GalleryItem[],
  images: Uint8Array,
  sort: GallerySort,
): void {
  list.replaceChildren();
  for (const item of sorted(items, sort)) {
    const li = document.createElement('li');
    li.className = item.pred === item.label ? 'item' : 'item wrong';
    const canvas = document.createElement('canvas');
    canvas.width = 28;
    canvas.height = 28;
    const ctx = canvas.getContext('2d');
    if (ctx !== null) {
      const img = ctx.createImageData(28, 28);
      for (let k = 0; k < 784; k++) {
        const v = 255 - images[item.index * 784 + k]!;
        img.data.set([v, v, v, 255], k * 4);
      }
      ctx.putImageData(img, 0, 0);
    }
    const pred = FASHION_MNIST_LABELS[item.pred] ?? String(item.pred);
    const truth = FASHION_MNIST_LABELS[item.label] ?? String(item.label);
    const mean = item.mean[item.pred]!;
    const std = uncertainty(item);
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `test image ${item.index}, a ${truth}`);
    const caption = document.createElement('div');
    caption.className = 'caption';
    const strong = document.createElement('strong');
    strong.textContent = pred;
    const detail = document.createElement('span');
    detail.textContent = item.pred === item.label ? `✓ #${item.index}` : `✗ is ${truth}`;
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.title = `p(${pred}) = ${mean.toFixed(3)} ± ${std.toFixed(3)}`;
    const fill = document.createElement('div');
    fill.className = 'fill';
    fill.style.width = `${(mean * 100).toFixed(1)}%`;
    const whisker = document.createElement('div');
    whisker.className = 'whisker';
    whisker.style.left = `${(Math.max(0, mean - std) * 100).toFixed(1)}%`;
    whisker.style.width = `${((Math.min(1, mean + std) - Math.max(0, mean - std)) * 100).toFixed(1)}%`;
    bar.append(fill, whisker);
    const numbers = document.createElement('span');
    numbers.className = 'numbers';
    numbers.textContent = `${mean.toFixed(2)} ± ${std.toFixed(2)}`;
    caption.append(strong, detail, bar, numbers);
    li.dataset['std'] = std.toFixed(6);
    li.append(canvas, caption);
    list.append(li);
  }
}
