/**
 * Helper threads for the wasm backend: a control block in shared linear memory and the loop each
 * helper runs. Every parallel command is a list of chunks (regions of C, or element ranges). The
 * main thread writes the command, its arguments and its chunks, then publishes it by storing a
 * fresh tag into NEXT and bumping SEQ; every thread, the main one included, takes chunks with a
 * compare-and-swap on NEXT until none is left, and counts finished chunks in DONE; the main thread
 * returns once DONE equals the chunk count. A helper that is late (descheduled on a busy machine)
 * simply takes fewer chunks, so the main thread never waits for a share nobody started. NEXT holds
 * (tag << CHUNK_BITS) | next chunk, the tag being the command's sequence number: a helper that wakes
 * after the main thread has moved on sees a foreign tag and its swap fails, so it can never run a
 * chunk with another command's arguments (it reads them only after winning the swap, and the main
 * thread rewrites them only after every chunk is done). Each element is computed by the same code
 * whichever thread takes its chunk, so results do not depend on the thread count.
 * Atomics.wait/notify keep a hand-off in the tens of microseconds, where a postMessage round trip
 * costs far more. The loop is plain JavaScript source so Node worker_threads (node-host.ts) and
 * browser Web Workers (web-host.ts, from a Blob URL, when crossOriginIsolated) both run it;
 * controlPool is the main side of both. The commands, their codes and argument layouts come from one
 * table (commands.ts): the dispatch below is generated from it.
 */
import { EXIT_CODE, helperDispatchSource } from './commands.js';

/** Int32 word indices in the control block's header. */
export const CTL = { SEQ: 0, DONE: 1, CMD: 2, NEXT: 3, CHUNKS: 4, ARGS: 5 } as const;
/** Float64 slots in the argument area. */
export const FLOAT_SLOTS = 4;
/** Byte offset of the Float64 argument area (FLOAT_SLOTS values) within the control block. */
export const FLOAT_OFFSET = 64;
/** Int32 word index of the workspace table (one pointer per thread; main thread first). */
export const WORK_TABLE = 24;
/** Low bits of NEXT that count chunks; the rest is the command's tag. */
const CHUNK_BITS = 12;
/** Most chunks one command may have. */
export const MAX_CHUNKS = (1 << CHUNK_BITS) - 1;

/** Int32 word index of the chunk bounds (i0, i1, j0, j1 per chunk) for `threads` threads. */
export function boundsWord(threads: number): number {
  return WORK_TABLE + threads;
}

/** Byte size of the control block for `threads` threads and up to `chunks` chunks per command. */
export function controlBytes(threads: number, chunks: number): number {
  return 4 * (boundsWord(threads) + 4 * chunks);
}

/** The main thread's handle on its helper threads. */
export interface ThreadPool {
  /** Helper threads (the main thread not included). */
  readonly helpers: number;
  /**
   * Publishes the command already written to the control block (CMD, arguments, workspaces and
   * `chunks` bounds), runs chunks on this thread with `chunk(c)` until none is left, and returns when
   * every chunk is done.
   */
  run(chunks: number, chunk: (c: number) => void): void;
  /** Stops the helpers; idempotent. */
  dispose(): void;
}

/**
 * How long (ms) a helper polls after its last command before sleeping in Atomics.wait. A training
 * step issues a parallel kernel every few hundred microseconds, with gaps of JS work and unsplit
 * kernels between them; a sleeping helper takes tens to hundreds of microseconds to wake (an idle
 * virtual CPU more), and by then the main thread has taken most of the chunks. Chunks are taken
 * dynamically, so a late helper only takes fewer of them. Measured on the 2-core dev VM, wasm ×2,
 * alternating rounds (median ms/step, 0.3 ms poll → 3 ms): LeNet CNN 41.2 → 35.8 and 41.6 → 39.6,
 * dropout MLP 6.7 → 6.2, tiny ViT 165 → 152 in one run and 135 → 146 in another (1 thread: 47.6,
 * 8.2 and 176); a 20 ms poll gained no more (CNN 35.5, ViT 130). The VM's ±30% drift is in these.
 */
export const HELPER_SPIN = 3;

/** How long the main thread polls for DONE (~50 µs) before sleeping; the chunks usually end together. */
const MAIN_SPIN = 10000;
/** A helper that does not answer within this time is presumed dead (it would otherwise hang us). */
const FINISH_TIMEOUT_MS = 30000;

