/**
 * The everyday tensor math a PyTorch user types: sqrt, rsqrt, pow, abs, sign, sigmoid, tanh, clamp,
 * minimum/maximum, min/max/argmin/argmax over a dim (values and indices), var/std with a correction,
 * logsumexp, cumsum, the softmax/logSoftmax methods, the le/ne masks and `where` with numbers.
 *
 * They are Tensor methods, installed on Tensor's prototype when this module loads (tensor/creation.ts,
 * which every program with tensors loads, calls installMath). They live apart from tensor.ts because they
 * are composites of the methods there and of each other: kept in tensor.ts they would bloat the storage
 * + primitive-call class, and a separate file imported by tensor.ts would be an import cycle. The ones
 * that are primitives (sqrt, abs, tanh, sigmoid, pow with a number, maximum, minimum, and softmax
 * over the last axis of a contiguous tensor, a fused kernel) have their forward and backward in
 * autograd/primitives.ts; everything else is composed and differentiated through its parts.
 */
import { apply } from '../autograd/apply.js';
import { ArgumentError, formatShape } from '../errors.js';
import { composite, markLifted, noGrad } from './engine.js';
import { normalizeAxes } from './shape.js';
import { Tensor } from './tensor.js';

/** What `max(dim)` and `min(dim)` return (torch's namedtuple): destructure as `{ values, indices }` or `[values, indices]`. */
export interface MinMaxResult extends Iterable<Tensor> {
  /** The extreme values along the dim. */
  readonly values: Tensor;
  /** Their positions along the dim (an int32 tensor; the first on ties). */
  readonly indices: Tensor;
}

/** Options of `var` and `std`. */
export interface VarOptions {
  /** Divide by N − correction (Bessel's correction; default 1, as PyTorch; 0 gives the population variance). */
  correction?: number | undefined;
  /** Keep the reduced dims as size 1 (default false). */
  keepDim?: boolean | undefined;
}

declare module './tensor.js' {
  interface Tensor {
    /** √x elementwise. */
    sqrt(): Tensor;
    /** 1/√x elementwise (torch.rsqrt). */
    rsqrt(): Tensor;
    /** x^exponent elementwise; a tensor exponent broadcasts (computed as exp(e·log x): NaN for x < 0). */
    pow(exponent: Tensor | number): Tensor;
    /** |x| elementwise; the gradient at 0 is 0, as in PyTorch. */
    abs(): Tensor;
    /** −1, 0 or 1 elementwise; no gradient. */
    sign(): Tensor;
    /** σ(x) = 1/(1 + e^−x) elementwise, computed without overflow. */
    sigmoid(): Tensor;
    /** tanh(x) elementwise. */
    tanh(): Tensor;
    /** min(max(x, min), max) elementwise; either bound may be null (torch.clamp); the gradient flows where min ≤ x ≤ max. */
    clamp(min?: Tensor | number | null, max?: Tensor | number | null): Tensor;
    /** Elementwise maximum (broadcasting); a tie splits the gradient evenly, as torch.maximum. */
    maximum(other: Tensor | number): Tensor;
    /** Elementwise minimum (broadcasting); a tie splits the gradient evenly, as torch.minimum. */
    minimum(other: Tensor | number): Tensor;
    /** The largest element (torch.max(x)). */
    max(): Tensor;
    /** The largest values along `dim` and their indices (torch.max(x, dim)); the gradient goes to the index. */
    max(dim: number, keepDim?: boolean): MinMaxResult;
    /** Elementwise maximum with another tensor (torch.max(x, other)). */
    max(other: Tensor): Tensor;
    /** The smallest element (torch.min(x)). */
    min(): Tensor;
    /** The smallest values along `dim` and their indices (torch.min(x, dim)). */
    min(dim: number, keepDim?: boolean): MinMaxResult;
    /** Elementwise minimum with another tensor. */
    min(other: Tensor): Tensor;
    /** Minimum over `axis` (all by default), torch.amin: the gradient is split evenly among ties. */
    amin(axis?: number | readonly number[], keepDims?: boolean): Tensor;
    /** Index of the largest element along `dim` (of the flattened tensor without one); first on ties; no gradient. */
    argmax(dim?: number, keepDim?: boolean): Tensor;
    /** Index of the smallest element along `dim` (of the flattened tensor without one); first on ties. */
    argmin(dim?: number, keepDim?: boolean): Tensor;
    /** Variance over `dim` (all by default): Σ(x − mean)² / (N − correction), correction 1 by default. */
    var(dim?: number | readonly number[], opts?: VarOptions): Tensor;
    /** Standard deviation: √var with the same options. */
    std(dim?: number | readonly number[], opts?: VarOptions): Tensor;
    /** log Σ exp(x) over `dim` (all by default), shifted by the maximum so that it cannot overflow. */
    logsumexp(dim?: number | readonly number[], keepDim?: boolean): Tensor;
    /** Running sum along `dim` (torch.cumsum). */
    cumsum(dim: number): Tensor;
    /** softmax over `dim` (default the last): exp(x − m) / Σ exp(x − m). */
    softmax(dim?: number): Tensor;
    /** log-softmax over `dim` (default the last): x − m − log Σ exp(x − m). */
    logSoftmax(dim?: number): Tensor;
    /** 1 where this ≤ other, else 0. */
    le(other: Tensor | number): Tensor;
    /** 1 where this ≠ other (and where either is NaN), else 0. */
    ne(other: Tensor | number): Tensor;
  }
}

