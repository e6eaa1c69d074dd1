/** The metrics of one finished epoch: what the Trainer reports and what a checkpoint keeps. */

/** Metrics of one finished epoch (the JSON-lines `epoch` event carries these). */
export interface EpochMetrics {
  /** 1-based epoch number. */
  readonly epoch: number;
  readonly trainLoss: number;
  readonly valLoss: number;
  readonly valAcc: number;
  /** Wall-clock seconds of the epoch, training and validation. */
  readonly epochSeconds: number;
  /** Training examples processed per second of training-phase time. */
  readonly samplesPerSecond: number;
}