/** NEXT's tag for sequence number `seq` (kept positive so the shifted value fits an Int32). */
function tagOf(seq: number): number {
  return (seq & ((1 << (31 - CHUNK_BITS)) - 1)) << CHUNK_BITS;
}

/**
 * The main thread's side of the protocol for `helpers` helpers already serving the control block at
 * byte `ctl` of `memory`. `canBlock` is false where Atomics.wait is not allowed (a page's main
 * thread): the wait for the helpers then polls. `terminate` stops the helpers' workers.
 */
export function controlPool(
  memory: WebAssembly.Memory,
  ctl: number,
  helpers: number,
  canBlock: boolean,
  terminate: () => void,
): ThreadPool {
  const words = new Int32Array(memory.buffer, ctl, WORK_TABLE);
  let seq = Atomics.load(words, CTL.SEQ);
  let disposed = false;
  const publish = (chunks: number): number => {
    seq = (seq + 1) | 0;
    const tag = tagOf(seq);
    words[CTL.CHUNKS] = chunks;
    Atomics.store(words, CTL.DONE, 0);
    Atomics.store(words, CTL.NEXT, tag);
    Atomics.store(words, CTL.SEQ, seq);
    Atomics.notify(words, CTL.SEQ);
    return tag;
  };
  return {
    helpers,
    run(chunks, chunk) {
      const tag = publish(chunks);
      for (;;) {
        const v = Atomics.load(words, CTL.NEXT);
        const c = v - tag;
        if (c >= chunks) break;
        if (Atomics.compareExchange(words, CTL.NEXT, v, v + 1) !== v) continue;
        chunk(c);
        Atomics.add(words, CTL.DONE, 1);
      }
      // Every chunk is taken; wait for those still running on helpers.
      for (let n = 0; n < MAIN_SPIN; n++) if (Atomics.load(words, CTL.DONE) === chunks) return;
      const deadline = Date.now() + FINISH_TIMEOUT_MS;
      for (let done = Atomics.load(words, CTL.DONE); done !== chunks; done = Atomics.load(words, CTL.DONE)) {
        if (canBlock) Atomics.wait(words, CTL.DONE, done, 100);
        if (Date.now() > deadline) throw new Error('wasm backend: a helper thread stopped responding');
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      words[CTL.CMD] = EXIT_CODE;
      publish(0);
      terminate();
    },
  };
}

/**
 * Source of `function helperLoop(bytes, memory, ctl, threads, index, spin)`: instantiates the
 * kernels on the shared memory and serves commands as thread `index` (1 … threads − 1) until EXIT.
 * Kept free of host APIs so any worker flavour can eval it.
 */
export const HELPER_LOOP_SOURCE = `
function helperLoop(bytes, memory, ctl, threads, index, spin) {
  const k = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  const I = new Int32Array(memory.buffer, ctl, ${WORK_TABLE} + threads);
  const B = new Int32Array(memory.buffer, ctl + 4 * (${WORK_TABLE} + threads));
  const F = new Float64Array(memory.buffer, ctl + ${FLOAT_OFFSET}, ${FLOAT_SLOTS});
  const A = ${CTL.ARGS};
  const tagMask = ${(1 << (31 - CHUNK_BITS)) - 1};
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
    if (Atomics.load(I, ${CTL.CMD}) === ${EXIT_CODE}) return;
    const tag = (s & tagMask) << ${CHUNK_BITS};
    for (;;) {
      const v = Atomics.load(I, ${CTL.NEXT});
      const c = v - tag;
      // A foreign tag (the main thread moved on) or no chunk left: wait for the next command.
      if (c < 0 || c > ${MAX_CHUNKS} || c >= I[${CTL.CHUNKS}]) break;
      if (Atomics.compareExchange(I, ${CTL.NEXT}, v, v + 1) !== v) continue;
      // This chunk is ours, so the command and its arguments stay until we count it done.
      const cmd = I[${CTL.CMD}], b = 4 * c, work = I[${WORK_TABLE} + index];
      const i0 = B[b], i1 = B[b + 1], j0 = B[b + 2], j1 = B[b + 3];
      // Generated from the command table (commands.ts): the kernel call of each command.
      ${helperDispatchSource()}
      if (Atomics.add(I, ${CTL.DONE}, 1) + 1 === I[${CTL.CHUNKS}]) Atomics.notify(I, ${CTL.DONE});
    }
  }
}
`;
