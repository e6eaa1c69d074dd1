/**
 * Numerical gradient check by central differences in float64 (as torch.autograd.gradcheck): the
 * function is evaluated on the float64 reference backend, so finite differences are accurate to
 * ~1e-9 and any wrong backward rule shows up as a large relative error.
 */
import { ReferenceBackend } from '../backend/reference.js';
import { tensor } from '../tensor/creation.js';
import { getBackend, setBackend, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';

/** Outcome of a gradient check: the worst error found and whether it is within tolerance. */
export interface GradcheckResult {
  readonly ok: boolean;
  readonly maxAbsError: number;
  readonly maxRelError: number;
  /** Which input and element had the worst error. */
  readonly worst: { input: number; index: number; analytic: number; numeric: number };
}

const float64 = new ReferenceBackend(Float64Array);

/**
 * Compares the backward pass of `fn` (returning a scalar) with central differences
 * (f(x + ε) − f(x − ε)) / 2ε at `inputs` (flat values with shapes), in float64.
 */
export function gradcheck(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: { data: ArrayLike<number>; shape: number[] }[],
  opts: { eps?: number; atol?: number; rtol?: number } = {},
): GradcheckResult {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-4 } = opts;
  const previous = getBackend();
  setBackend(float64);
  try {
    return tidy(() => {
      const xs = inputs.map((x) => tensor(x.data, { shape: x.shape, requiresGrad: true }));
      fn(...xs).backward();
      const evaluate = (values: Float64Array[]): number =>
        tidy(() => {
          // Read in float64: item() would round the loss to float32 and ruin the differences.
          const y = fn(...values.map((v, i) => tensor(v, { shape: inputs[i]!.shape })));
          return float64.view(y.id)[0]!;
        });
      let worst = { input: 0, index: 0, analytic: 0, numeric: 0 };
      let maxAbs = 0;
      let maxRel = 0;
      let ok = true;
      const base = inputs.map((x) => Float64Array.from(x.data));
      base.forEach((values, i) => {
        for (let j = 0; j < values.length; j++) {
          const orig = values[j]!;
          values[j] = orig + eps;
          const plus = evaluate(base);
          values[j] = orig - eps;
          const minus = evaluate(base);
          values[j] = orig;
          const numeric = (plus - minus) / (2 * eps);
          // An input that only feeds comparisons gets no gradient: its analytic gradient is 0.
          const grad = xs[i]!.grad;
          const a = grad === null ? 0 : float64.view(grad.id)[j]!;
          const abs = Math.abs(a - numeric);
          const rel = abs / Math.max(Math.abs(numeric), 1e-12);
          if (abs > atol + rtol * Math.abs(numeric)) ok = false;
          if (abs > maxAbs) {
            maxAbs = abs;
            worst = { input: i, index: j, analytic: a, numeric };
          }
          maxRel = Math.max(maxRel, Math.min(rel, abs));
        }
      });
      return { ok, maxAbsError: maxAbs, maxRelError: maxRel, worst };
    });
  } finally {
    setBackend(previous);
  }
}
