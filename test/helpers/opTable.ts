/**
 * The op table: one list of cases that drives the forward-parity, gradient-parity and gradcheck tests
 * in test/backends/op-table.test.ts on every backend (test/helpers/backends.ts). Every primitive of the autograd table has
 * at least one case (asserted there), plus the composites built from primitives.
 *
 * Inputs are deterministic (no RNG) and rounded to float32, so the float32 backends and the float64
 * oracle see exactly the same values; the only differences left are rounding inside the kernels.
 */
import {
  Generator,
  Tensor,
  crossEntropy,
  dropout,
  dropoutLayer,
  logSoftmax,
  softmax,
  tensor,
} from '../../src/index.js';
import type { Primitive } from '../../src/index.js';
import { avgPool2d, conv2d, conv2dComposed, im2col, maxPool2d, windowGeometry } from '../../src/ops/conv.js';
import { gelu, geluComposed } from '../../src/ops/gelu.js';
import {
  attention,
  attentionComposed,
  attentionPacked,
  pick,
  scaledDotProductAttention,
} from '../../src/ops/attention.js';
import { apply } from '../../src/autograd/apply.js';
import { linear } from '../../src/ops/linear.js';
import { crossEntropyComposed } from '../../src/ops/loss.js';
import { layerNorm } from '../../src/ops/normalization.js';

/** One op-table case: a function of input tensors and how to make its inputs. */
export interface OpCase {
  /** Unique, readable name (used as the test title). */
  readonly name: string;
  /** The primitives this case exercises (for the coverage check). */
  readonly prims: readonly Primitive[];
  /** Shapes of the inputs. */
  readonly shapes: readonly (readonly number[])[];
  /** The computation; may create constants with `tensor()` (they land on the active backend). */
  readonly fn: (...xs: Tensor[]) => Tensor;
  /** Values of input `index` (flat, row-major); defaults to `smooth`. */
  readonly gen?: (size: number, index: number) => number[];
  /** Inputs that carry no gradient (e.g. a where condition): constants for gradcheck, null .grad expected. */
  readonly constInputs?: readonly number[];
  /** False for piecewise-constant outputs (comparisons): forward parity only. */
  readonly differentiable?: boolean;
  /** Forward tolerance (abs + rel) against float64; default 1e-5. */
  readonly tol?: number;
  /** Gradient tolerance (abs + rel) against float64; default 1e-4. */
  readonly gradTol?: number;
}

/** Deterministic, distinct, float32-exact values in about [-scale, scale] (no ties, so max has a unique argmax). */
export function smooth(size: number, index: number, scale = 1.5): number[] {
  return Array.from({ length: size }, (_, i) => Math.fround(scale * Math.sin(1.3 * i + 0.7 * index + 0.4)));
}

/** Strictly positive values in about [0.5, 2.5] (for log and divisors). */
export function positive(size: number, index: number): number[] {
  return smooth(size, index, 1).map((v) => Math.fround(1.5 + v));
}

/** Values whose magnitude is at least 0.2 (ReLU inputs away from the kink at 0, for gradchecks). */
export function awayFromZero(size: number, index: number): number[] {
  return smooth(size, index).map((v) => Math.fround(v >= 0 ? v + 0.2 : v - 0.2));
}

/** Integers in a small range, so some elements compare equal. */
function small(size: number, index: number): number[] {
  return Array.from({ length: size }, (_, i) => ((i * 7 + index * 3) % 5) - 2);
}

const LABELS = [2, 0, 3, 1];
const labels = (): Tensor => tensor(LABELS);
/** A generator rebuilt on every call, so each evaluation (gradcheck included) draws the same mask. */
const fixedStream = (): Generator => new Generator(1234);