/** A scalar constant on x's backend (no tape). */
function constant(x: Tensor, value: number): Tensor {
  const t = Tensor.uninitialized(x.backend, []);
  x.backend.fill(t.id, 1, value);
  return t;
}

/** A number lifted to a constant for the one op that consumes it (freed with that op's graph). */
function lift(x: Tensor, value: Tensor | number): Tensor {
  if (typeof value !== 'number') return value;
  const t = constant(x, value);
  markLifted(t);
  return t;
}

/** The one dim of a dim-wise op, normalised (negative counts from the end). */
function oneDim(x: Tensor, dim: number, op: string): number {
  if (typeof dim !== 'number') {
    throw new ArgumentError(`${op}: dim must be one integer, got ${String(dim)}; pass a single axis.`);
  }
  return normalizeAxes(dim, x.ndim)[0]!;
}

/** The permutation that moves axis `d` to the end, and its inverse. */
function moveToEnd(rank: number, d: number): { perm: number[]; inverse: number[] } {
  const perm = [...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== d), d];
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return { perm, inverse };
}

/** Index of the largest (or smallest) element along `d`, by the backend's row-wise argmax kernel. */
function argExtreme(x: Tensor, dim: number | undefined, keepDim: boolean, which: 'max' | 'min'): Tensor {
  const op = which === 'max' ? 'argmax' : 'argmin';
  if (dim === undefined) {
    const flat = noGrad(() => composite(() => argExtreme(x.reshape([-1]), 0, false, which)));
    return keepDim ? noGrad(() => flat.reshape(x.shape.map(() => 1))) : flat;
  }
  const d = oneDim(x, dim, op);
  const cols = x.shape[d]!;
  if (cols === 0) {
    throw new ArgumentError(
      `${op} over dim ${dim} of shape ${formatShape(x.shape)} has no element; check the input.`,
    );
  }
  return noGrad(() =>
    composite(() => {
      x.assertAlive();
      // The kernel works on the last axis of a contiguous matrix: move `d` there; the smallest is
      // the largest of −x (ties stay ties, so the first still wins).
      let src = which === 'max' ? x : x.neg();
      if (d !== x.ndim - 1) src = src.permute(...moveToEnd(x.ndim, d).perm);
      // The kernel reads the storage row-major from its start: a view (a permuted or sliced x) is packed.
      src = src.contiguous();
      const outShape = src.shape.slice(0, -1);
      const out = Tensor.uninitialized(x.backend, outShape);
      x.backend.argmax(src.id, x.size / cols, cols, out.id);
      // Indices are integers, as torch's int64 (int32 here: whole numbers up to 2^24 in float32 storage).
      out.setDType('int32');
      if (!keepDim) return out;
      const kept = [...x.shape];
      kept[d] = 1;
      return out.reshape(kept);
    }),
  );
}

