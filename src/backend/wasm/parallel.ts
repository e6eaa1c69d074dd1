/**
 * The main thread's side of a parallel command (the protocol is in threads.ts): it owns the control
 * block and the per-thread workspaces in the heap, writes a command's arguments (by name, in the
 * layout of the command table, commands.ts) and chunk bounds, hands them to the helper pool and runs
 * its own chunks from the same table row. Without helpers (`active` false) callers run their kernel
 * directly. Every element is computed by the same kernel call whichever thread takes its chunk, so
 * results do not depend on the thread count.
 */
import {
  COMMAND_CODES,
  commandLayout,
  COMMANDS,
  runChunk,
  type CommandArgs,
  type CommandLayout,
  type CommandName,
} from './commands.js';
import { GEMM_CHUNKS_PER_THREAD, HandoffCost } from './cost-model.js';
import type { Kernels } from './exports.js';
import type { WasmHeap } from './heap.js';
import {
  boundsWord,
  controlBytes,
  CTL,
  FLOAT_OFFSET,
  FLOAT_SLOTS,
  MAX_CHUNKS,
  WORK_TABLE,
  type ThreadPool,
} from './threads.js';

/**
 * What the helper threads were asked to do, for the benchmark's profile (`--profile`): dispatches
 * by command and work size, and the main thread's time inside a dispatch not spent on a chunk of
 * its own (publishing, then waiting for the helpers' chunks): the price of the split.
 */
export interface ThreadTrace {
  /** Key `command work` (work: flops for products, elements otherwise) → dispatches and chunks. */
  readonly dispatches: Map<string, { count: number; chunks: number }>;
  /** Milliseconds of hand-off and waiting on the main thread. */
  syncMs: number;
}

/** The control block, the workspaces and the helper pool of one backend; see the file comment. */
export class Parallel {
  /** Set to record every dispatch (the profile); undefined (the default) costs one check per dispatch. */
  trace: ThreadTrace | undefined;
  /** The measured price of a dispatch, which decides whether the next ops are split (cost-model.ts). */
  readonly handoff = new HandoffCost();
  /** Byte offset of the control block helpers serve. */
  readonly ctl: number;
  private readonly ctlF64: Float64Array;
  private readonly chunkCapacity: number;
  private readonly workspace: { ptr: number; bytes: number }[] = [];
  private pool: ThreadPool | undefined;
  private readonly layouts = new Map<CommandName, CommandLayout>();

  /** Lays out a control block in `heap` for up to `maxThreads` threads (main thread included). */
  constructor(
    private readonly k: Kernels,
    private readonly heap: WasmHeap,
    memory: WebAssembly.Memory,
    private readonly maxThreads: number,
  ) {
    // A GEMM cuts at most 1.5 × GEMM_CHUNKS_PER_THREAD chunks per thread (planner.ts), the other commands at most T.
    this.chunkCapacity = Math.min(MAX_CHUNKS, 1.5 * GEMM_CHUNKS_PER_THREAD * maxThreads + 8);
    this.ctl = heap.allocBytes(controlBytes(maxThreads, this.chunkCapacity));
    // The control block sits below any later growth, so a view made now stays valid.
    this.ctlF64 = new Float64Array(memory.buffer, this.ctl + FLOAT_OFFSET, FLOAT_SLOTS);
  }

  /** Threads in use, the main thread included. */
  get threads(): number {
    return 1 + (this.pool?.helpers ?? 0);
  }

  /** True when helper threads are attached (else callers run kernels on this thread). */
  get active(): boolean {
    return this.pool !== undefined;
  }

  /** Attaches helper threads serving the control block. */
  attach(pool: ThreadPool): void {
    if (pool.helpers + 1 > this.maxThreads) throw new RangeError('wasm backend: more helpers than laid out');
    this.pool = pool.helpers > 0 ? pool : undefined;
  }

  /** Stops the helpers; work runs on this thread afterwards. */
  dispose(): void {
    this.pool?.dispose();
    this.pool = undefined;
  }

