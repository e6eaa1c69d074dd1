/**
 * What d2l's ProgressBoard plots, recorded as data: train_loss averaged over each half epoch
 * (2 points per epoch), val_loss and val_acc once per epoch, with x in epochs.
 */

/** The metrics the book plots. */
export type BoardMetric = 'train_loss' | 'val_loss' | 'val_acc';

/** One plotted point. */
export interface BoardPoint {
  readonly metric: BoardMetric;
  /** Position in epochs (0.5 = half way through the first epoch). */
  readonly epoch: number;
  readonly value: number;
}

/** Accumulates points like d2l.ProgressBoard (which averages every n steps before drawing). */
export class ProgressBoard {
  readonly points: BoardPoint[] = [];

  /** Records one point. */
  draw(metric: BoardMetric, epoch: number, value: number): void {
    this.points.push({ metric, epoch, value });
  }

  /** The points of one metric, in order. */
  series(metric: BoardMetric): BoardPoint[] {
    return this.points.filter((p) => p.metric === metric);
  }

  /** The most recent value of a metric, or NaN if none yet. */
  last(metric: BoardMetric): number {
    const s = this.series(metric);
    return s.length > 0 ? s[s.length - 1]!.value : Number.NaN;
  }
}
