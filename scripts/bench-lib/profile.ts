/**
 * `npm run bench -- --profile MODEL`: where one training step's time goes, per kind of op. Every
 * Backend method call is timed by a wrapper (installed only here, so ordinary runs pay nothing) and
 * grouped by kernel; "JS dispatch" is the step's time minus the time inside kernels (autograd, tensor
 * bookkeeping), and "thread sync" is the main
 * thread's time inside helper-thread dispatches not spent on a chunk of its own (parallel.ts's trace).
 * The GEMMs' flops over the step's time, against the measured SIMD peak, say how far the step is
 * from the machine's arithmetic limit.
 *
 * Two clocks: `wall` (performance.now) for a quiet machine, and `cpu` (process.cpuUsage: the
 * process's CPU time, which on one thread is the main thread's) for a loaded one, where other work
 * would otherwise land in whichever kernel was running when the core was taken away.
 *
 * Two things once made the JS row several times the JavaScript a step runs (a tiny-batch ViT step,
 * nearly all JavaScript, took ~5 ms unwrapped and ~18 ms wrapped):
 * - the wrapper's own cost (its call-site keys, maps, spread calls, the garbage they make) is larger
 *   than a no-op calibration says, so the step's time is taken from rounds run without the wrapper,
 *   and the kernels' from rounds run with it (less the clock reads' share of each call, measured on a
 *   no-op); "profiler overhead" is the difference of the two rounds' steps, outside the step;
 * - V8 optimises the engine's hot functions only after many calls (that step's JavaScript ran ~3×
 *   slower over steps 5–25 than after 60), so the rounds follow a warm-up of `warm` steps.
 */
import type { Backend } from '../../src/backend/backend.js';
import type { FashionMNIST } from '../../src/data/fashionMnist.js';
import type { ThreadTrace } from '../../src/backend/wasm/parallel.js';
import { productFlops } from './flops.js';
import { buildLabRun, releaseBackend, trainSteps, useBackend } from './lab.js';
import type { HParams, ModelKind } from './protocol.js';

/** The op kinds of the profile, in report order, and the Backend methods each covers. */
export const OP_KINDS = {
  GEMM: ['matmul', 'batchMatmul'],
  'im2col/col2im': ['im2col', 'col2im'],
  'unfolded conv': ['conv2dUnfolded', 'conv2dUnfoldedBackward'],
  pooling: ['maxPool2d', 'maxPool2dBackward'],
  'direct conv': ['conv2d', 'conv2dWeightGrad'],
  elementwise: ['fill', 'unary', 'binary', 'where', 'copyStrided', 'gather', 'scatterAdd', 'sgdStep'],
  reductions: ['reduce', 'argmax'],
  softmax: ['softmax', 'softmaxBackward', 'softmaxCrossEntropy'],
  attention: ['attention', 'attentionBackward'],
  normalization: ['layerNorm', 'layerNormBackward'],
  random: ['random', 'dropout'],
  'memory & transfer': ['alloc', 'free', 'write', 'readSync', 'read', 'memory'],
} as const satisfies Record<string, readonly (keyof Backend)[]>;
type OpKind = keyof typeof OP_KINDS;

/** Which clock the profile reads; see the file comment. */
export type ProfileClock = 'wall' | 'cpu';

/** One row of the profile: a kind of op, or JS dispatch, or thread sync. */
export interface ProfileRow {
  readonly kind: string;
  /** Seconds per step. */
  readonly seconds: number;
  /** Share of the step. */
  readonly share: number;
  /** Calls per step (kernels only). */
  readonly calls: number;
}

/** The profile of one model on one configuration. */
export interface StepProfile {
  readonly model: ModelKind;
  readonly threads: number;
  readonly clock: ProfileClock;
  readonly steps: number;
  /** Untimed steps run first (the JIT's warm-up; see the file comment). */
  readonly warmSteps: number;
  /** Seconds per training step (batch gather, step, loss read), by `clock`. */
  readonly stepSeconds: number;
  readonly rows: ProfileRow[];
  /** Per Backend method: seconds and calls per step. */
  readonly kernels: { name: string; seconds: number; calls: number }[];
  /** GEMM flops per step (2·m·n·k per product, the batched ones times their batch). */
  readonly gemmFlops: number;
  /** Helper-thread dispatches per step by `command work` key (empty on one thread). */
  readonly dispatches: { key: string; perStep: number; chunksPerDispatch: number }[];
  /** What the wrapper added to a step, per timed call (µs); not part of `stepSeconds` (rounds without it). */
  readonly overheadMicros: number;
  /** Per call site (kernel, op and shape, see `callSite`): seconds and calls per step, slowest first. */
  readonly sites: { site: string; seconds: number; calls: number }[];
}

