/**
 * dropout-lab/internals: the kernel-level pieces, for backend authors, tools and tests. Not part of the
 * stable library surface: these may change in any release. Library users need only `dropout-lab`
 * (and `dropout-lab/node`).
 */
export type {
  AttentionShape,
  Backend,
  BinaryOp,
  MatmulEpilogue,
  RandomDist,
  RandomStream,
  ReduceOp,
  SgdParams,
  StorageId,
  UnaryOp,
} from './backend/backend.js';
export { philox4x32, fillUniform } from './random/philox.js';
export { decodeCheckpoint, encodeCheckpoint } from './train/checkpoint.js';
export type { PrimitiveAttrs } from './autograd/primitiveAttrs.js';
export { graphTensorCount } from './tensor/engine.js';
