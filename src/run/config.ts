/**
 * What one training run is, as plain data: the model (by registry name), its hyperparameters, the
 * optimiser's, the data subset and the seed. Every surface (the CLI's train/compare/sweep, the
 * experiments, the lab, config.json, the checkpoint's identity) reads and writes this one type; its
 * fields, limits, defaults and flags are described once, in ./optionTable.ts.
 */
import type { ModelName, ModelSettings } from './models.js';

export { DROPOUT_VARIANTS, type DropoutVariant } from './models.js';

/** Everything that determines one run's result (with the backend's bit-identical masks, on any backend). */
export interface RunConfig extends ModelSettings {
  /** A model of the registry (./models.ts). */
  readonly model: ModelName;
  readonly epochs: number;
  readonly batchSize: number;
  readonly seed: number;
  /** First N training examples; 0 = all 60000. */
  readonly trainLimit: number;
  /** First N test examples used for validation; 0 = all 10000. */
  readonly valLimit: number;
}

/** Fashion-MNIST's sizes: a limit at or above them is the whole set. */
export const FULL_SIZES = { trainLimit: 60_000, valLimit: 10_000 } as const;
