/**
 * The machine's 128-bit SIMD peak, measured rather than looked up: compiles
 * src/backend/wasm/assembly/peak.ts (register-only f32x4 loops) with AssemblyScript at run time and
 * times it on one thread. Two figures: plain SIMD (independent f32x4.mul and f32x4.add chains, the
 * instruction mix of the plain-SIMD GEMM) and relaxed SIMD (f32x4.relaxed_madd chains, fused
 * multiply-add where the engine lowers it to FMA).
 */
import { fileURLToPath } from 'node:url';
import { enableRelaxedSimd } from '../../src/backend/wasm/node-host.js';
import { relaxedSimdSupported } from '../../src/backend/wasm/binary.js';

const SOURCE = fileURLToPath(new URL('../../src/backend/wasm/assembly/peak.ts', import.meta.url));

/** FLOPs per loop iteration of each kernel (see peak.ts). */
const FLOPS_PER_ITER = { mulAdd: 96, madd: 160 } as const;

type PeakFn = (iters: number, seed: number, a: number, b: number) => number;

async function compile(relaxed: boolean): Promise<{ mulAdd: PeakFn; madd: PeakFn }> {
  let wasm: Uint8Array | undefined;
  let errors = '';
  // Loaded only here: the compiler (with binaryen) is large and only this measurement needs it.
  const { default: asc } = await import('assemblyscript/asc');
  const { error } = await asc.main(
    [
      SOURCE,
      '--runtime',
      'stub',
      '-O3',
      '--noAssert',
      '--use',
      'abort=',
      '--enable',
      'simd',
      ...(relaxed ? ['--enable', 'relaxed-simd'] : []),
      '-o',
      'peak.wasm',
    ],
    {
      writeFile(name: string, contents: Uint8Array | string) {
        if (name.endsWith('.wasm') && typeof contents !== 'string') wasm = contents;
      },
      stderr: {
        write(chunk: Uint8Array | string) {
          errors += chunk.toString();
          return true;
        },
      },
    },
  );
  if (error || wasm === undefined)
    throw new Error(`compiling peak.ts failed: ${error?.message ?? ''}\n${errors}`);
  const module = await WebAssembly.compile(new Uint8Array(wasm));
  const instance = await WebAssembly.instantiate(module);
  return instance.exports as unknown as { mulAdd: PeakFn; madd: PeakFn };
}

/** Best-of-`reps` GFLOP/s of one kernel; `iters` is raised until one call takes ≥ minMs. */
function measure(
  fn: PeakFn,
  flopsPerIter: number,
  b: number,
  minMs: number,
  reps: number,
  now: () => number,
): number {
  let iters = 1 << 16;
  for (;;) {
    const t0 = now();
    fn(iters, 1, 1, b);
    const ms = now() - t0;
    if (ms >= minMs || iters >= 1 << 30) break;
    iters = Math.min(1 << 30, iters * Math.max(2, Math.ceil(minMs / Math.max(ms, 0.01))));
  }
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = now();
    fn(iters, 1, 1, b);
    best = Math.min(best, now() - t0);
  }
  return (iters * flopsPerIter) / (best * 1e6);
}

/** Peak GFLOP/s on one thread; `relaxed` is null where the engine has no relaxed SIMD. */
export interface SimdPeak {
  readonly plain: number;
  readonly relaxed: number | null;
}

/**
 * Measures both peaks (about a second in all; `quick` halves it). `now` is the clock in ms: wall
 * time by default; process CPU time on a loaded machine (the profile's --clock cpu).
 */
export async function measurePeak(
  quick: boolean,
  now: () => number = () => performance.now(),
): Promise<SimdPeak> {
  const minMs = quick ? 60 : 150;
  const reps = quick ? 3 : 5;
  enableRelaxedSimd();
  const relaxedOk = relaxedSimdSupported();
  const mod = await compile(relaxedOk);
  const plain = measure(mod.mulAdd, FLOPS_PER_ITER.mulAdd, 1, minMs, reps, now);
  const relaxed = relaxedOk ? measure(mod.madd, FLOPS_PER_ITER.madd, 0, minMs, reps, now) : null;
  return { plain, relaxed };
}
