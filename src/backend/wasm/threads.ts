/**
 * Helper threads for the wasm backend: a control block in shared linear memory and the loop a
 * helper runs. The main thread writes a command and its arguments, bumps SEQ to s and notifies;
 * the helper claims the command (CLAIM s - 1 -> s), runs its share and stores s into DONE. When the
 * main thread finishes its own share first and the helper has not claimed yet (descheduled on a busy
 * machine), the main thread claims it (same exchange) and runs that share itself instead of
 * waiting; either way the same code computes each element, so results do not change. Tying the claim
 * to s means a helper that wakes after the main thread has moved on to a later command can never
 * claim it with a stale view (it reads the command only after winning the claim). Atomics.wait/notify keep a
 * hand-off in the tens of microseconds, where a postMessage round trip costs far more. The loop is
 * plain JavaScript source so Node worker_threads (node-host.ts) and browser Web Workers (web-host.ts,
 * from a Blob URL, when crossOriginIsolated) both run it; controlHelper is the main side of both.
 */

/** Byte size of the control block (Int32 words, then Float64 arguments at FLOAT_OFFSET). */
export const CONTROL_BYTES = 512;
/**
 * Int32 word indices in the control block. NEXT is the next unclaimed chunk of a chunked GEMM: both
 * threads take chunks with Atomics.add until none is left, so a helper that wakes late simply
 * takes fewer chunks instead of leaving a whole half to the main thread.
 */
export const CTL = { SEQ: 0, DONE: 1, CMD: 2, CLAIM: 3, NEXT: 4, ARGS: 5 } as const;
/** Byte offset of the Float64 argument area within the control block. */
export const FLOAT_OFFSET = 384;
/**
 * GEMM argument layout after CTL.ARGS: a, b, c, m, n, k, transA, transB, helper workspace, bias,
 * relu, chunk count, then (i0, i1, j0, j1) per chunk. The sparse product (SPMM) uses the same
 * layout and ignores j0, j1 (its chunks are whole rows).
 */
export const GEMM_ARGS = { WORK: 8, BIAS: 9, RELU: 10, CHUNKS: 11, BOUNDS: 12 } as const;

/** Commands a helper understands. */
export const CMD = { EXIT: 0, GEMM: 1, DROPOUT: 2, UNIFORM: 3, SGD: 4, SPMM: 5, DROPMASK: 6 } as const;

/** A helper thread that runs one command at a time from the control block. */
export interface Helper {
  /** Starts the command already written to the control block (bumps SEQ and wakes the helper). */
  start(): void;
  /**
   * Completes the last started command: runs `helperShare` on this thread if the helper has not
   * claimed it yet, else blocks until the helper is done.
   */
  finish(helperShare: () => void): void;
  /** Stops the helper; idempotent. */
  dispose(): void;
}

/**
 * How long (ms) the helper polls after its last command before sleeping in Atomics.wait. A training
 * step issues a parallel kernel every few hundred microseconds; a sleeping helper takes tens of
 * microseconds (more on a busy machine) to wake, so polling through the gaps keeps both cores on the
 * GEMMs. GEMMs are cut into chunks taken dynamically, so a helper that is late (descheduled on a busy
 * machine) only takes fewer chunks.
 */
export const HELPER_SPIN = 0.3;

/** How long the main thread polls for DONE (~50 µs) before sleeping; the halves usually end together. */
const MAIN_SPIN = 10000;
/** A helper that does not answer within this time is presumed dead (it would otherwise hang us). */
const FINISH_TIMEOUT_MS = 30000;

/**
 * The main thread's side of the protocol for a helper already serving the control block at byte
 * `ctl` of `memory`. `canBlock` is false where Atomics.wait is not allowed (a page's main thread):
 * the wait for the helper then polls. `terminate` stops the helper's worker.
 */
