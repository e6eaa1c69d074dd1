/**
 * Messages between the lab page (main.ts) and the training worker (worker.ts). Plain structured-clone
 * data only. Pause and slow motion go through a SharedArrayBuffer (see CONTROL), because the worker
 * is inside Trainer.fit, which never yields to the event loop between steps.
 */
import type { BoardPoint, EpochMetrics } from '../train/index.js';
import type { RunConfig } from '../run/config.js';
import { MODEL_NAMES, type ModelName } from '../run/models.js';
import type { NoiseSiteView } from './noiseSites.js';

/** The models the lab offers: the registry's (the CLI's --model names). */
export const LAB_MODELS: readonly ModelName[] = MODEL_NAMES;
/** A model name. */
export type LabModel = ModelName;

/** One run: the same RunConfig as the CLI's (src/run/config.ts). */
export type { RunConfig };

/** Int32 slots of the control SharedArrayBuffer. */
export const CONTROL = {
  /** 1 while paused. */
  PAUSED: 0,
  /** Milliseconds to wait after every step (slow motion); 0 = full speed. */
  DELAY_MS: 1,
  /** Bumped by the page whenever it changes a slot, to wake a waiting worker. */
  WAKE: 2,
} as const;
/** Bytes of the control buffer. */
export const CONTROL_BYTES = 16;

/** Units of each hidden layer drawn in the network view. */
export const VIEW_UNITS = 16;

/** Page → worker. */
export type ToWorker =
  | {
      readonly type: 'start';
      readonly runId: number;
      readonly config: RunConfig;
      readonly control: SharedArrayBuffer | null;
    }
  | { readonly type: 'gallery'; readonly count: number; readonly passes: number }
  /** The page's `?backend=` (wasm, webgpu or js; null: the rule in backend/auto.ts picks), sent first. */
  | { readonly type: 'backend'; readonly prefer: string | null };
// The gallery is asked for by the page after `done` (not part of the run's config), so an invalid
// gallery field never blocks a run.

/** Dropout masks of one step, for example 0 of the minibatch: 1 = kept, 0 = dropped. */
export interface StepMasks {
  /** First VIEW_UNITS units of hidden layer 1 and 2. */
  readonly h1: number[];
  readonly h2: number[];
  /** Fraction of all units of example 0 dropped in each layer. */
  readonly dropped1: number;
  readonly dropped2: number;
  /** The rate each hidden layer's draw used (0: nothing drawn there). */
  readonly p1: number;
  readonly p2: number;
  /** Every noise draw of the step, for example 0, in forward order (units, maps, blocks, heads, paths). */
  readonly sites: NoiseSiteView[];
}

/** One gallery entry: a test image with MC-dropout mean and spread of the class probabilities. */
export interface GalleryItem {
  readonly index: number;
  readonly label: number;
  readonly pred: number;
  readonly mean: number[];
  readonly std: number[];
  /** Weight scaling: the class probabilities of one deterministic pass with dropout off (`eval()`). */
  readonly evalProbs: number[];
  readonly evalPred: number;
}

/** Worker → page. */
export type FromWorker =
  | { readonly type: 'status'; readonly text: string }
  | { readonly type: 'data-missing'; readonly message: string }
  | { readonly type: 'error'; readonly message: string }
  | {
      readonly type: 'ready';
      readonly runId: number;
      readonly backend: string;
      readonly numTrain: number;
      readonly numVal: number;
    }
  | {
      readonly type: 'step';
      readonly runId: number;
      readonly epoch: number;
      readonly step: number;
      readonly stepsPerEpoch: number;
      readonly globalStep: number;
      readonly loss: number;
      readonly masks: StepMasks;
      readonly points: BoardPoint[];
    }
  | { readonly type: 'points'; readonly runId: number; readonly points: BoardPoint[] }
  | { readonly type: 'paused'; readonly runId: number; readonly paused: boolean }
  /** `metrics.epochSeconds` excludes the time the worker was held by pause or slow motion. */
  | { readonly type: 'epoch'; readonly runId: number; readonly metrics: EpochMetrics }
  | { readonly type: 'done'; readonly runId: number }
  /** The run stopped because its loss became NaN or ∞ (the Trainer's NumericError). */
  | { readonly type: 'diverged'; readonly runId: number; readonly message: string }
  | {
      readonly type: 'gallery';
      /** The run whose model the gallery shows. */
      readonly runId: number;
      readonly items: GalleryItem[];
      readonly images: Uint8Array;
      readonly passes: number;
      readonly hasDropout: boolean;
    };

/** URLs of the data files the lab server serves. */
export const DATA_URLS = {
  trainImages: '/data/train-images-idx3-ubyte',
  trainLabels: '/data/train-labels-idx1-ubyte',
  testImages: '/data/t10k-images-idx3-ubyte',
  testLabels: '/data/t10k-labels-idx1-ubyte',
} as const;
