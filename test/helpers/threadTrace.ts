/**
 * A wasm backend whose helper-thread dispatches are recorded, for the tests that check a kernel was
 * really split across threads and gives the same bits on every thread count.
 */
import type { HandoffCost } from '../../src/backend/wasm/cost-model.js';
import type { WasmBackend } from '../../src/backend/wasm/index.js';
import type { ThreadTrace } from '../../src/backend/wasm/parallel.js';

/**
 * Records `be`'s dispatches into the returned trace and keeps its hand-off cost at the nominal value:
 * on a loaded machine the measured cost would grow and stop the very splits these tests are about
 * (the static cost model splits the same ops on every run).
 */
export function traceThreads(be: WasmBackend): ThreadTrace {
  const trace: ThreadTrace = { dispatches: new Map(), syncMs: 0 };
  be.traceThreads(trace);
  (be as unknown as { parallel: { handoff: HandoffCost } }).parallel.handoff.record = () => {};
  return trace;
}

/** The commands a trace saw (`gemm`, `attention`, …), without their sizes. */
export function commandsOf(trace: ThreadTrace): Set<string> {
  return new Set([...trace.dispatches.keys()].map((k) => k.split(' ')[0]!));
}
