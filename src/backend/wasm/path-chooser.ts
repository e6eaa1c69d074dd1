/**
 * Picks the faster of two bit-identical ways to run a product (the sparse × dense path and the dense
 * GEMM) by timing both on this machine, per shape and density band. A fixed density threshold tuned
 * on one CPU cost another 18% (the crossover moves with the core, its caches and the thread count),
 * so the backend measures instead: the first calls of each (shape, transposes, density band) run the
 * two paths in turn, and once both have PROBE_RUNS timed runs the faster median wins for that key
 * from then on. Both paths compute every element with the same chain of multiply-adds, so which one
 * runs never changes a result; only the time. The measurements live in the backend (per process,
 * per thread count), so there is nothing on disk to reset: a new process measures afresh.
 */

/** Timed runs of each path before a key is decided. */
export const PROBE_RUNS = 3;
/** Density bands are this wide (the sparse path's cost grows with the density). */
const BAND = 0.05;

interface Probe {
  readonly sparse: number[];
  readonly dense: number[];
  /** Calls so far while probing. */
  calls: number;
  decided: boolean | undefined;
}

/** A per-key choice between the sparse and the dense path, measured at first use. */
export class PathChooser {
  private readonly probes = new Map<string, Probe>();

  /** Decisions made so far, by key (for tests and the benchmark's report). */
  decisions(): Map<string, boolean> {
    const out = new Map<string, boolean>();
    for (const [key, p] of this.probes) if (p.decided !== undefined) out.set(key, p.decided);
    return out;
  }

  /**
   * Runs the product for `shape` (a string naming the shape and transposes) at `density` on the
   * chosen path: `run(true)` takes the sparse path, `run(false)` the dense one.
   */
  run(shape: string, density: number, run: (sparse: boolean) => void): void {
    const key = `${shape}@${(Math.floor(density / BAND) * BAND).toFixed(2)}`;
    let p = this.probes.get(key);
    if (p === undefined) {
      p = { sparse: [], dense: [], calls: 0, decided: undefined };
      this.probes.set(key, p);
    }
    if (p.decided !== undefined) {
      run(p.decided);
      return;
    }
    // Pairs of calls on one path, sparse then dense, timing only the second of each pair: the first
    // after a switch finds the other path's packed operands in cache, which would skew it.
    const sparse = (p.calls >> 1) % 2 === 0;
    const timed = p.calls % 2 === 1;
    p.calls++;
    const t0 = performance.now();
    run(sparse);
    if (timed) (sparse ? p.sparse : p.dense).push(performance.now() - t0);
    if (p.dense.length >= PROBE_RUNS) p.decided = median(p.sparse) <= median(p.dense);
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}