  /** A workspace of at least `bytes` in slot `slot` (kept and grown across calls). */
  work(slot: number, bytes: number): number {
    const w = this.workspace[slot];
    if (w !== undefined && w.bytes >= bytes) return w.ptr;
    if (w !== undefined) this.heap.freeBytes(w.ptr, w.bytes);
    const ptr = this.heap.allocBytes(bytes);
    this.workspace[slot] = { ptr, bytes };
    return ptr;
  }

  /**
   * Workspaces of `bytes` for every thread in slot family `family` (0: GEMM, 1: sparse product),
   * written into the control block's table; returns the main thread's.
   */
  workspaces(family: number, bytes: number): number {
    const ptrs: number[] = [];
    // work() may grow the memory (and remake heap.i32), so allocate first, then write the table.
    for (let t = 0; t < this.threads; t++) ptrs.push(this.work(2 * t + family, bytes));
    this.heap.i32.set(ptrs, (this.ctl >>> 2) + WORK_TABLE);
    return ptrs[0]!;
  }

  /**
   * Runs command `name` (commands.ts) with `args` over the chunks in `bounds` (i0, i1, j0, j1 per
   * chunk): all threads take chunks until none is left, each running the command's kernel on it with
   * its own workspace (the table written by `workspaces`).
   */
  chunks<N extends CommandName>(name: N, args: CommandArgs<N>, bounds: readonly number[], work = 0): void {
    const pool = this.pool!;
    if (bounds.length / 4 > this.chunkCapacity) {
      throw new RangeError(`wasm backend: ${bounds.length / 4} chunks exceed ${this.chunkCapacity}`);
    }
    const row = COMMANDS[name];
    let layout = this.layouts.get(name);
    if (layout === undefined) this.layouts.set(name, (layout = commandLayout(row)));
    const named = args as Readonly<Record<string, number>>;
    const i32 = this.heap.i32;
    const base = this.ctl >>> 2;
    i32[base + CTL.CMD] = COMMAND_CODES[name];
    i32.set(
      layout.ints.map((p) => named[p]!),
      base + CTL.ARGS,
    );
    this.ctlF64.set(layout.floats.map((p) => named[p]!));
    i32.set(bounds, base + boundsWord(this.threads));
    const ws = i32[base + WORK_TABLE]!;
    const trace = this.trace;
    let own = 0;
    const t0 = performance.now();
    pool.run(bounds.length / 4, (c) => {
      const b = 4 * c;
      const chunk = { i0: bounds[b]!, i1: bounds[b + 1]!, j0: bounds[b + 2]!, j1: bounds[b + 3]!, work: ws };
      const c0 = performance.now();
      runChunk(this.k, row, named, chunk);
      own += performance.now() - c0;
    });
    // What the split cost the main thread: publishing, and waiting for chunks a helper holds.
    const sync = performance.now() - t0 - own;
    this.handoff.record(1000 * sync);
    if (trace !== undefined) {
      trace.syncMs += sync;
      const key = `${name} ${work}`;
      const d = trace.dispatches.get(key) ?? { count: 0, chunks: 0 };
      d.count++;
      d.chunks += bounds.length / 4;
      trace.dispatches.set(key, d);
    }
  }

  /**
   * Runs elementwise command `name` over [0, size) cut into one range per thread at multiples of
   * `unit` (so every range takes the SIMD path).
   */
  ranges<N extends CommandName>(name: N, args: CommandArgs<N>, size: number, unit: number): void {
    const parts = this.threads;
    const bounds: number[] = [];
    for (let p = 0; p < parts; p++) {
      const from = p === 0 ? 0 : Math.ceil((size * p) / parts / unit) * unit;
      const to = p === parts - 1 ? size : Math.ceil((size * (p + 1)) / parts / unit) * unit;
      if (to > from) bounds.push(from, to, 0, 0);
    }
    this.chunks(name, args, bounds, size);
  }
}