/**
 * A kernel call's site: the method, its op and the shape it ran on (a GEMM's m×n×k and transposes,
 * an elementwise op's output shape, a window's geometry), so one step's many calls of one kernel
 * split into the places a model makes them and a fused kernel's target can be read off.
 */
export function callSite(name: string, args: readonly unknown[]): string {
  const nums = (from: number, count: number): number[] => args.slice(from, from + count) as number[];
  const shape = (v: unknown): string => (Array.isArray(v) ? `[${v.join(',')}]` : '');
  switch (name) {
    case 'matmul': {
      const [m, n, k] = nums(3, 3);
      const t = `${args[6] === true ? 'ᵀ' : ''}·${args[7] === true ? 'ᵀ' : ''}`;
      return `matmul ${m}×${n}×${k} ${t}${args[8] === undefined ? '' : ' +epilogue'}`;
    }
    case 'batchMatmul': {
      const [b, m, n, k] = nums(3, 4);
      return `batchMatmul ${b}× ${m}×${n}×${k} ${args[7] === true ? 'ᵀ' : ''}·${args[8] === true ? 'ᵀ' : ''}`;
    }
    case 'unary':
    case 'binary':
    case 'where':
      return `${name} ${name === 'where' ? '' : String(args[0])} ${shape(args[args.length - 1])}`;
    case 'copyStrided':
      return `copyStrided ${shape(args[6])}`;
    case 'reduce':
      return `reduce ${String(args[0])} [${nums(2, 3).join(',')}]`;
    case 'im2col':
    case 'col2im':
    case 'conv2dUnfolded':
    case 'conv2dUnfoldedBackward': {
      const g = args[name.startsWith('conv') ? 3 : 2] as Record<string, number>;
      return `${name} ${g['batch']}×${g['channels']}×${g['height']}×${g['width']} k${g['kernelH']}×${g['kernelW']} s${g['strideH']}`;
    }
    default:
      return name;
  }
}

function clockOf(clock: ProfileClock): () => number {
  if (clock === 'wall') return () => performance.now() / 1000;
  return () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
}

/** What the wrapper tallies: per Backend method, per call site, and GEMM flops. */
interface Tally {
  readonly perMethod: Map<string, { seconds: number; calls: number }>;
  readonly sites: Map<string, { seconds: number; calls: number }>;
  gemmFlops: number;
}

function newTally(): Tally {
  return { perMethod: new Map(), sites: new Map(), gemmFlops: 0 };
}

/** `fn` (Backend method `name`) timed by `now`: the call's time goes to its method's and its call site's slot. */
function timed(
  name: string,
  fn: (...a: unknown[]) => unknown,
  now: () => number,
  tally: Tally,
): (...args: unknown[]) => unknown {
  const slot = { seconds: 0, calls: 0 };
  tally.perMethod.set(name, slot);
  return (...args: unknown[]): unknown => {
    tally.gemmFlops += productFlops(name, args);
    const t0 = now();
    try {
      return fn(...args);
    } finally {
      const dt = now() - t0;
      slot.seconds += dt;
      slot.calls++;
      const key = callSite(name, args);
      const site = tally.sites.get(key) ?? { seconds: 0, calls: 0 };
      site.seconds += dt;
      site.calls++;
      tally.sites.set(key, site);
    }
  };
}

/**
 * Seconds a timed call charges to its kernel when the kernel takes none (the clock reads' shares inside
 * the interval: ~2 µs for the cpu clock), measured by wrapping a no-op; taken out of the kernel rows.
 */
function intervalFloor(now: () => number): number {
  const n = 20000;
  const tally = newTally();
  const noop = (x: unknown): unknown => x;
  const wrapped = timed('noop', noop, now, tally);
  let sink = 0;
  for (let i = 0; i < n; i++) sink += wrapped(i) === i ? 1 : 0;
  return sink < 0 ? 0 : tally.perMethod.get('noop')!.seconds / n;
}

/**
 * Trains `steps` steps of `kind` on the wasm backend with `threads` threads after `warm` untimed
 * ones, with every kernel call timed by `clock`.
 */
