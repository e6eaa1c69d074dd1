/**
 * The wasm backend's thread limit, in a file of its own so createBackend (select.ts) can validate a
 * thread count without loading the kernels, and both sides state the limit once.
 */

/** Most threads one wasm backend runs (the control block's chunk tag has room for far more). */
export const MAX_THREADS = 256;