export const opCases: readonly OpCase[] = [
  // ---- binary elementwise, with broadcasting ----
  {
    name: 'add same shape',
    prims: ['add'],
    shapes: [
      [2, 3],
      [2, 3],
    ],
    fn: (a, b) => a.add(b),
  },
  { name: 'add broadcast [2,3]+[3]', prims: ['add'], shapes: [[2, 3], [3]], fn: (a, b) => a.add(b) },
  {
    name: 'add broadcast [2,1,4]+[3,1]',
    prims: ['add'],
    shapes: [
      [2, 1, 4],
      [3, 1],
    ],
    fn: (a, b) => a.add(b),
  },
  {
    name: 'sub broadcast [4,1]-[1,3]',
    prims: ['sub'],
    shapes: [
      [4, 1],
      [1, 3],
    ],
    fn: (a, b) => a.sub(b),
  },
  { name: 'sub scalar tensor', prims: ['sub'], shapes: [[], [2, 2]], fn: (a, b) => a.sub(b) },
  {
    name: 'mul broadcast [2,3]*[2,1]',
    prims: ['mul'],
    shapes: [
      [2, 3],
      [2, 1],
    ],
    fn: (a, b) => a.mul(b),
  },
  { name: 'mul self (paths meet)', prims: ['mul'], shapes: [[5]], fn: (a) => a.mul(a) },
  {
    name: 'div broadcast [3,4]/[4]',
    prims: ['div'],
    shapes: [[3, 4], [4]],
    fn: (a, b) => a.div(b),
    gen: (n, i) => (i === 1 ? positive(n, i) : smooth(n, i)),
  },
  {
    name: 'div [1,3]/[2,1]',
    prims: ['div'],
    shapes: [
      [1, 3],
      [2, 1],
    ],
    fn: (a, b) => a.div(b),
    gen: (n, i) => (i === 1 ? positive(n, i) : smooth(n, i)),
  },
  // ---- unary ----
  { name: 'neg', prims: ['neg'], shapes: [[2, 3]], fn: (a) => a.neg() },
  { name: 'exp', prims: ['exp'], shapes: [[3, 2]], fn: (a) => a.exp() },
  { name: 'log', prims: ['log'], shapes: [[6]], fn: (a) => a.log(), gen: positive },
  // ---- where / compare ----
  {
    name: 'where broadcast cond [2,1] a [2,3] b [3]',
    prims: ['where', 'compare'],
    shapes: [[2, 1], [2, 3], [3]],
    fn: (c, a, b) => Tensor.where(c.gt(0), a, b),
    constInputs: [0],
    gen: (n, i) => (i === 0 ? [1, -1].slice(0, n) : smooth(n, i)),
  },
  {
    name: 'where elementwise cond',
    prims: ['where', 'compare'],
    shapes: [
      [3, 4],
      [3, 4],
    ],
    fn: (a, b) => Tensor.where(a.lt(b), a, b.mul(2)),
  },
  {
    name: 'compare gt/ge/lt/eq (with ties)',
    prims: ['compare'],
    shapes: [[4, 5], [5]],
    fn: (a, b) => a.gt(b).add(a.ge(b).mul(2)).add(a.lt(b).mul(4)).add(a.eq(b).mul(8)),
    gen: small,
    differentiable: false,
  },
  {
    name: 'compare as a mask (gradient through mul only)',
    prims: ['compare', 'mul'],
    shapes: [[3, 3]],
    fn: (a) => a.mul(a.gt(0)),
    gen: awayFromZero,
  },
  // ---- reductions ----
  { name: 'sum all', prims: ['sum'], shapes: [[2, 3, 4]], fn: (a) => a.sum() },
  { name: 'sum axis 0', prims: ['sum'], shapes: [[3, 4]], fn: (a) => a.sum(0) },
  { name: 'sum axis -1 keepDims', prims: ['sum'], shapes: [[3, 4]], fn: (a) => a.sum(-1, true) },
  { name: 'sum axes [0,2] keepDims', prims: ['sum'], shapes: [[2, 3, 4]], fn: (a) => a.sum([0, 2], true) },
  { name: 'sum axis 1 of 3-D', prims: ['sum'], shapes: [[2, 3, 4]], fn: (a) => a.sum(1) },
  { name: 'max all', prims: ['max'], shapes: [[3, 4]], fn: (a) => a.max() },
  { name: 'amax axis 1', prims: ['max'], shapes: [[3, 4]], fn: (a) => a.amax(1) },
  { name: 'amax axis 0 keepDims', prims: ['max'], shapes: [[3, 4]], fn: (a) => a.amax(0, true) },
  { name: 'amax axes [0,2]', prims: ['max'], shapes: [[2, 3, 4]], fn: (a) => a.amax([0, 2]) },
  {
    name: 'max with ties splits the gradient',
    prims: ['max'],
    shapes: [[2, 4]],
    fn: (a) => a.amax(1),
    gen: () => [1, 3, 3, 0, 2, 2, 2, 2],
    // Central differences are meaningless at a tie; parity with the oracle still checks the even split.
    differentiable: false,
  },
  // ---- matmul, every transpose combination ----
  {
    name: 'matmul A·B',
    prims: ['matmul'],
    shapes: [
      [3, 4],
      [4, 2],
    ],
    fn: (a, b) => a.matmul(b),
  },
  {
    name: 'matmul Aᵀ·B',
    prims: ['matmul'],
    shapes: [
      [4, 3],
      [4, 2],
    ],
    fn: (a, b) => a.matmul(b, { transA: true }),
  },
  {
    name: 'matmul A·Bᵀ',
    prims: ['matmul'],
    shapes: [
      [3, 4],
      [2, 4],
    ],
    fn: (a, b) => a.matmul(b, { transB: true }),
  },
  {
    name: 'matmul Aᵀ·Bᵀ',
    prims: ['matmul'],
    shapes: [
      [4, 3],
      [2, 4],
    ],
    fn: (a, b) => a.matmul(b, { transA: true, transB: true }),
  },
  {
    name: 'matmul larger (k = 37)',
    prims: ['matmul'],
    shapes: [
      [9, 37],
      [37, 11],
    ],
    fn: (a, b) => a.matmul(b),
    tol: 1e-4,
    gradTol: 1e-3,
  },
  // ---- batched matmul (attention's per-head products), every transpose combination ----
  {
    name: 'bmm A·B',
    prims: ['bmm'],
    shapes: [
      [2, 3, 4],
      [2, 4, 5],
    ],
    fn: (a, b) => a.bmm(b),
  },
  {
    name: 'bmm Aᵀ·B',
    prims: ['bmm'],
    shapes: [
      [3, 4, 2],
      [3, 4, 5],
    ],
    fn: (a, b) => a.bmm(b, { transA: true }),
  },
  {
    name: 'bmm A·Bᵀ (attention scores)',
    prims: ['bmm'],
    shapes: [
      [2, 5, 4],
      [2, 6, 4],
    ],
    fn: (a, b) => a.bmm(b, { transB: true }),
  },
  {
    name: 'bmm Aᵀ·Bᵀ',
    prims: ['bmm'],
    shapes: [
      [2, 4, 3],
      [2, 5, 4],
    ],
    fn: (a, b) => a.bmm(b, { transA: true, transB: true }),
  },
  {
    name: 'bmm larger (batch 5, k = 37)',
    prims: ['bmm'],
    shapes: [
      [5, 9, 37],
      [5, 37, 11],
    ],
    fn: (a, b) => a.bmm(b),
    tol: 1e-4,
    gradTol: 1e-3,
  },
  // ---- shape ----
  {
    name: 'reshape with -1',
    prims: ['reshape'],
    shapes: [[2, 3, 4]],
    fn: (a) => a.reshape([4, -1]).mul(a.reshape(4, 6)),
  },
  { name: 'permute 3-D', prims: ['permute'], shapes: [[2, 3, 4]], fn: (a) => a.permute([2, 0, 1]) },
  { name: 'transpose 2-D', prims: ['permute'], shapes: [[3, 5]], fn: (a) => a.transpose(0, 1) },
  { name: 'expand [3,1]→[2,3,4]', prims: ['expand'], shapes: [[3, 1]], fn: (a) => a.expand([2, 3, 4]) },
  { name: 'expand scalar', prims: ['expand'], shapes: [[]], fn: (a) => a.expand([2, 2]) },
  // ---- fused linear ----
  {
    name: 'linear with bias',
    prims: ['linear'],
    shapes: [[4, 5], [3, 5], [3]],
    fn: (x, w, b) => linear(x, w, b),
  },
  {
    name: 'linear without bias',
    prims: ['linear'],
    shapes: [
      [4, 5],
      [3, 5],
    ],
    fn: (x, w) => linear(x, w),
  },
  {
    name: 'linear + relu with bias',
    prims: ['linear'],
    shapes: [[4, 5], [3, 5], [3]],
    fn: (x, w, b) => linear(x, w, b, { relu: true }),
  },
  {
    name: 'linear + relu without bias',
    prims: ['linear'],
    shapes: [
      [6, 4],
      [5, 4],
    ],
    fn: (x, w) => linear(x, w, null, { relu: true }),
  },
  // ---- fused dropout (fixed stream) ----
  {
    name: 'dropout p=0.3 fixed stream',
    prims: ['dropout'],
    shapes: [[6, 7]],
    fn: (x) => dropout(x, 0.3, { training: true, generator: fixedStream() }),
  },
  {
    name: 'dropout p=0.5 fixed stream',
    prims: ['dropout'],
    shapes: [[33]],
    fn: (x) => dropout(x, 0.5, { training: true, generator: fixedStream() }),
  },
  // ---- fused softmax cross-entropy ----
  {
    name: 'softmaxCrossEntropy',
    prims: ['softmaxCrossEntropy'],
    shapes: [[4, 5]],
    fn: (z) => crossEntropy(z, labels()),
    gen: (n, i) => smooth(n, i, 3),
  },
  // ---- fused LayerNorm (every combination of weight and bias; one and two trailing axes) ----
  {
    name: 'layerNorm with weight and bias',
    prims: ['layerNorm'],
    shapes: [[4, 6], [6], [6]],
    fn: (x, w, b) => layerNorm(x, [6], { weight: w, bias: b }),
  },
  {
    name: 'layerNorm over two axes, no affine',
    prims: ['layerNorm'],
    shapes: [[2, 3, 5]],
    fn: (x) => layerNorm(x, [3, 5], { eps: 1e-3 }),
  },
  {
    name: 'layerNorm weight only',
    prims: ['layerNorm'],
    shapes: [[3, 7], [7]],
    fn: (x, w) => layerNorm(x, [7], { weight: w }),
  },
  {
    name: 'layerNorm bias only, transposed input',
    prims: ['layerNorm'],
    shapes: [[5, 3], [5]],
    fn: (x, b) => layerNorm(x.transpose(0, 1), [5], { bias: b }),
  },
  // ---- views and indexing (strided views over one storage; src/tensor/views.ts) ----
  { name: 'narrow dim 1', prims: ['shrink'], shapes: [[3, 5]], fn: (a) => a.narrow(1, 1, 3) },
  { name: 'narrow negative start', prims: ['shrink'], shapes: [[4, 2]], fn: (a) => a.narrow(0, -3, 2) },
  {
    name: 'slice [1:-1:2] on dim 1',
    prims: ['shrink', 'stride'],
    shapes: [[2, 7, 3]],
    fn: (a) => a.slice(1, 1, -1, 2),
  },
  {
    name: 'slice step 3 to the end',
    prims: ['shrink', 'stride'],
    shapes: [[8]],
    fn: (a) => a.slice(0, 0, undefined, 3),
  },
  {
    name: 'select row of a transposed view',
    prims: ['permute', 'shrink', 'reshape'],
    shapes: [[3, 4]],
    fn: (a) => a.transpose(0, 1).select(0, 2),
  },
  {
    name: 'unsqueeze, squeeze and flatten of a view (no copy)',
    prims: ['permute', 'reshape'],
    shapes: [[2, 3, 4]],
    fn: (a) =>
      a
        .permute(2, 0, 1)
        .unsqueeze(1)
        .squeeze(1)
        .flatten(1)
        .mul(a.permute(2, 0, 1).flatten(1)),
  },
  {
    name: 'flatten of a transposed view (copies)',
    prims: ['permute', 'reshape'],
    shapes: [[3, 4]],
    fn: (a) => a.transpose(0, 1).flatten(),
  },
  {
    name: 'pad (the adjoint of shrink)',
    prims: ['pad'],
    shapes: [[2, 3]],
    fn: (a) =>
      Tensor.pad(a, [
        [1, 0],
        [2, 1],
      ]),
  },
  {
    name: 'pad of a narrowed view',
    prims: ['shrink', 'pad'],
    shapes: [[4, 3]],
    fn: (a) =>
      Tensor.pad(a.narrow(0, 1, 2), [
        [0, 2],
        [1, 1],
      ]),
  },
  {
    name: 'contiguous of a view',
    prims: ['permute', 'contiguous'],
    shapes: [[3, 4]],
    fn: (a) => a.t().contiguous(),
  },
  { name: 'clone', prims: ['contiguous', 'mul'], shapes: [[2, 3]], fn: (a) => a.clone().mul(a) },
  {
    name: 'cat dim 1 of three (one a view)',
    prims: ['cat', 'permute'],
    shapes: [
      [2, 3],
      [2, 1],
      [4, 2],
    ],
    fn: (a, b, c) => Tensor.cat([a, b, c.narrow(0, 1, 2).transpose(0, 1).transpose(0, 1)], 1),
  },
  {
    name: 'cat dim 0, an input used twice',
    prims: ['cat'],
    shapes: [[2, 3]],
    fn: (a) => Tensor.cat([a, a.mul(2), a], 0),
  },
  {
    name: 'stack dim 1',
    prims: ['cat', 'reshape'],
    shapes: [
      [2, 3],
      [2, 3],
    ],
    fn: (a, b) => Tensor.stack([a, b], 1),
  },
  {
    name: 'split and chunk recombined',
    prims: ['shrink', 'mul'],
    shapes: [[5, 4]],
    fn: (a) => {
      const [p, q] = a.split([2, 3], 0);
      const [r, t] = a.chunk(2, 1);
      return p!.sum(0).mul(q!.sum(0)).add(r!.mul(t!).sum());
    },
  },
  {
    name: 'gather dim 1 with repeated indices',
    prims: ['gather'],
    shapes: [[3, 4]],
    fn: (a) =>
      a.gather(
        1,
        tensor([
          [3, 0, 3],
          [1, 1, 2],
          [0, 2, 1],
        ]),
      ),
  },
  {
    name: 'gather dim 0, index smaller than the input',
    prims: ['gather'],
    shapes: [[4, 3, 2]],
    fn: (a) => a.gather(0, tensor([3, 0, 1, 1, 2, 3], { shape: [1, 3, 2] })),
  },
  {
    name: 'gather of a transposed view',
    prims: ['gather', 'permute'],
    shapes: [[4, 3]],
    fn: (a) => a.t().gather(1, tensor([[0], [3], [2]])),
  },
  {
    name: 'indexSelect dim 0 with repeats',
    prims: ['gather'],
    shapes: [[4, 3]],
    fn: (a) => a.indexSelect(0, tensor([2, 0, 2, 3])),
  },
  {
    name: 'indexSelect dim 1',
    prims: ['gather'],
    shapes: [[2, 5]],
    fn: (a) => a.indexSelect(1, tensor([4, 1])),
  },
  // ---- matmul with torch.matmul's N-D rules (composed over the matmul and bmm primitives) ----
  { name: 'matmul 1-D · 1-D (dot)', prims: ['matmul'], shapes: [[5], [5]], fn: (a, b) => a.matmul(b) },
  { name: 'matmul 1-D · 2-D', prims: ['matmul'], shapes: [[3], [3, 4]], fn: (a, b) => a.matmul(b) },
  { name: 'matmul 2-D · 1-D', prims: ['matmul'], shapes: [[4, 3], [3]], fn: (a, b) => a.matmul(b) },
  {
    name: 'matmul 3-D · 2-D folds the batch into rows',
    prims: ['matmul', 'reshape'],
    shapes: [
      [2, 3, 4],
      [4, 5],
    ],
    fn: (a, b) => a.matmul(b),
  },
  {
    name: 'matmul 3-D · 3-D (bmm)',
    prims: ['bmm'],
    shapes: [
      [2, 3, 4],
      [2, 4, 2],
    ],
    fn: (a, b) => a.matmul(b),
  },
  {
    name: 'matmul broadcast batch [2,1,3,4]·[3,4,2]',
    prims: ['bmm', 'expand', 'reshape'],
    shapes: [
      [2, 1, 3, 4],
      [3, 4, 2],
    ],
    fn: (a, b) => a.matmul(b),
  },
  {
    name: 'matmul 2-D · 3-D broadcasts the left operand',
    prims: ['bmm', 'expand'],
    shapes: [
      [3, 4],
      [2, 4, 5],
    ],
    fn: (a, b) => a.matmul(b),
  },
  { name: 'matmul 1-D · 3-D', prims: ['bmm'], shapes: [[4], [2, 4, 3]], fn: (a, b) => a.matmul(b) },
  { name: 'matmul 3-D · 1-D', prims: ['matmul'], shapes: [[2, 3, 4], [4]], fn: (a, b) => a.matmul(b) },
  {
    name: 'matmul N-D with transB and a transposed view',
    prims: ['bmm', 'permute'],
    shapes: [
      [2, 3, 4],
      [2, 5, 4],
      [2, 4, 5],
    ],
    fn: (a, b, c) => a.matmul(b, { transB: true }).add(a.matmul(c.transpose(1, 2), { transB: true })),
  },
  {
    name: 'matmul of transposed views reads them as stored (flags flipped)',
    prims: ['matmul', 'permute'],
    shapes: [
      [3, 4],
      [5, 3],
    ],
    fn: (a, b) => a.t().matmul(b.t()),
  },
  {
    name: 'batched matmul of a transposed view',
    prims: ['bmm', 'permute'],
    shapes: [
      [2, 4, 3],
      [2, 4, 5],
    ],
    fn: (a, b) => a.transpose(1, 2).matmul(b),
  },
  // ---- composites ----
  {
    name: 'relu (composite)',
    prims: ['compare', 'where'],
    shapes: [[3, 4]],
    fn: (a) => a.relu(),
    gen: awayFromZero,
  },
  // Over the last axis of a contiguous tensor softmax is one fused primitive; other axes and views
  // keep the composition.
  { name: 'softmax (fused, last axis)', prims: ['softmax'], shapes: [[3, 5]], fn: (a) => softmax(a) },
  {
    name: 'softmax 3-D, 17 columns (fused)',
    prims: ['softmax'],
    shapes: [[2, 3, 17]],
    fn: (a) => softmax(a, 2),
    gen: (n, i) => smooth(n, i, 4),
  },
  {
    name: 'softmax of a transposed view (composite)',
    prims: ['permute', 'sub', 'exp', 'sum', 'div'],
    shapes: [[5, 3]],
    fn: (a) => softmax(a.t()),
  },
  { name: 'softmax axis 0', prims: ['sub', 'exp', 'sum', 'div'], shapes: [[3, 5]], fn: (a) => softmax(a, 0) },
  {
    name: 'logSoftmax (composite)',
    prims: ['exp', 'sum', 'log', 'sub'],
    shapes: [[4, 6]],
    fn: (a) => logSoftmax(a),
    gen: (n, i) => smooth(n, i, 4),
  },
  {
    name: 'crossEntropyComposed',
    prims: ['gather', 'sum', 'neg'],
    shapes: [[4, 5]],
    fn: (z) => crossEntropyComposed(z, labels()),
    gen: (n, i) => smooth(n, i, 3),
  },
  { name: 'mean (composite)', prims: ['sum', 'div'], shapes: [[3, 4]], fn: (a) => a.mean() },
  { name: 'mean axis 1 keepDims', prims: ['sum', 'div'], shapes: [[3, 4]], fn: (a) => a.mean(1, true) },
  {
    name: 'dropoutLayer p=0.4 (composite)',
    prims: ['where', 'mul'],
    shapes: [[5, 6]],
    fn: (x) => dropoutLayer(x, 0.4, { generator: fixedStream() }),
  },
  // ---- im2col / col2im (the unfold behind convolution and pooling) and what is built on them ----
  {
    name: 'im2col 3×3 stride 2 padding 1',
    prims: ['im2col'],
    shapes: [[2, 2, 5, 4]],
    fn: (x) => im2col(x, windowGeometry(x, 3, { stride: 2, padding: 1 }, 1, 'test')),
  },
  {
    name: 'im2col 2×3 window, padding [1, 0], pad value −1',
    prims: ['im2col'],
    shapes: [[1, 3, 4, 5]],
    fn: (x) => im2col(x, windowGeometry(x, [2, 3], { padding: [1, 0] }, 1, 'test'), -1),
  },
  {
    name: 'col2im (overlapping 3×3 windows, stride 1, padding 1)',
    prims: ['col2im'],
    shapes: [[2 * 4 * 3, 2 * 9]],
    fn: (c) =>
      apply('col2im', [c], {
        geom: {
          batch: 2,
          channels: 2,
          height: 4,
          width: 3,
          kernelH: 3,
          kernelW: 3,
          strideH: 1,
          strideW: 1,
          padH: 1,
          padW: 1,
          outH: 4,
          outW: 3,
        },
      }),
  },
  {
    name: 'conv2d 3→4 channels, 3×3, stride 2, padding 1, bias (direct: 27 taps)',
    prims: ['conv2d'],
    shapes: [[2, 3, 6, 5], [4, 3, 3, 3], [4]],
    fn: (x, w, b) => conv2d(x, w, b, { stride: 2, padding: 1 }),
  },
  {
    name: 'conv2d 2→3 channels, 2×4 window, no bias (direct)',
    prims: ['conv2d'],
    shapes: [
      [1, 2, 5, 6],
      [3, 2, 2, 4],
    ],
    fn: (x, w) => conv2d(x, w),
  },
  {
    name: 'conv2d + fused relu (direct)',
    prims: ['conv2d'],
    shapes: [[2, 2, 4, 4], [3, 2, 3, 3], [3]],
    fn: (x, w, b) => conv2d(x, w, b, { padding: 1, relu: true }),
  },
  {
    name: 'conv2d 1→2 channels, 3×3, stride [1, 2], width 7, relu (direct, scalar columns)',
    prims: ['conv2d'],
    shapes: [[2, 1, 5, 7], [2, 1, 3, 3], [2]],
    fn: (x, w, b) => conv2d(x, w, b, { stride: [1, 2], padding: 1, relu: true }),
  },
  {
    name: 'conv2d 4→3 channels, 3×3, padding 1, bias (36 taps: unfolded, im2col → GEMM)',
    prims: ['conv2dUnfolded'],
    shapes: [[2, 4, 4, 5], [3, 4, 3, 3], [3]],
    fn: (x, w, b) => conv2d(x, w, b, { padding: 1 }),
  },
  {
    name: 'conv2d 3→5 channels, 3×4 window, stride 2, relu, no bias (unfolded)',
    prims: ['conv2dUnfolded'],
    shapes: [
      [3, 3, 7, 6],
      [5, 3, 3, 4],
    ],
    fn: (x, w) => conv2d(x, w, null, { stride: 2, padding: [1, 0], relu: true }),
  },
  {
    name: 'conv2d unfolded vs its composition (im2col → linear → permute)',
    prims: ['im2col', 'linear', 'permute'],
    shapes: [[2, 4, 4, 5], [3, 4, 3, 3], [3]],
    fn: (x, w, b) => conv2dComposed(x, w, b, { padding: 1, relu: true }),
  },
  {
    name: 'maxPool2d 2×2',
    prims: ['maxPool2d'],
    shapes: [[2, 3, 4, 6]],
    fn: (x) => maxPool2d(x, 2),
  },
  {
    name: 'maxPool2d 3×3 stride 1 padding 1 (overlapping windows add their gradients)',
    prims: ['maxPool2d'],
    shapes: [[2, 2, 4, 5]],
    fn: (x) => maxPool2d(x, 3, { stride: 1, padding: 1 }),
  },
  {
    name: 'maxPool2d 3×3 stride 2 padding 1 (−∞ padding)',
    prims: ['maxPool2d'],
    shapes: [[1, 2, 5, 5]],
    fn: (x) => maxPool2d(x, 3, { stride: 2, padding: 1 }),
    gen: (n, i) => smooth(n, i).map((v) => v - 2),
  },
  {
    name: 'avgPool2d 3×3 stride 2 padding 1',
    prims: ['im2col', 'sum', 'div', 'permute'],
    shapes: [[2, 2, 5, 4]],
    fn: (x) => avgPool2d(x, 3, { stride: 2, padding: 1 }),
  },
  {
    name: 'scaled dot-product attention on picked q/k/v thirds (composite)',
    prims: ['bmm', 'mul', 'softmax', 'dropout'],
    shapes: [[2, 5, 3, 4]],
    fn: (qkv) => {
      const [q, k, v] = [0, 1, 2].map((i) => pick(qkv, 2, i)) as [Tensor, Tensor, Tensor];
      const dropped = (probs: Tensor): Tensor =>
        dropout(probs, 0.3, { training: true, generator: fixedStream() });
      return scaledDotProductAttention(q, k, v, { dropProbabilities: dropped }).output;
    },
  },
  // Multi-head attention in the [N, L, H, D] layout: one fused primitive; the composition is its reference.
  {
    name: 'attention (fused), T ≠ S, odd H, D off the SIMD lanes, Dv ≠ D',
    prims: ['attention'],
    shapes: [
      [2, 3, 3, 5],
      [2, 4, 3, 5],
      [2, 4, 3, 2],
    ],
    fn: (q, k, v) => attention(q, k, v),
  },
  {
    name: 'attention (fused), scale 0.7, sharp scores',
    prims: ['attention'],
    shapes: [
      [1, 5, 2, 4],
      [1, 5, 2, 4],
      [1, 5, 2, 4],
    ],
    fn: (q, k, v) => attention(q, k, v, 0.7),
    gen: (n, i) => smooth(n, i, 2.5),
  },
  // Self-attention's q, k and v read from one packed qkv [N, L, 3, H, D]: the same kernel, another layout.
  {
    name: 'attentionPacked (fused, one qkv), odd H, D off the SIMD lanes',
    prims: ['attentionPacked'],
    shapes: [[2, 4, 3, 3, 5]],
    fn: (qkv) => attentionPacked(qkv),
  },
  {
    name: 'attentionPacked, scale 0.7, sharp scores, on a permuted view',
    prims: ['attentionPacked', 'permute'],
    shapes: [[1, 3, 2, 6, 4]],
    fn: (x) => attentionPacked(x.permute([0, 3, 1, 2, 4]), 0.7),
    gen: (n, i) => smooth(n, i, 2.5),
  },
  {
    name: 'attentionComposed (the reference of the fused kernel)',
    prims: ['permute', 'mul', 'bmm', 'softmax'],
    shapes: [
      [2, 3, 3, 5],
      [2, 4, 3, 5],
      [2, 4, 3, 2],
    ],
    fn: (q, k, v) => attentionComposed(q, k, v).output,
  },
  {
    name: 'gelu (fused, erf form)',
    prims: ['gelu'],
    shapes: [[3, 7]],
    fn: (x) => gelu(x),
    gen: (n, i) => smooth(n, i, 3.5),
  },
  {
    name: 'gelu of a transposed narrow (strides read, an offset packed)',
    prims: ['gelu', 'permute', 'shrink'],
    shapes: [[9, 3]],
    fn: (x) => gelu(x.narrow(0, 2, 7).transpose(0, 1)),
    gen: (n, i) => smooth(n, i, 3.5),
  },
  {
    name: 'geluComposed (erf form, the reference of the fused kernels)',
    prims: ['where', 'mul', 'div', 'exp', 'add'],
    shapes: [[3, 7]],
    fn: (x) => geluComposed(x),
    gen: (n, i) => smooth(n, i, 3.5),
  },
  {
    name: 'MLP block: linear+relu → dropout → linear → cross-entropy',
    prims: ['linear', 'dropout', 'softmaxCrossEntropy'],
    shapes: [[4, 6], [5, 6], [5], [3, 5]],
    fn: (x, w1, b1, w2) =>
      crossEntropy(
        linear(
          dropout(linear(x, w1, b1, { relu: true }), 0.5, { training: true, generator: fixedStream() }),
          w2,
        ),
        tensor([2, 0, 1, 1]),
      ),
  },
  // ---- the everyday math (src/tensor/math.ts): primitives, then composites ----
  { name: 'sqrt', prims: ['sqrt'], shapes: [[3, 4]], fn: (a) => a.sqrt(), gen: positive },
  { name: 'abs', prims: ['abs'], shapes: [[3, 4]], fn: (a) => a.abs(), gen: awayFromZero },
  { name: 'tanh', prims: ['tanh'], shapes: [[3, 4]], fn: (a) => a.tanh(), gen: (n, i) => smooth(n, i, 3) },
  {
    name: 'sigmoid',
    prims: ['sigmoid'],
    shapes: [[3, 4]],
    fn: (a) => a.sigmoid(),
    gen: (n, i) => smooth(n, i, 6),
  },
  { name: 'pow 3 (negative bases)', prims: ['pow'], shapes: [[3, 4]], fn: (a) => a.pow(3) },
  { name: 'pow -2', prims: ['pow'], shapes: [[3, 4]], fn: (a) => a.pow(-2), gen: positive },
  { name: 'pow 1.5', prims: ['pow'], shapes: [[3, 4]], fn: (a) => a.pow(1.5), gen: positive },
  {
    name: 'pow tensor exponent',
    prims: ['exp', 'log', 'mul'],
    shapes: [[3, 4], [4]],
    fn: (a, b) => a.pow(b),
    gen: positive,
  },
  { name: 'maximum broadcast', prims: ['maximum'], shapes: [[3, 4], [4]], fn: (a, b) => a.maximum(b) },
  { name: 'minimum broadcast', prims: ['minimum'], shapes: [[3, 1], [4]], fn: (a, b) => a.minimum(b) },
  { name: 'rsqrt', prims: ['sqrt', 'div'], shapes: [[2, 3]], fn: (a) => a.rsqrt(), gen: positive },
  { name: 'clamp', prims: ['where', 'compare'], shapes: [[3, 4]], fn: (a) => a.clamp(-0.5, 0.8) },
  { name: 'max(dim) values', prims: ['where', 'sum'], shapes: [[3, 4]], fn: (a) => a.max(1).values },
  {
    name: 'min(dim) values keepDim',
    prims: ['where', 'sum'],
    shapes: [[3, 4]],
    fn: (a) => a.min(0, true).values,
  },
  { name: 'amin', prims: ['max', 'neg'], shapes: [[3, 4]], fn: (a) => a.amin(1) },
  { name: 'var correction 1', prims: ['sub', 'mul', 'sum'], shapes: [[3, 4]], fn: (a) => a.var(1) },
  { name: 'std correction 0', prims: ['sqrt'], shapes: [[3, 4]], fn: (a) => a.std(0, { correction: 0 }) },
  {
    name: 'logsumexp',
    prims: ['exp', 'log'],
    shapes: [[3, 4]],
    fn: (a) => a.logsumexp(1),
    gen: (n, i) => smooth(n, i, 4),
  },
  { name: 'cumsum dim 0', prims: ['matmul', 'permute'], shapes: [[3, 4]], fn: (a) => a.cumsum(0) },
  { name: 'cumsum dim -1', prims: ['matmul'], shapes: [[2, 3, 4]], fn: (a) => a.cumsum(-1) },
];

/** Inputs of a case as flat float32-exact values. */
export function caseInputs(c: OpCase): { data: number[]; shape: number[] }[] {
  return c.shapes.map((shape, i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = (c.gen ?? smooth)(size, i).map((v) => Math.fround(v));
    return { data, shape: [...shape] };
  });
}

/** Deterministic weights for reducing an output to a scalar (so every output element gets a distinct gradient). */
export function outputWeights(size: number): number[] {
  return Array.from({ length: size }, (_, i) => Math.fround(0.5 + 0.25 * Math.cos(0.9 * i + 0.1)));
}