/** torch.max(x, dim) / torch.min(x, dim): values (differentiable, to the chosen index) and indices. */
function extremeAlong(x: Tensor, dim: number, keepDim: boolean, which: 'max' | 'min'): MinMaxResult {
  const d = oneDim(x, dim, which);
  const indices = argExtreme(x, d, true, which);
  const values = composite(() => {
    // Select the chosen element of each line with a one-hot where: exact, and the gradient reaches
    // that element alone (torch.max(x, dim)'s rule), unlike amax's even split among ties.
    const positions = Array.from({ length: x.shape[d]! }, (_, i) => i);
    const shape = x.shape.map((n, i) => (i === d ? n : 1));
    const at = Tensor.uninitialized(x.backend, shape);
    x.backend.write(at.id, positions);
    return Tensor.where(at.eq(indices), x, constant(x, 0)).sum(d, keepDim);
  });
  const idx = keepDim ? indices : noGrad(() => composite(() => indices.reshape(values.shape)));
  const result = { values, indices: idx };
  // Iterable for `const [values, indices] = x.max(1)`, non-enumerable so that it prints as two fields.
  Object.defineProperty(result, Symbol.iterator, {
    value: function* (): Generator<Tensor> {
      yield values;
      yield idx;
    },
  });
  return result as MinMaxResult;
}

function minMax(x: Tensor, which: 'max' | 'min', dimOrOther: unknown, keepDim: unknown): unknown {
  if (dimOrOther === undefined) return which === 'max' ? x.amax() : x.amin();
  if (dimOrOther instanceof Tensor) return which === 'max' ? x.maximum(dimOrOther) : x.minimum(dimOrOther);
  if (typeof dimOrOther === 'number') return extremeAlong(x, dimOrOther, keepDim === true, which);
  throw new ArgumentError(
    `${which}(${String(dimOrOther)}): pass nothing (the ${which} element), a dim (values and indices) or ` +
      `a tensor (elementwise); for several dims use a${which}([...dims]).`,
  );
}

/**
 * softmax over `dim` composed from primitives, exp(x − m) / Σ exp(x − m) with m = max x taken without a
 * tape (its gradient contributions cancel): the fused `softmax` primitive's reference, and the path
 * Tensor.softmax takes for other axes and for views. @internal
 */
export function softmaxComposed(x: Tensor, dim = -1): Tensor {
  const m = noGrad(() => x.amax(dim, true));
  const e = x.sub(m).exp();
  return e.div(e.sum(dim, true));
}

