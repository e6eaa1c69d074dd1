/**
 * Training checkpoints: everything needed to resume a run bit for bit (epoch, the model's and the data
 * shuffle's generator states, the optimiser's hyperparameters, the metrics so far, weights and momentum)
 * in a versioned single-file format. One concern per file under checkpoint/: the data (types.ts), the
 * container's bytes (container.ts), the header's JSON schema (schema.ts) and the resume check
 * (compatibility.ts); this module gathers them. The Node file I/O is src/node/checkpointFiles.ts's.
 */
export type {
  AdamWCheckpointState,
  ConfigValue,
  LrScheduleState,
  DataPosition,
  OptimizerHparams,
  PartialEpoch,
  TrainingCheckpoint,
} from './checkpoint/types.js';
export {
  CHECKPOINT_MAGIC,
  MAX_CHECKPOINT_HEADER_BYTES,
  decodeCheckpoint,
  encodeCheckpoint,
} from './checkpoint/container.js';
export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, MAX_CHECKPOINT_PAYLOAD_BYTES } from './checkpoint/schema.js';
export { checkCompatible, type RunIdentity } from './checkpoint/compatibility.js';
/** The checksum of the container (re-exported for tests that forge checkpoints byte by byte). */
export { sha256Hex } from '../data/sha256.js';