export function controlHelper(
  memory: WebAssembly.Memory,
  ctl: number,
  canBlock: boolean,
  terminate: () => void,
): Helper {
  const words = new Int32Array(memory.buffer, ctl, 4);
  let seq = Atomics.load(words, CTL.SEQ);
  let disposed = false;
  const helper: Helper = {
    start() {
      // CLAIM = previous seq whether or not anyone claimed it (a share abandoned by an exception
      // would otherwise block every later claim); values only grow, so a stale helper still fails.
      Atomics.store(words, CTL.CLAIM, seq);
      seq = (seq + 1) | 0;
      Atomics.store(words, CTL.SEQ, seq);
      Atomics.notify(words, CTL.SEQ);
    },
    finish(helperShare) {
      const prev = (seq - 1) | 0;
      if (Atomics.compareExchange(words, CTL.CLAIM, prev, seq) === prev) {
        helperShare();
        return;
      }
      for (let n = 0; n < MAIN_SPIN; n++) if (Atomics.load(words, CTL.DONE) === seq) return;
      const deadline = Date.now() + FINISH_TIMEOUT_MS;
      while (Atomics.load(words, CTL.DONE) !== seq) {
        if (canBlock) Atomics.wait(words, CTL.DONE, Atomics.load(words, CTL.DONE), 100);
        if (Date.now() > deadline) throw new Error('wasm backend: helper thread stopped responding');
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      Atomics.store(words, CTL.CMD, CMD.EXIT);
      helper.start();
      terminate();
    },
  };
  return helper;
}

/**
 * Source of `function helperLoop(bytes, memory, ctl, spin)`: instantiates the kernels on the shared
 * memory and serves commands until EXIT. Kept free of host APIs so any worker flavour can eval it.
 */
export const HELPER_LOOP_SOURCE = `
function helperLoop(bytes, memory, ctl, spin) {
  const k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  const I = new Int32Array(memory.buffer, ctl, ${FLOAT_OFFSET / 4});
  const F = new Float64Array(memory.buffer, ctl + ${FLOAT_OFFSET}, 4);
  const A = ${CTL.ARGS};
  let seen = Atomics.load(I, ${CTL.SEQ});
  for (;;) {
    // Poll for up to \`spin\` ms after the last command (a training step's kernels come tens of
    // microseconds apart), then sleep in Atomics.wait until the next one.
    let s = Atomics.load(I, ${CTL.SEQ});
    let idleSince = performance.now();
    for (let n = 0; s === seen; n++) {
      if ((n & 1023) === 1023 && performance.now() - idleSince > spin) {
        Atomics.wait(I, ${CTL.SEQ}, seen);
        idleSince = performance.now();
      }
      s = Atomics.load(I, ${CTL.SEQ});
    }
    seen = s;
    const prev = (s - 1) | 0;
    const cmd = Atomics.compareExchange(I, ${CTL.CLAIM}, prev, s) === prev ? I[${CTL.CMD}] : -1;
    if (cmd === ${CMD.EXIT}) return;
    if (cmd === -1) {
      // The main thread ran this share itself, or a later command is already out.
    } else if (cmd === ${CMD.GEMM} || cmd === ${CMD.SPMM}) {
      // Both take chunks of C (GEMM_ARGS); the sparse product's chunks are whole rows.
      const chunks = I[A + ${GEMM_ARGS.CHUNKS}];
      for (;;) {
        const c = Atomics.add(I, ${CTL.NEXT}, 1);
        if (c >= chunks) break;
        const b = A + ${GEMM_ARGS.BOUNDS} + 4 * c;
        const w = I[A + ${GEMM_ARGS.WORK}], bias = I[A + ${GEMM_ARGS.BIAS}], relu = I[A + ${GEMM_ARGS.RELU}];
        if (cmd === ${CMD.GEMM}) {
          k.gemm(I[A], I[A + 1], I[A + 2], I[A + 3], I[A + 4], I[A + 5], I[A + 6], I[A + 7],
            I[b], I[b + 1], I[b + 2], I[b + 3], w, bias, relu);
        } else {
          k.spmm(I[A], I[A + 1], I[A + 2], I[A + 3], I[A + 4], I[A + 5], I[A + 6], I[A + 7],
            I[b], I[b + 1], w, bias, relu);
        }
      }
    } else if (cmd === ${CMD.DROPOUT}) {
      k.dropout(I[A], I[A + 1], I[A + 2], I[A + 3], I[A + 4], I[A + 5], F[0], I[A + 6], F[1], I[A + 7]);
    } else if (cmd === ${CMD.DROPMASK}) {
      k.dropoutMasked(I[A], I[A + 1], I[A + 2], I[A + 3], I[A + 4], F[1]);
    } else if (cmd === ${CMD.SGD}) {
      k.sgdStep(I[A], I[A + 1], I[A + 2], I[A + 3], F[0], F[1], F[2]);
    } else if (cmd === ${CMD.UNIFORM}) {
      k.randomUniform(I[A], I[A + 1], I[A + 2], I[A + 3], I[A + 4], F[0]);
    }
    Atomics.store(I, ${CTL.DONE}, s);
    Atomics.notify(I, ${CTL.DONE});
  }
}
`;