/** The everyday methods, installed on Tensor.prototype below. */
const methods: Record<string, (this: Tensor, ...args: never[]) => unknown> = {
  sqrt(this: Tensor) {
    return apply('sqrt', [this], {});
  },
  rsqrt(this: Tensor) {
    return composite(() => constant(this, 1).div(this.sqrt()));
  },
  pow(this: Tensor, exponent: Tensor | number) {
    if (typeof exponent === 'number') return apply('pow', [this], { exponent });
    return composite(() => this.log().mul(exponent).exp());
  },
  abs(this: Tensor) {
    return apply('abs', [this], {});
  },
  sign(this: Tensor) {
    return composite(() => this.gt(0).sub(this.lt(0)));
  },
  sigmoid(this: Tensor) {
    return apply('sigmoid', [this], {});
  },
  tanh(this: Tensor) {
    return apply('tanh', [this], {});
  },
  clamp(this: Tensor, min?: Tensor | number | null, max?: Tensor | number | null) {
    if (min == null && max == null) {
      throw new ArgumentError('clamp: give min, max or both (null leaves that side open).');
    }
    // where, not maximum/minimum: the gradient must flow at x = min or max (torch.clamp's rule),
    // where maximum would split it.
    return composite(() => {
      const low =
        min == null
          ? this
          : Tensor.where(this.lt(min), typeof min === 'number' ? constant(this, min) : min, this);
      const y =
        max == null
          ? low
          : Tensor.where(low.gt(max), typeof max === 'number' ? constant(this, max) : max, low);
      return y;
    });
  },
  maximum(this: Tensor, other: Tensor | number) {
    return apply('maximum', [this, lift(this, other)], {});
  },
  minimum(this: Tensor, other: Tensor | number) {
    return apply('minimum', [this, lift(this, other)], {});
  },
  max(this: Tensor, dimOrOther?: unknown, keepDim?: unknown) {
    return minMax(this, 'max', dimOrOther, keepDim);
  },
  min(this: Tensor, dimOrOther?: unknown, keepDim?: unknown) {
    return minMax(this, 'min', dimOrOther, keepDim);
  },
  amin(this: Tensor, axis?: number | readonly number[], keepDims = false) {
    return composite(() => this.neg().amax(axis, keepDims).neg());
  },
  argmax(this: Tensor, dim?: number, keepDim = false) {
    return argExtreme(this, dim, keepDim, 'max');
  },
  argmin(this: Tensor, dim?: number, keepDim = false) {
    return argExtreme(this, dim, keepDim, 'min');
  },
  var(this: Tensor, dim?: number | readonly number[], opts: VarOptions = {}) {
    const { correction = 1, keepDim = false } = opts;
    const axes = normalizeAxes(dim, this.ndim);
    const n = axes.reduce((k, a) => k * this.shape[a]!, 1);
    return composite(() => {
      const centred = this.sub(this.mean(axes, true));
      // PyTorch clamps the divisor at 0 (inf or NaN, with a warning, when N ≤ correction).
      return centred
        .mul(centred)
        .sum(axes, keepDim)
        .div(Math.max(0, n - correction));
    });
  },
  std(this: Tensor, dim?: number | readonly number[], opts: VarOptions = {}) {
    return composite(() => this.var(dim, opts).sqrt());
  },
  logsumexp(this: Tensor, dim?: number | readonly number[], keepDim = false) {
    const axes = normalizeAxes(dim, this.ndim);
    return composite(() => {
      // The shift carries no gradient (its contributions cancel); an infinite maximum (all −∞, or a
      // +∞) is replaced by 0 so that x − m is not ∞ − ∞.
      const m = noGrad(() => {
        const top = this.amax(axes, true);
        return Tensor.where(top.abs().lt(Infinity), top, constant(this, 0));
      });
      const out = this.sub(m).exp().sum(axes, true).log().add(m);
      return keepDim ? out : out.reshape(this.shape.filter((_, i) => !axes.includes(i)));
    });
  },
  cumsum(this: Tensor, dim: number) {
    if (this.ndim === 0) return composite(() => this.mul(1));
    const d = oneDim(this, dim, 'cumsum');
    const n = this.shape[d]!;
    return composite(() => {
      // A product with the upper-triangular ones matrix U (U[i][j] = 1 for i ≤ j): every backend
      // already has it, and so does its gradient (gᵀ·U summed from the end). O(n²) per line: fine
      // for the lengths of a sequence or a class axis.
      const { perm, inverse } = moveToEnd(this.ndim, d);
      const moved = d === this.ndim - 1 ? this : this.permute(...perm);
      const ones = new Float32Array(n * n);
      for (let i = 0; i < n; i++) for (let j = i; j < n; j++) ones[i * n + j] = 1;
      const upper = Tensor.uninitialized(this.backend, [n, n]);
      this.backend.write(upper.id, ones);
      const summed = moved
        .reshape([-1, n])
        .matmul(upper)
        .reshape([...moved.shape]);
      return d === this.ndim - 1 ? summed : summed.permute(...inverse);
    });
  },
  softmax(this: Tensor, dim = -1) {
    // The fused kernel reads rows of contiguous storage: the last axis of a non-empty, unviewed tensor
    // (attention's probabilities). Other axes and views keep the composition, which reads strides.
    const last = this.ndim > 0 && (dim === -1 || dim === this.ndim - 1);
    if (last && this.size > 0 && this.isContiguous()) return apply('softmax', [this], {});
    return softmaxComposed(this, dim);
  },
  logSoftmax(this: Tensor, dim = -1) {
    // The shift m is taken without a tape: its gradient contributions cancel exactly.
    const m = noGrad(() => this.amax(dim, true));
    const shifted = this.sub(m);
    return shifted.sub(shifted.exp().sum(dim, true).log());
  },
  le(this: Tensor, other: Tensor | number) {
    // lt + eq rather than 1 − gt, so that NaN compares false as in PyTorch.
    return composite(() => this.lt(other).add(this.eq(other)));
  },
  ne(this: Tensor, other: Tensor | number) {
    return composite(() => this.eq(other).neg().add(1));
  },
};

/** Puts the methods above on Tensor.prototype (called once, by tensor/creation.ts). @internal */
export function installMath(): void {
  for (const [name, fn] of Object.entries(methods)) {
    // Non-enumerable, like a class's own methods.
    Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: true });
  }
}

/**
 * cond ≠ 0 ? a : b elementwise with broadcasting (torch.where); either branch may be a number, and
 * the gradient flows to the tensor branches only.
 */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  if (!(cond instanceof Tensor)) {
    throw new ArgumentError('where(cond, a, b): cond must be a tensor (a mask such as x.gt(0)).');
  }
  return Tensor.where(cond, lift(cond, a), lift(cond, b));
}
