/**
 * When the wasm backend splits an op across its helper threads, and into how many chunks. A split
 * costs the main thread a hand-off (publish the command, a helper wakes or stops spinning, the main
 * thread waits for the last chunk) whatever the op's size, and saves at most the part of the work the
 * helpers take; so an op is split only when the time it saves beats that cost, and never into chunks
 * smaller than the cost itself (a chunk that size would take longer to hand off than to run). With
 * T threads and W microseconds of one-thread work, a split into T shares costs about W/T + HANDOFF,
 * so it pays from W > HANDOFF·T/(T − 1): twice the hand-off on two threads. This is what keeps
 * `--threads 2` from losing to `--threads 1` on the small ops of a small model. The split changes
 * only the time: every element is computed by the same kernel call whichever thread runs its chunk.
 */

/**
 * Microseconds one hand-off costs the main thread: the main thread's spin budget for the last chunk
 * (threads.ts, ~50 µs) and a sleeping helper's wake-up (tens of µs). Not yet measured on a quiet
 * machine: `bench --profile MODEL --threads 2` prints the thread-sync time and the dispatches per
 * step, whose ratio is this figure.
 */
export const HANDOFF_MICROS = 50;

/**
 * Work one thread does per microsecond, by kind of op: GEMM flops (the SIMD GEMM ran at ~22 GFLOP/s
 * on one core of the dev machine in `bench --profile cnn --clock cpu`; 15 is taken so the model errs
 * towards not splitting), and elements for the streaming kernels (dropout, uniform draws, SGD,
 * im2col/col2im), set so that at the nominal hand-off their break-even is the fixed threshold they
 * had before (1 << 15 elements, wasm-backend.ts): only a measured hand-off above it changes them.
 * The strided elementwise kernels are measured per kind (min of 150 runs of 557056 elements on the
 * loaded 2-core dev machine): `streaming` (binary, where, copy, neg/abs/sqrt: one SIMD op per 4
 * elements, memory-bound) ran at ~4000 elements/µs in cache and ~1800 in the ViT's profile (75 ms
 * for ~137 M elements a step), 3000 taken so only the ViT's largest (≥ 300k elements) split on two
 * threads; `transcendental` (exp, log, tanh: scalar, in float64) ran at ~190, and the fused softmax
 * forward (float32 SIMD exp, float64 row sums; [17408, 17], min of 200 runs) at ~200 (~95 while its
 * exp was float64 Math.exp), so it takes that rate too. `gelu`, the fused GELU
 * and its backward (all f32x4, their exp included: ~45 and ~65 SIMD steps per 4 elements), ran at
 * ~400 and ~280 (1.4 and 2.0 ms for [4352, 128]; ~105 while their exp was float64 Math.exp lane by
 * lane), taken as 300: at the nominal hand-off they split on two threads from ~30k elements.
 * `normalization` (the fused LayerNorm on the ViT's [4352, 64], float64 row sums four rows at a time)
 * ran at ~790 elements/µs forward and ~550 backward (min of 50 runs, loaded machine); 500 taken.
 * `directConv` counts the direct convolution's flops (2 per tap per output, forward or weight
 * gradient): LeNet's first layer (60 MFLOP each way at batch 256) ran in ~3.5 ms forward and ~3.8 ms
 * for the weight gradient on one core of the loaded dev machine (min of 30, cpu clock), ~16 GFLOP/s;
 * 15 is taken as for the GEMM. `attention` counts the fused attention's forward flops (2 per
 * multiply-add of its two products; its backward is counted as its forward's): the tiny ViT's
 * [256, 17, 4, 16] (18.9 MFLOP, 17408 softmax rows) ran in ~1.9 ms forward and ~2.1 ms backward on one
 * core of the loaded dev machine (min of 60, cpu clock; ~3.8 and ~2.7 ms before the four-row softmax,
 * paired product rows and vectorized kᵀ/vᵀ staging), ~9–10 GFLOP/s with its exps; 9 is taken.
 */
export const WORK_PER_MICRO = {
  gemm: 15000,
  directConv: 15000,
  spmm: 15000,
  elements: 327,
  streaming: 3000,
  transcendental: 190,
  normalization: 500,
  gelu: 300,
  attention: 9000,
} as const;

/**
 * Chunks a split GEMM is cut into per thread, at most (the cost model may take fewer). All threads take
 * chunks until none is left, so the last chunk's wait is what a split loses; on the 2-core VM four a
 * thread against two took the ViT's GEMM row (×2, `bench --profile vit`, six alternating pairs) from
 * ~98 to ~85 ms a step on average, the CNN's and the dropout MLP's no slower.
 */
export const GEMM_CHUNKS_PER_THREAD = 4;

/** A kind of work the model knows. */
export type WorkKind = keyof typeof WORK_PER_MICRO;

/**
 * How many chunks to cut `work` units of `kind` into for `threads` threads (at most `maxChunks`):
 * 1 (run on this thread, no hand-off) unless splitting saves more than a hand-off, and never so many
 * that a chunk holds less than a hand-off's worth of work.
 */
export function splitChunks(
  kind: WorkKind,
  work: number,
  threads: number,
  maxChunks: number,
  handoffMicros = HANDOFF_MICROS,
): number {
  if (threads < 2) return 1;
  const micros = work / WORK_PER_MICRO[kind];
  if (micros * (1 - 1 / threads) <= handoffMicros) return 1;
  return Math.max(1, Math.min(maxChunks, Math.floor(micros / handoffMicros)));
}

/**
 * The hand-off cost as this process sees it: a running average of the main thread's time inside a
 * dispatch not spent on its own chunks, starting from HANDOFF_MICROS. On a machine with more runnable
 * threads than cores a helper is often descheduled holding a chunk and the main thread waits for it
 * (measured here under load: the dropout MLP took 7.6 s an epoch on 2 threads against 2.3 s on 1),
 * so the cost grows and the model stops splitting all but the largest ops. Every PROBE_EVERY-th op
 * the static model would split is split anyway, so the average follows the machine when it calms.
 */
export class HandoffCost {
  /** Current estimate, µs. */
  micros = HANDOFF_MICROS;
  private refused = 0;

  /** Folds in one dispatch's measured main-thread overhead (µs). */
  record(micros: number): void {
    this.micros += (micros - this.micros) / 8;
  }

  /** splitChunks with the measured cost, probing now and then when that says no and the constant yes. */
  chunks(kind: WorkKind, work: number, threads: number, maxChunks: number): number {
    const measured = splitChunks(kind, work, threads, maxChunks, Math.max(HANDOFF_MICROS, this.micros));
    if (measured > 1) return measured;
    const nominal = splitChunks(kind, work, threads, maxChunks);
    if (nominal > 1 && ++this.refused % PROBE_EVERY === 0) return nominal;
    return 1;
  }
}

/** One op in this many that the measured cost refuses to split (and the constant would) is split to re-measure. */
export const PROBE_EVERY = 32;
