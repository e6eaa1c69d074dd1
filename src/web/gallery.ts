/**
 * The MC-dropout gallery: test images with the MC prediction (mean ± std of T stochastic passes) next
 * to the weight-scaling prediction (one `eval()` pass with dropout off), and, for a chosen image, the
 * full 10-class distribution of both.
 */
import { FASHION_MNIST_LABELS } from '../data/fashionMnist.js';
import type { GalleryItem } from './protocol.js';

/** How the gallery is ordered. */
export type GallerySort = 'uncertain' | 'confident-low' | 'disagree' | 'index';

/** Uncertainty of an item: the std of the predicted class's probability over the T passes. */
export function uncertainty(item: GalleryItem): number {
  return item.std[item.pred]!;
}

/** Accuracy of weight scaling (eval()) and of the MC mean on the items. */
export function accuracies(items: readonly GalleryItem[]): { evalAcc: number; mcAcc: number } {
  const n = Math.max(1, items.length);
  return {
    evalAcc: items.filter((i) => i.evalPred === i.label).length / n,
    mcAcc: items.filter((i) => i.pred === i.label).length / n,
  };
}

function sorted(items: readonly GalleryItem[], sort: GallerySort): GalleryItem[] {
  const out = [...items];
  if (sort === 'uncertain') out.sort((a, b) => uncertainty(b) - uncertainty(a) || a.index - b.index);
  else if (sort === 'confident-low')
    out.sort((a, b) => a.mean[a.pred]! - b.mean[b.pred]! || a.index - b.index);
  else if (sort === 'disagree')
    out.sort(
      (a, b) =>
        Number(b.pred !== b.evalPred) - Number(a.pred !== a.evalPred) ||
        uncertainty(b) - uncertainty(a) ||
        a.index - b.index,
    );
  else out.sort((a, b) => a.index - b.index);
  return out;
}

const className = (c: number): string => FASHION_MNIST_LABELS[c] ?? String(c);

function bar(mean: number, std: number, evalP: number | undefined): HTMLDivElement {
  const el = document.createElement('div');
  el.className = 'bar';
  const fill = document.createElement('div');
  fill.className = 'fill';
  fill.style.width = `${(mean * 100).toFixed(1)}%`;
  // The ±std error bar: a dark line with end caps across the mean, drawn over the fill.
  const whisker = document.createElement('div');
  whisker.className = 'whisker';
  whisker.style.left = `${(Math.max(0, mean - std) * 100).toFixed(1)}%`;
  whisker.style.width = `${((Math.min(1, mean + std) - Math.max(0, mean - std)) * 100).toFixed(1)}%`;
  el.append(fill, whisker);
  if (evalP !== undefined) {
    const tick = document.createElement('div');
    tick.className = 'evaltick';
    tick.style.left = `${(evalP * 100).toFixed(1)}%`;
    el.append(tick);
  }
  return el;
}

/** Fills `list` with one card per item; clicking a card calls `onPick` with it. */
export function renderGallery(
  list: HTMLElement,
  items: readonly GalleryItem[],
  images: Uint8Array,
  sort: GallerySort,
  onPick: (item: GalleryItem) => void,
): void {
  list.replaceChildren();
  for (const item of sorted(items, sort)) {
    const li = document.createElement('li');
    li.className = item.pred === item.label ? 'item' : 'item wrong';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'card';
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
    const pred = className(item.pred);
    const truth = className(item.label);
    const mean = item.mean[item.pred]!;
    const std = uncertainty(item);
    canvas.setAttribute('aria-hidden', 'true');
    const caption = document.createElement('div');
    caption.className = 'caption';
    const strong = document.createElement('strong');
    strong.textContent = pred;
    const detail = document.createElement('span');
    detail.textContent = item.pred === item.label ? `✓ #${item.index}` : `✗ #${item.index} is ${truth}`;
    const numbers = document.createElement('span');
    numbers.className = 'numbers';
    numbers.textContent = `MC ${mean.toFixed(2)} ± ${std.toFixed(2)}`;
    const evalLine = document.createElement('span');
    evalLine.className = item.evalPred === item.pred ? 'evalline' : 'evalline differs';
    const evalP = item.evalProbs[item.evalPred]!;
    evalLine.textContent =
      item.evalPred === item.pred
        ? `eval() ${evalP.toFixed(2)}`
        : `eval(): ${className(item.evalPred)} ${evalP.toFixed(2)}`;
    caption.append(strong, detail, bar(mean, std, item.evalProbs[item.pred]), numbers, evalLine);
    button.setAttribute(
      'aria-label',
      `Test image ${item.index}, a ${truth}: MC predicts ${pred} ${mean.toFixed(2)} ± ${std.toFixed(2)}, ` +
        `eval() predicts ${className(item.evalPred)} ${evalP.toFixed(2)}. Show all 10 classes.`,
    );
    button.addEventListener('click', () => onPick(item));
    button.append(canvas, caption);
    li.dataset['std'] = std.toFixed(6);
    li.dataset['index'] = String(item.index);
    li.append(button);
    list.append(li);
  }
}

/** Fills `panel` with the 10-class distribution of one image: MC mean ± std and the eval() value. */
export function renderDetail(panel: HTMLElement, item: GalleryItem, passes: number): void {
  panel.replaceChildren();
  const h = document.createElement('h3');
  h.textContent = `Test image #${item.index} (a ${className(item.label)}): all 10 classes`;
  const table = document.createElement('table');
  table.className = 'dist';
  const head = table.createTHead().insertRow();
  for (const t of ['class', `MC mean ± std (T = ${passes})`, 'eval()']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = t;
    head.append(th);
  }
  const body = table.createTBody();
  for (let c = 0; c < 10; c++) {
    const row = body.insertRow();
    if (c === item.label) row.className = 'truth';
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = className(c) + (c === item.label ? ' (true)' : '');
    const mc = row.insertCell();
    const text = document.createElement('span');
    text.className = 'numbers';
    text.textContent = `${item.mean[c]!.toFixed(3)} ± ${item.std[c]!.toFixed(3)}`;
    mc.append(bar(item.mean[c]!, item.std[c]!, item.evalProbs[c]), text);
    const ev = row.insertCell();
    ev.textContent = item.evalProbs[c]!.toFixed(3);
    row.prepend(name);
  }
  const note = document.createElement('p');
  note.className = 'muted';
  note.textContent =
    'Bars: MC mean (filled) with ± one standard deviation (black error bar); the thin vertical mark is ' +
    'the eval() probability (weight scaling).';
  panel.append(h, table, note);
  panel.hidden = false;
}