export async function profileStep(
  kind: ModelKind,
  hp: HParams,
  data: FashionMNIST,
  threads: number,
  clock: ProfileClock,
  warm: number,
  steps: number,
): Promise<StepProfile> {
  const be = await useBackend('wasm', threads);
  const now = clockOf(clock);
  const tally = newTally();
  const trace: ThreadTrace = { dispatches: new Map(), syncMs: 0 };
  const traced = be as Backend & { traceThreads?: (t: ThreadTrace | undefined) => void };
  const target = be as unknown as Record<string, unknown>;
  const originals: [string, unknown][] = [];
  const unwrap = (): void => {
    for (const [name, original] of originals) target[name] = original;
    originals.length = 0;
  };
  try {
    const run = buildLabRun(kind, hp, data);
    await trainSteps(run, warm);
    // The step's time, without the wrapper (see the file comment).
    const t0 = now();
    const r = await trainSteps(run, steps);
    const stepSeconds = (now() - t0) / r.steps;
    // The kernels' time, with it: two untimed steps let the wrapped call sites settle first.
    for (const names of Object.values(OP_KINDS)) {
      for (const name of names) {
        const original = target[name];
        if (typeof original !== 'function') continue;
        const fn = (original as (...a: unknown[]) => unknown).bind(be);
        originals.push([name, original]);
        target[name] = timed(name, fn, now, tally);
      }
    }
    await trainSteps(run, 2);
    for (const s of tally.perMethod.values()) {
      s.seconds = 0;
      s.calls = 0;
    }
    tally.gemmFlops = 0;
    tally.sites.clear();
    traced.traceThreads?.(trace);
    const t1 = now();
    const wrapped = await trainSteps(run, r.steps);
    const n = wrapped.steps;
    const wrappedSeconds = (now() - t1) / n;
    traced.traceThreads?.(undefined);
    unwrap();
    for (const p of run.model.parameters()) p.dispose();
    const floor = intervalFloor(now);
    // A method's time less the clock's share of each of its calls.
    const kernelTime = (s: { seconds: number; calls: number }): number =>
      Math.max(0, s.seconds - s.calls * floor) / n;
    // Thread sync happens inside a kernel call (on the main thread's clock); it is moved out of the
    // kernel's row into its own. With the cpu clock a waiting main thread still burns CPU (it spins).
    const syncSeconds = trace.syncMs / 1000 / n;
    const rows: ProfileRow[] = [];
    let kernelSeconds = 0;
    let calls = 0;
    for (const [kindName, names] of Object.entries(OP_KINDS) as [OpKind, readonly string[]][]) {
      let seconds = 0;
      let c = 0;
      for (const name of names) {
        const s = tally.perMethod.get(name);
        if (s === undefined) continue;
        seconds += kernelTime(s);
        c += s.calls / n;
      }
      kernelSeconds += seconds;
      calls += c;
      rows.push({ kind: kindName, seconds, share: seconds / stepSeconds, calls: c });
    }
    // The sync time was measured with the wall clock; it is attributed to GEMM and elementwise rows
    // only as a whole, so take it from the kernels' total (not from one row) and show it alone.
    const sync = Math.min(syncSeconds, kernelSeconds);
    const profilerSeconds = Math.max(0, wrappedSeconds - stepSeconds);
    // Kernels timed in the wrapped rounds can add up to more than the unwrapped step (the wrapper's
    // calls evict some cache); then the JavaScript left is below what the two rounds can tell apart: NaN.
    const jsSeconds = stepSeconds > kernelSeconds ? stepSeconds - kernelSeconds : NaN;
    rows.push({
      kind: 'thread sync (inside the rows above)',
      seconds: sync,
      share: sync / stepSeconds,
      calls: 0,
    });
    rows.push({ kind: 'JS dispatch', seconds: jsSeconds, share: jsSeconds / stepSeconds, calls: 0 });
    rows.push({
      kind: 'profiler overhead',
      seconds: profilerSeconds,
      share: profilerSeconds / stepSeconds,
      calls: 0,
    });
    return {
      model: kind,
      threads,
      clock,
      steps: n,
      warmSteps: warm,
      stepSeconds,
      rows,
      kernels: [...tally.perMethod.entries()]
        .filter(([, s]) => s.calls > 0)
        .map(([name, s]) => ({ name, seconds: kernelTime(s), calls: s.calls / n }))
        .sort((a, b) => b.seconds - a.seconds),
      gemmFlops: tally.gemmFlops / n,
      dispatches: [...trace.dispatches.entries()]
        .map(([key, d]) => ({ key, perStep: d.count / n, chunksPerDispatch: d.chunks / d.count }))
        .sort((a, b) => b.perStep - a.perStep),
      overheadMicros: calls > 0 ? (profilerSeconds / calls) * 1e6 : 0,
      sites: [...tally.sites.entries()]
        .map(([site, s]) => ({ site, seconds: kernelTime(s), calls: s.calls / n }))
        .sort((a, b) => b.seconds - a.seconds),
    };
  } finally {
    traced.traceThreads?.(undefined);
    unwrap();
    releaseBackend(be);
  }
}
