/**
 * The quick check: one dropout draw on a 4×4 X (or the mean of many) for the p and seed chosen,
 * drawn by quickcheck.ts. It has no part in the runs, so it keeps its own inputs as its state.
 */
import { byId } from '../form.js';
import { quickAverage, renderQuickCheck } from '../quickcheck.js';

/** Wires the quick check's inputs and draws it once. */
export function mountQuickCheck(): void {
  const qp = byId<HTMLInputElement>('qp');
  const qseed = byId<HTMLInputElement>('qseed');
  const qdraws = byId<HTMLSelectElement>('qdraws');
  const qtable = byId<HTMLTableElement>('qtable');
  const seedOf = (): number => Math.max(0, Math.floor(Number(qseed.value) || 0));
  const draw = (): void => {
    const p = Number(qp.value);
    const seed = seedOf();
    const draws = Number(qdraws.value);
    byId<HTMLOutputElement>('qp-out').textContent = p.toFixed(2);
    const average = draws > 0 ? { draws, mean: quickAverage(p, seed, draws) } : undefined;
    renderQuickCheck(qtable, p, seed, average);
    const avgNote =
      average === undefined
        ? ' Choose "average of" to see the mean of many draws approach X.'
        : ` The mean rows average ${draws} draws (seeds ${seed}…${seed + draws - 1}): they approach X.`;
    byId<HTMLParagraphElement>('qnote').textContent =
      p === 1
        ? 'p = 1 drops everything (Y = 0).'
        : `Each entry of X is dropped with probability ${p.toFixed(2)}; survivors are scaled by 1/(1 − p) = ${(1 / (1 - p)).toFixed(2)}, so the expectation of Y stays X. ${qtable.dataset['dropped']} of 16 entries dropped.${avgNote}`;
  };
  qp.addEventListener('input', draw);
  qseed.addEventListener('input', draw);
  qdraws.addEventListener('change', draw);
  byId<HTMLButtonElement>('qdraw').addEventListener('click', () => {
    qseed.value = String(seedOf() + 1);
    draw();
  });
  draw();
}
