/**
 * Training checkpoints: everything needed to resume a run bit for bit, and the plain functions that
 * take, check and restore them. One concern per file under checkpoint/: the data (types.ts), the
 * container's bytes (container.ts), the header's JSON schema (schema.ts), a run's identity
 * (identity.ts) and the resume check against it (compatibility.ts), where a run stands (position.ts),
 * the live run they act on (state.ts), the optimiser's state by name (optimizerState.ts), taking a
 * checkpoint (capture.ts), restoring one (restore.ts) and stopping on an interrupt (interrupt.ts).
 * This module gathers them; the Trainer's loop calls them. The Node file I/O is
 * src/node/checkpointFiles.ts's.
 */
export type {
  AdamWCheckpointState,
  ConfigValue,
  LrScheduleState,
  DataPosition,
  OptimizerHparams,
  PartialEpoch,
  TrainingCheckpoint,
  Checkpointer,
} from './checkpoint/types.js';
export {
  CHECKPOINT_MAGIC,
  MAX_CHECKPOINT_HEADER_BYTES,
  decodeCheckpoint,
  encodeCheckpoint,
} from './checkpoint/container.js';
export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, MAX_CHECKPOINT_PAYLOAD_BYTES } from './checkpoint/schema.js';
export { checkCompatible, type RunIdentity } from './checkpoint/compatibility.js';
export { runIdentity, scalarHparams, type IdentityOptions } from './checkpoint/identity.js';
export {
  afterStep,
  checkPosition,
  examplesConsumed,
  globalStep,
  isMidEpoch,
  nextEpoch,
  partialEpoch,
  positionOf,
  runStart,
  trainLossPoint,
  windowCleared,
  withSeconds,
  type EpochSums,
  type RunPosition,
  type RunShape,
} from './checkpoint/position.js';
export { shuffleGeneratorOf, type TrainingState } from './checkpoint/state.js';
export { captureCheckpoint } from './checkpoint/capture.js';
export { checkResumable, restoreCheckpoint } from './checkpoint/restore.js';
export { interrupt } from './checkpoint/interrupt.js';
/** The checksum of the container (re-exported for tests that forge checkpoints byte by byte). */
export { sha256Hex } from '../data/sha256.js';
