/**
 * The live objects of a run that a checkpoint is taken from and restored into: the model, its
 * optimiser, the data, both generators, the board and the metrics so far, with the run's identity
 * and shape. The Trainer builds one per `fit`; the checkpoint functions read and write only it.
 */
import type { DataModule } from '../../data/dataModule.js';
import type { Optimizer } from '../../optim/optimizer.js';
import { Generator } from '../../random/generator.js';
import type { EpochMetrics } from '../epochMetrics.js';
import type { TrainableModule } from '../module.js';
import type { ProgressBoard } from '../progressBoard.js';
import type { RunIdentity } from './compatibility.js';
import type { RunShape } from './position.js';

/** A run being trained: what its checkpoints hold, live. */
export interface TrainingState extends RunShape {
  readonly model: TrainableModule;
  readonly optim: Optimizer;
  readonly data: DataModule;
  /** What the run is; its optimizer's lr is the schedule's peak. */
  readonly identity: RunIdentity;
  /** The generator the model draws its masks from. */
  readonly generator: Generator;
  /** The data module's shuffle generator, if it has one. */
  readonly dataGenerator: Generator | null;
  readonly board: ProgressBoard;
  /** Per-epoch metrics so far, restored ones included. */
  readonly epochs: EpochMetrics[];
}

/** The data module's shuffle generator, when it has one (FashionMNIST does). */
export function shuffleGeneratorOf(data: DataModule): Generator | null {
  const g = (data as { shuffleGenerator?: unknown }).shuffleGenerator;
  return g instanceof Generator ? g : null;
}
