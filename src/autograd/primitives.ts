/**
 * The primitive table: every differentiable operation's forward (backend kernels) and backward
 * (written with frontend ops) side by side. The table is typed as a mapped type over all primitive
 * names, so adding a primitive without its derivative is a compile error. Everything else (relu,
 * softmax, log-softmax, cross-entropy, dropout, mean) is composed from these.
 *
 * `im2col` and `col2im` (the unfold behind convolution and average pooling, src/ops/conv.ts) are each
 * other's adjoint: both are linear, so each one's backward is the other applied to the gradient.
 * `maxPool2d` keeps each window's argmax beside its max, and its backward scatters to it.
 * `conv2d` is the direct convolution conv.ts takes for small patches (LeNet's first layer): NCHW in and
 * out with bias and ReLU fused, its weight and bias gradients one kernel, dx the im2col route's.
 * `conv2dUnfolded` is the im2col route itself as one op (im2col → GEMM with bias and ReLU → NCHW; dx
 * through col2im, dW against the patches), so the wasm backend can run it a block of images at a time.
 *
 * `bmm` is matmul over a leading batch axis (attention's per-head products, src/nn/attention.ts).
 *
 * Ten entries are fused fast paths of compositions: `linear` (x·Wᵀ + b, optionally ReLU),
 * `dropout`, `softmaxCrossEntropy`, `gelu`, `layerNorm`, `softmax` (over the last axis), `conv2d`,
 * `conv2dUnfolded`, `attention` (softmax(scale·q·kᵀ)·v per head, src/ops/attention.ts) and
 * `attentionPacked` (the same with q, k and v read from one packed tensor qkv).
 * Each is checked against float64 and central differences in the op table (test/helpers/opTable.ts),
 * `linear`, the cross-entropy, `gelu`, softmax, `conv2d` and `attention` against PyTorch too
 * (test/golden/mlp.test.ts, conv.test.ts, ops.test.ts, attention.test.ts), and `dropout`, `gelu`,
 * `layerNorm`, `softmax`, `conv2d`, `conv2dUnfolded`, `attention` and `attentionPacked` against their compositions
 * (test/unit/ops/dropout.test.ts, gelu.test.ts, layer-norm-fused.test.ts, softmax.test.ts,
 * attention.test.ts, test/unit/backend/direct-conv.test.ts, conv-unfolded.test.ts).
 * apply.ts runs the forwards and records the tape; backward.ts runs the backwards.
 */
import type {
  AttentionShape,
  BinaryOp,
  Im2colGeometry,
  ReduceOp,
  StorageId,
  UnaryOp,
} from '../backend/backend.js';
import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import {
  broadcastShapes,
  broadcastStrides,
  sameShape,
  sizeOf,
  stridesOf,
  type Shape,
} from '../tensor/shape.js';
import { composite } from '../tensor/engine.js';
import { Tensor, type Node } from '../tensor/tensor.js';
import {
  catShape,
  expandLayout,
  permuteLayout,
  reshapeStrides,
  shrinkLayout,
  strideLayout,
} from '../tensor/views.js';
import type { Primitive, PrimitiveAttrs } from './primitiveAttrs.js';

/** What a backward rule sees. */
interface Context<P extends Primitive> {
  readonly inputs: readonly Tensor[];
  /** Which inputs need a gradient; rules may skip the others (e.g. dX of the first layer). */
  readonly needs: readonly boolean[];
  readonly out: Tensor;
  readonly saved: readonly Tensor[];
  readonly attrs: PrimitiveAttrs[P];
}

/** Forward and backward of one primitive; backward returns one gradient (or null) per input. */
export interface Rule<P extends Primitive> {
  forward(inputs: readonly Tensor[], attrs: PrimitiveAttrs[P]): { out: Tensor; saved?: Tensor[] };
  backward(g: Tensor, ctx: Context<P>): (Tensor | null)[];
}

// ---------- helpers for forward rules ----------

function binaryForward(op: BinaryOp, a: Tensor, b: Tensor): { out: Tensor } {
  const shape = broadcastShapes(a.shape, b.shape, op);
  const out = Tensor.uninitialized(a.backend, shape);
  a.backend.binary(
    op,
    a.id,
    broadcastStrides(a.shape, shape, a.stride()),
    b.id,
    broadcastStrides(b.shape, shape, b.stride()),
    out.id,
    shape,
  );
  return { out };
}

// The elementwise helpers read their inputs through their strides, so apply.ts hands them views
// without an offset as they are (a transposed or expanded operand costs no copy).
function unaryForward(op: UnaryOp, x: Tensor, shape: Shape = x.shape): { out: Tensor } {
  const out = Tensor.uninitialized(x.backend, shape);
  x.backend.unary(op, x.id, broadcastStrides(x.shape, shape, x.stride()), out.id, shape);
  return { out };
}

function reducedShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

/** Reduces over `axes` by splitting into [outer, reduce, inner] views, one contiguous run at a time. */
function reduceForward(op: ReduceOp, x: Tensor, axes: readonly number[], keepDims: boolean): { out: Tensor } {
  if (op === 'max' && axes.some((a) => x.shape[a] === 0)) {
    throw new ArgumentError(
      `max over an empty axis of shape ${formatShape(x.shape)} has no value; check the input.`,
    );
  }
  const finalShape = reducedShape(x.shape, axes, keepDims);
  if (axes.length === 0) return unaryForward('copy', x, finalShape);
  let current = x;
  let shape = [...x.shape];
  // Reduce from the last axis backwards so earlier axis indices stay valid; the last step writes
  // straight into the output tensor (same element count), so no final copy is needed.
  const order = [...axes].reverse();
  let out = current;
  order.forEach((axis, step) => {
    const outer = sizeOf(shape.slice(0, axis));
    const inner = sizeOf(shape.slice(axis + 1));
    const nextShape = [...shape];
    nextShape[axis] = 1;
    out = Tensor.uninitialized(x.backend, step === order.length - 1 ? finalShape : nextShape);
    x.backend.reduce(op, current.id, outer, shape[axis]!, inner, out.id);
    if (current !== x) current.dispose();
    current = out;
    shape = nextShape;
  });
  return { out };
}

/** Sums a broadcast gradient back down to `shape` (the adjoint of broadcasting). */
function unbroadcast(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return g.sum(axes, true).reshape([...shape]);
}

/**
 * A convolution primitive's inputs [x, weight, bias?] checked against its geometry, and its output
 * [N, OC, OH, OW] allocated: what conv2d and conv2dUnfolded share before their kernels (bias -1: none).
 */
function convForward(
  inputs: readonly Tensor[],
  geom: Im2colGeometry,
): { x: Tensor; w: Tensor; bias: StorageId; oc: number; out: Tensor } {
  const [x, w, b] = inputs as [Tensor, Tensor, Tensor | undefined];
  checkShape('conv2d input', x, im2colShapes(geom).image);
  const oc = w.shape[0]!;
  checkShape('conv2d weight', w, [oc, geom.channels, geom.kernelH, geom.kernelW]);
  if (b !== undefined) checkShape('conv2d bias', b, [oc]);
  const out = Tensor.uninitialized(x.backend, [geom.batch, oc, geom.outH, geom.outW]);
  return { x, w, bias: b?.id ?? -1, oc, out };
}

/** The shapes an im2col geometry relates: the image [N, C, H, W] and its columns [N·OH·OW, C·KH·KW]. */
function im2colShapes(g: Im2colGeometry): { image: number[]; cols: number[] } {
  return {
    image: [g.batch, g.channels, g.height, g.width],
    cols: [g.batch * g.outH * g.outW, g.channels * g.kernelH * g.kernelW],
  };
}

function checkShape(what: string, t: Tensor, expected: readonly number[]): void {
  if (!sameShape(t.shape, expected)) {
    throw new ShapeError(`${what}: got ${formatShape(t.shape)}, expected ${formatShape(expected)}.`);
  }
}

function checkMatmul(a: Tensor, b: Tensor, transA: boolean, transB: boolean): [number, number, number] {
  if (a.ndim !== 2 || b.ndim !== 2) {
    throw new ShapeError(
      `matmul needs 2-D tensors, got ${formatShape(a.shape)} and ${formatShape(b.shape)}; reshape or flatten first.`,
    );
  }
  const [m, k] = transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [k2, n] = transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (k !== k2) {
    throw new ShapeError(
      `matmul: shapes ${formatShape(a.shape)}${transA ? 'ᵀ' : ''} and ${formatShape(b.shape)}${transB ? 'ᵀ' : ''} ` +
        `do not align (${k} ≠ ${k2}); the inner dimensions must match.`,
    );
  }
  return [m, n, k];
}

function checkBmm(a: Tensor, b: Tensor, transA: boolean, transB: boolean): [number, number, number, number] {
  if (a.ndim !== 3 || b.ndim !== 3 || a.shape[0] !== b.shape[0]) {
    throw new ShapeError(
      `bmm needs 3-D tensors with the same leading (batch) size, got ${formatShape(a.shape)} and ` +
        `${formatShape(b.shape)}; reshape to [batch, rows, cols] first.`,
    );
  }
  const [m, k] = transA ? [a.shape[2]!, a.shape[1]!] : [a.shape[1]!, a.shape[2]!];
  const [k2, n] = transB ? [b.shape[2]!, b.shape[1]!] : [b.shape[1]!, b.shape[2]!];
  if (k !== k2) {
    throw new ShapeError(
      `bmm: shapes ${formatShape(a.shape)}${transA ? 'ᵀ' : ''} and ${formatShape(b.shape)}${transB ? 'ᵀ' : ''} ` +
        `do not align (${k} ≠ ${k2}); the inner dimensions must match.`,
    );
  }
  return [a.shape[0]!, m, n, k];
}

/** The sizes of a fused attention from q [N, T, H, D], k [N, S, H, D] and v [N, S, H, Dv], checked. */
function attentionShape(q: Tensor, k: Tensor, v: Tensor): AttentionShape {
  const [batch, queries, heads, dim] = q.shape as [number, number, number, number];
  const keys = k.shape[1]!;
  const valueDim = v.shape[3]!;
  if (
    q.ndim !== 4 ||
    !sameShape(k.shape, [batch, keys, heads, dim]) ||
    !sameShape(v.shape, [batch, keys, heads, valueDim])
  ) {
    throw new ShapeError(
      `attention expects q [N, T, H, D], k [N, S, H, D] and v [N, S, H, Dv]; got ` +
        `${formatShape(q.shape)}, ${formatShape(k.shape)} and ${formatShape(v.shape)}.`,
    );
  }
  return { batch, heads, queries, keys, dim, valueDim };
}

/** The sizes of a packed fused attention from qkv [N, L, 3, H, D], checked (T = S = L, Dv = D). */
function packedAttentionShape(qkv: Tensor): AttentionShape {
  const [batch, length, three, heads, dim] = qkv.shape as [number, number, number, number, number];
  if (qkv.ndim !== 5 || three !== 3) {
    throw new ShapeError(`attentionPacked expects qkv [N, L, 3, H, D]; got ${formatShape(qkv.shape)}.`);
  }
  return { batch, heads, queries: length, keys: length, dim, valueDim: dim, packed: true };
}

/** pad as a recorded op (the adjoint of shrink; the backward of a backward stays differentiable). */
function padded(g: Tensor, pads: [number, number][]): Tensor {
  if (pads.every(([b, a]) => b === 0 && a === 0)) return g;
  return Tensor.pad(g, pads);
}

/** A tensor of `shape` on x's backend filled with `value` (a constant: no tape). */
function filled(x: Tensor, value: number, shape: Shape): Tensor {
  const out = Tensor.uninitialized(x.backend, shape);
  x.backend.fill(out.id, out.size, value);
  return out;
}

/** 1 / x. */
function reciprocal(x: Tensor): Tensor {
  return filled(x, 1, []).div(x);
}

/** x^p for a number p on the kernels every backend has (see the `pow` rule). */
function powForward(x: Tensor, p: number): Tensor {
  if (p === 0) return filled(x, 1, x.shape);
  if (p === 0.5) return x.sqrt();
  if (Number.isInteger(p) && Math.abs(p) <= 2 ** 31) {
    let n = Math.abs(p);
    let result: Tensor | null = null;
    let square = x;
    for (;;) {
      if (n % 2 === 1) result = result === null ? square.mul(1) : result.mul(square);
      n = Math.floor(n / 2);
      if (n === 0) break;
      square = square.mul(square);
    }
    return p > 0 ? result! : reciprocal(result!);
  }
  return x.log().mul(p).exp();
}

/**
 * maximum/minimum's backward: the gradient goes to the winner, and is split evenly on a tie, as
 * torch.maximum does (`win` is 'gt' for maximum, 'lt' for minimum).
 */
function minMaxBackward(
  g: Tensor,
  a: Tensor,
  b: Tensor,
  win: 'gt' | 'lt',
  needA: boolean | undefined,
  needB: boolean | undefined,
): (Tensor | null)[] {
  const share = (win === 'gt' ? a.gt(b) : a.lt(b)).add(a.eq(b).mul(0.5));
  return [
    when(needA, () => unbroadcast(g.mul(share), a.shape)),
    when(needB, () => unbroadcast(g.mul(share.neg().add(1)), b.shape)),
  ];
}

/** A gradient only when its input needs one (backward.ts drops the others anyway). */
function when(need: boolean | undefined, f: () => Tensor): Tensor | null {
  return need ? f() : null;
}

// ---------- the table ----------

/** The table: each primitive's forward and backward (apply.ts runs the forwards, backward.ts the backwards). */
export const rules: { readonly [P in Primitive]: Rule<P> } = {
  // The binary rules skip an input that needs no gradient (a constant such as x · 0.5's scalar):
  // its gradient would be a product and a full reduction thrown away by backward.ts.
  add: {
    forward: ([a, b]) => binaryForward('add', a!, b!),
    backward: (g, { inputs: [a, b], needs: [needA, needB] }) => [
      when(needA, () => unbroadcast(g, a!.shape)),
      when(needB, () => unbroadcast(g, b!.shape)),
    ],
  },
  sub: {
    forward: ([a, b]) => binaryForward('sub', a!, b!),
    backward: (g, { inputs: [a, b], needs: [needA, needB] }) => [
      when(needA, () => unbroadcast(g, a!.shape)),
      when(needB, () => unbroadcast(g.neg(), b!.shape)),
    ],
  },
  mul: {
    forward: ([a, b]) => binaryForward('mul', a!, b!),
    backward: (g, { inputs: [a, b], needs: [needA, needB] }) => [
      when(needA, () => unbroadcast(g.mul(b!), a!.shape)),
      when(needB, () => unbroadcast(g.mul(a!), b!.shape)),
    ],
  },
  div: {
    forward: ([a, b]) => binaryForward('div', a!, b!),
    backward: (g, { inputs: [a, b], out, needs: [needA, needB] }) => [
      when(needA, () => unbroadcast(g.div(b!), a!.shape)),
      when(needB, () => unbroadcast(g.mul(out).div(b!).neg(), b!.shape)),
    ],
  },
  neg: {
    forward: ([x]) => unaryForward('neg', x!),
    backward: (g) => [g.neg()],
  },
  exp: {
    forward: ([x]) => unaryForward('exp', x!),
    backward: (g, { out }) => [g.mul(out)],
  },
  log: {
    forward: ([x]) => unaryForward('log', x!),
    backward: (g, { inputs: [x] }) => [g.div(x!)],
  },
  where: {
    forward: ([cond, a, b]) => {
      const shape = broadcastShapes(broadcastShapes(cond!.shape, a!.shape, 'where'), b!.shape, 'where');
      const out = Tensor.uninitialized(a!.backend, shape);
      a!.backend.where(
        cond!.id,
        broadcastStrides(cond!.shape, shape, cond!.stride()),
        a!.id,
        broadcastStrides(a!.shape, shape, a!.stride()),
        b!.id,
        broadcastStrides(b!.shape, shape, b!.stride()),
        out.id,
        shape,
      );
      return { out };
    },
    backward: (g, { inputs: [cond, a, b], needs: [, needA, needB] }) => {
      const zero = g.mul(0);
      return [
        null,
        when(needA, () => unbroadcast(Tensor.where(cond!, g, zero), a!.shape)),
        when(needB, () => unbroadcast(Tensor.where(cond!, zero, g), b!.shape)),
      ];
    },
  },
  compare: {
    forward: ([a, b], { op }) => binaryForward(op, a!, b!),
    // Comparisons are piecewise constant: no gradient flows through them.
    backward: () => [null, null],
  },
  sum: {
    forward: ([x], { axes, keepDims }) => reduceForward('sum', x!, axes, keepDims),
    backward: (g, { inputs: [x], attrs: { axes } }) => [
      g.reshape(reducedShape(x!.shape, axes, true)).expand(x!.shape),
    ],
  },
  max: {
    forward: ([x], { axes, keepDims }) => reduceForward('max', x!, axes, keepDims),
    backward: (g, { inputs: [x], out, attrs: { axes } }) => {
      // Split the gradient evenly among tied maxima (as torch.amax does).
      const kept = reducedShape(x!.shape, axes, true);
      const mask = x!.eq(out.reshape(kept));
      const count = mask.sum(axes, true);
      return [mask.mul(g.reshape(kept)).div(count)];
    },
  },
  matmul: {
    forward: ([a, b], { transA, transB }) => {
      const [m, n, k] = checkMatmul(a!, b!, transA, transB);
      // With k = 0 the product is all zeros and a kernel may write nothing: start from zeros.
      const out = k === 0 ? Tensor.empty(a!.backend, [m, n]) : Tensor.uninitialized(a!.backend, [m, n]);
      a!.backend.matmul(a!.id, b!.id, out.id, m, n, k, transA, transB);
      return { out };
    },
    backward: (g, { inputs: [a, b], needs: [needA, needB], attrs: { transA, transB } }) => {
      // C = op(A)·op(B); each case keeps every product transpose-free in memory. A product whose
      // input needs no gradient is skipped: for the first layer that is a third of backward's flops.
      if (!transA && !transB)
        return [
          when(needA, () => g.matmul(b!, { transB: true })),
          when(needB, () => a!.matmul(g, { transA: true })),
        ];
      if (!transA && transB)
        return [when(needA, () => g.matmul(b!)), when(needB, () => g.matmul(a!, { transA: true }))];
      if (transA && !transB)
        return [when(needA, () => b!.matmul(g, { transB: true })), when(needB, () => a!.matmul(g))];
      return [
        when(needA, () => b!.matmul(g, { transA: true, transB: true })),
        when(needB, () => g.matmul(a!, { transA: true, transB: true })),
      ];
    },
  },
  bmm: {
    forward: ([a, b], { transA, transB }) => {
      const [batch, m, n, k] = checkBmm(a!, b!, transA, transB);
      const shape = [batch, m, n];
      const out = k === 0 ? Tensor.empty(a!.backend, shape) : Tensor.uninitialized(a!.backend, shape);
      a!.backend.batchMatmul(a!.id, b!.id, out.id, batch, m, n, k, transA, transB);
      return { out };
    },
    // matmul's four cases, item by item (the transposes apply to each item's last two axes).
    backward: (g, { inputs: [a, b], needs: [needA, needB], attrs: { transA, transB } }) => {
      if (!transA && !transB)
        return [
          when(needA, () => g.bmm(b!, { transB: true })),
          when(needB, () => a!.bmm(g, { transA: true })),
        ];
      if (!transA && transB)
        return [when(needA, () => g.bmm(b!)), when(needB, () => g.bmm(a!, { transA: true }))];
      if (transA && !transB)
        return [when(needA, () => b!.bmm(g, { transB: true })), when(needB, () => a!.bmm(g))];
      return [
        when(needA, () => b!.bmm(g, { transA: true, transB: true })),
        when(needB, () => g.bmm(a!, { transA: true, transB: true })),
      ];
    },
  },
  // ---- views: a new layout (shape, strides, offset) over the input's storage, no copy (tinygrad's
  // movement ops, src/tensor/views.ts); each one's adjoint is another: expand ↔ sum, shrink ↔ pad,
  // permute ↔ the inverse permute, stride ↔ pad + reshape. apply.ts hands the other rules contiguous
  // inputs, copying a view only when a kernel needs contiguous memory.
  reshape: {
    // A reshape is a view when the layout allows (always for contiguous storage, and for unsqueeze,
    // squeeze and most flattens of views); otherwise it reads a contiguous copy.
    forward: ([x], { shape }) => {
      if (x!.isContiguous()) return { out: x!.view(shape) };
      const strides = reshapeStrides(x!.shape, x!.stride(), shape);
      if (strides !== null) return { out: Tensor.viewOf(x!, { shape, strides, offset: x!.storageOffset() }) };
      const packed = x!.packed();
      const out = packed.view(shape);
      packed.dispose();
      return { out };
    },
    backward: (g, { inputs: [x] }) => [g.reshape([...x!.shape])],
  },
  permute: {
    forward: ([x], { perm }) => ({ out: Tensor.viewOf(x!, permuteLayout(x!.layout, perm)) }),
    backward: (g, { attrs: { perm } }) => {
      const inverse = new Array<number>(perm.length);
      perm.forEach((p, i) => (inverse[p] = i));
      return [g.permute(inverse)];
    },
  },
  expand: {
    forward: ([x], { shape }) => ({ out: Tensor.viewOf(x!, expandLayout(x!.layout, shape)) }),
    backward: (g, { inputs: [x] }) => [unbroadcast(g, x!.shape)],
  },
  shrink: {
    forward: ([x], { ranges }) => ({ out: Tensor.viewOf(x!, shrinkLayout(x!.layout, ranges)) }),
    backward: (g, { inputs: [x], attrs: { ranges } }) => [
      padded(
        g,
        ranges.map(([s, e], a): [number, number] => [s, x!.shape[a]! - e]),
      ),
    ],
  },
  stride: {
    forward: ([x], { steps }) => ({ out: Tensor.viewOf(x!, strideLayout(x!.layout, steps)) }),
    // Each strided axis of m kept entries becomes [m, 1], is padded to [m, step] with zeros, flattened
    // to m·step and cut to the input's length (tinygrad's adjoint of a strided slice).
    backward: (g, { inputs: [x], attrs: { steps } }) => {
      let out = g;
      steps.forEach((step, a) => {
        if (step === 1) return;
        const spread = out.unsqueeze(a + 1);
        const pads = spread.shape.map((_, b): [number, number] => (b === a + 1 ? [0, step - 1] : [0, 0]));
        const flat = padded(spread, pads).flatten(a, a + 1);
        out = flat.narrow(a, 0, x!.shape[a]!);
      });
      return [out];
    },
  },
  pad: {
    // Zeros, with the input copied into the region that the adjoint's shrink reads back.
    forward: ([x], { pads }) => {
      const shape = x!.shape.map((n, a) => pads[a]![0] + n + pads[a]![1]);
      const out = Tensor.empty(x!.backend, shape);
      const strides = stridesOf(shape);
      const offset = pads.reduce((o, [before], a) => o + before * strides[a]!, 0);
      x!.backend.copyStrided(x!.id, x!.storageOffset(), x!.stride(), out.id, offset, strides, x!.shape);
      return { out };
    },
    backward: (g, { inputs: [x], attrs: { pads } }) => [
      Tensor.shrink(
        g,
        pads.map(([before], a): [number, number] => [before, before + x!.shape[a]!]),
      ),
    ],
  },
  contiguous: {
    forward: ([x]) => {
      const out = Tensor.uninitialized(x!.backend, x!.shape);
      x!.backend.copyStrided(
        x!.id,
        x!.storageOffset(),
        x!.stride(),
        out.id,
        0,
        stridesOf(x!.shape),
        x!.shape,
      );
      return { out };
    },
    backward: (g) => [g],
  },
  cat: {
    // Each input is copied from its own layout into its region of the output: views are read in place.
    forward: (inputs, { dim }) => {
      const shape = catShape(
        inputs.map((t) => t.shape),
        dim,
      );
      const out = Tensor.uninitialized(inputs[0]!.backend, shape);
      const strides = stridesOf(shape);
      let offset = 0;
      for (const t of inputs) {
        t.backend.copyStrided(t.id, t.storageOffset(), t.stride(), out.id, offset, strides, t.shape);
        offset += t.shape[dim]! * strides[dim]!;
      }
      return { out };
    },
    backward: (g, { inputs, needs, attrs: { dim } }) => {
      let start = 0;
      return inputs.map((t, i) => {
        const piece = when(needs[i], () => g.narrow(dim, start, t.shape[dim]!));
        start += t.shape[dim]!;
        return piece;
      });
    },
  },
  gather: {
    forward: ([x, index], { dim }) => {
      const out = Tensor.uninitialized(x!.backend, index!.shape);
      x!.backend.gather(x!.id, stridesOf(x!.shape), dim, index!.id, out.id, index!.shape);
      return { out };
    },
    // Scatter-add back (repeated indices sum); called on the kernel directly, as im2col's adjoint is.
    backward: (g, { inputs: [x, index], attrs: { dim } }) => {
      const out = Tensor.uninitialized(g.backend, x!.shape);
      const idx = index!.packed();
      g.backend.scatterAdd(g.id, idx.id, index!.shape, dim, out.id, x!.shape);
      if (idx !== index) idx.dispose();
      return [out, null];
    },
  },
  linear: {
    forward: (inputs, { relu }) => {
      const [x, w, b] = inputs;
      const [m, n, k] = checkMatmul(x!, w!, false, true);
      if (b !== undefined && (b.ndim !== 1 || b.shape[0] !== n)) {
        throw new ShapeError(
          `linear: bias has shape ${formatShape(b.shape)} but the layer has ${n} outputs; expected [${n}].`,
        );
      }
      const out = k === 0 ? Tensor.empty(x!.backend, [m, n]) : Tensor.uninitialized(x!.backend, [m, n]);
      x!.backend.matmul(x!.id, w!.id, out.id, m, n, k, false, true, { bias: b?.id ?? -1, relu });
      return { out };
    },
    backward: (g, { inputs, needs, out, attrs: { relu } }) => {
      const [x, w, b] = inputs;
      const gz = relu ? g.mul(out.gt(0)) : g;
      // dX is skipped when X needs no gradient (the network's input): a third of backward's flops.
      const grads: (Tensor | null)[] = [
        needs[0] ? gz.matmul(w!) : null,
        needs[1] ? gz.matmul(x!, { transA: true }) : null,
      ];
      if (b !== undefined) grads.push(needs[2] ? gz.sum(0) : null);
      return grads;
    },
  },
  im2col: {
    forward: ([x], { geom, padValue }) => {
      const { image, cols } = im2colShapes(geom);
      checkShape('im2col input', x!, image);
      const out = Tensor.uninitialized(x!.backend, cols);
      x!.backend.im2col(x!.id, out.id, geom, padValue);
      return { out };
    },
    // Padding entries are constants, so the adjoint sums only the entries read from the image. The
    // backward pass runs without a tape, so the adjoint's kernel is called directly.
    backward: (g, { attrs: { geom } }) => {
      const out = Tensor.uninitialized(g.backend, im2colShapes(geom).image);
      g.backend.col2im(g.id, out.id, geom);
      return [out];
    },
  },
  col2im: {
    forward: ([cols], { geom }) => {
      const shapes = im2colShapes(geom);
      checkShape('col2im input', cols!, shapes.cols);
      const out = Tensor.uninitialized(cols!.backend, shapes.image);
      cols!.backend.col2im(cols!.id, out.id, geom);
      return { out };
    },
    backward: (g, { attrs: { geom } }) => {
      const out = Tensor.uninitialized(g.backend, im2colShapes(geom).cols);
      g.backend.im2col(g.id, out.id, geom, 0);
      return [out];
    },
  },
  maxPool2d: {
    // The window's argmax is kept (as torch's max_pool2d_with_indices does), so backward is one
    // scatter to the recorded positions rather than a comparison against the output.
    forward: ([x], { geom }) => {
      checkShape('maxPool2d input', x!, im2colShapes(geom).image);
      const shape = [geom.batch, geom.channels, geom.outH, geom.outW];
      const out = Tensor.uninitialized(x!.backend, shape);
      const indices = Tensor.uninitialized(x!.backend, shape).setDType('int32');
      x!.backend.maxPool2d(x!.id, geom, out.id, indices.id);
      return { out, saved: [indices] };
    },
    // The whole gradient goes to each window's first maximum (PyTorch's rule); overlapping windows
    // add theirs. Run without a tape, so the kernel is called directly.
    backward: (g, { saved: [indices], attrs: { geom } }) => {
      const dx = Tensor.uninitialized(g.backend, im2colShapes(geom).image);
      g.backend.maxPool2dBackward(g.id, indices!.id, geom, dx.id);
      return [dx];
    },
  },
  conv2d: {
    forward: (inputs, { geom, relu }) => {
      const { x, w, bias, oc, out } = convForward(inputs, geom);
      x.backend.conv2d(x.id, w.id, bias, geom, oc, relu, out.id);
      return { out };
    },
    // One kernel gives dW and db (dy's NCHW layout read as is, ReLU's mask applied as it reads); dx,
    // needed only past the first layer, is the im2col route's exactly: dy ⊙ (out > 0) as rows
    // [N·OH·OW, OC] · W, then col2im. Runs without a tape.
    backward: (g, { inputs, needs, out, attrs: { geom, relu } }) => {
      const [x, w, b] = inputs;
      const oc = w!.shape[0]!;
      // The masked gradient is written out only for dx; the weight kernel masks dy itself.
      const gz = relu && needs[0] ? g.mul(out.gt(0)) : g;
      const reluOut = relu && !needs[0] ? out.id : -1;
      let dx: Tensor | null = null;
      if (needs[0]) {
        const rows = gz
          .reshape([geom.batch, oc, geom.outH * geom.outW])
          .permute([0, 2, 1])
          .reshape([geom.batch * geom.outH * geom.outW, oc]);
        const cols = rows.matmul(w!.reshape([oc, im2colShapes(geom).cols[1]!]));
        dx = Tensor.uninitialized(g.backend, im2colShapes(geom).image);
        g.backend.col2im(cols.id, dx.id, geom);
      }
      const needW = needs[1] === true;
      const needB = b !== undefined && needs[2] === true;
      let dw: Tensor | null = null;
      let db: Tensor | null = null;
      if (needW || needB) {
        // The kernel writes both; an unneeded one is computed and dropped (it costs one extra sum).
        dw = Tensor.uninitialized(g.backend, w!.shape);
        db = b !== undefined ? Tensor.uninitialized(g.backend, [oc]) : null;
        // The tape keeps x as the caller passed it (maybe a view); the kernel reads contiguous storage.
        const xs = x!.packed();
        g.backend.conv2dWeightGrad(xs.id, gz.id, geom, oc, dw.id, db?.id ?? -1, reluOut);
        if (xs !== x) xs.dispose();
      }
      const grads: (Tensor | null)[] = [dx, needW ? dw : null];
      if (b !== undefined) grads.push(needB ? db : null);
      return grads;
    },
  },
  conv2dUnfolded: {
    forward: (inputs, { geom, relu }) => {
      const { x, w, bias, oc, out } = convForward(inputs, geom);
      x.backend.conv2dUnfolded(x.id, w.id, bias, geom, oc, relu, out.id);
      return { out };
    },
    // dx = col2im(rows(gz)·W) and dW = rows(gz)ᵀ·im2col(x) in one backend call (the wasm backend
    // unfolds x again a block at a time instead of keeping the patches); db sums gz over N, OH, OW.
    // Runs without a tape.
    backward: (g, { inputs, needs, out, attrs: { geom, relu } }) => {
      const [x, w, b] = inputs;
      const oc = w!.shape[0]!;
      const gz = relu ? g.mul(out.gt(0)) : g;
      const dx = needs[0] ? Tensor.uninitialized(g.backend, im2colShapes(geom).image) : null;
      const dw = needs[1] ? Tensor.uninitialized(g.backend, w!.shape) : null;
      if (dx !== null || dw !== null) {
        // The tape keeps x as the caller passed it (maybe a view); the kernels read contiguous storage.
        const xs = x!.packed();
        const gs = gz.packed();
        g.backend.conv2dUnfoldedBackward(xs.id, gs.id, w!.id, geom, oc, dx?.id ?? -1, dw?.id ?? -1);
        if (xs !== x) xs.dispose();
        if (gs !== gz) gs.dispose();
      }
      const grads: (Tensor | null)[] = [dx, dw];
      if (b !== undefined) grads.push(needs[2] ? gz.sum([0, 2, 3]) : null);
      return grads;
    },
  },
  dropout: {
    forward: ([x], { p, stream }) => {
      const out = Tensor.uninitialized(x!.backend, x!.shape);
      x!.backend.dropout(x!.id, stream, p, out.id, x!.size);
      return { out };
    },
    // The mask is a pure function of the stream, so backward asks for it again instead of holding
    // it (the reference backend re-draws it; the wasm backend keeps recent masks as bits).
    backward: (g, { attrs: { p, stream } }) => {
      const out = Tensor.uninitialized(g.backend, g.shape);
      g.backend.dropout(g.id, stream, p, out.id, g.size);
      return [out];
    },
  },
  softmaxCrossEntropy: {
    forward: ([logits, labels]) => {
      const [rows, cols] = logits!.shape as [number, number];
      const losses = Tensor.uninitialized(logits!.backend, [rows]);
      const grad = Tensor.uninitialized(logits!.backend, [rows, cols]);
      logits!.backend.softmaxCrossEntropy(logits!.id, labels!.id, rows, cols, losses.id, grad.id);
      const out = losses.mean();
      losses.dispose();
      return { out, saved: [grad] };
    },
    backward: (g, { inputs: [logits], saved: [grad] }) => [grad!.mul(g.div(logits!.shape[0]!)), null],
  },
  gelu: {
    // x·Φ(x) in one kernel instead of the ~20 of its composition (ops/gelu.ts), and dy·GELU′(x) in one
    // more; the kernel reads x through its strides, so an input view with an offset is packed first.
    forward: ([x]) => unaryForward('gelu', x!),
    backward: (g, { inputs: [x] }) => {
      const xs = x!.storageOffset() === 0 ? x! : x!.packed();
      const { out } = binaryForward('geluBackward', xs, g);
      if (xs !== x) xs.dispose();
      return [out];
    },
  },
  layerNorm: {
    // Inputs are packed by apply; weight and bias hold the cols elements of the normalised axes.
    forward: (inputs, { axes, eps, weight, bias }) => {
      const x = inputs[0]!;
      const cols = sizeOf(x.shape.slice(x.ndim - axes));
      const rows = cols === 0 ? 0 : x.size / cols;
      const be = x.backend;
      const w = weight ? inputs[1]!.id : -1;
      const b = bias ? inputs[weight ? 2 : 1]!.id : -1;
      const out = Tensor.uninitialized(be, x.shape);
      const mean = Tensor.uninitialized(be, [rows]);
      const rstd = Tensor.uninitialized(be, [rows]);
      be.layerNorm(x.id, w, b, rows, cols, eps, out.id, mean.id, rstd.id);
      return { out, saved: [mean, rstd] };
    },
    // dx from one fused pass; dgamma = Σ_rows g·x̂ and dbeta = Σ_rows g by the reduce kernel, whose
    // column sums run in row order on one thread, so they do not depend on the thread count.
    backward: (g, { inputs, needs, saved: [mean, rstd], attrs: { axes, weight, bias } }) => {
      const x = inputs[0]!.packed();
      const w = weight ? inputs[1]!.packed() : undefined;
      const cols = sizeOf(x.shape.slice(x.ndim - axes));
      const rows = cols === 0 ? 0 : x.size / cols;
      const be = g.backend;
      const dx = Tensor.uninitialized(be, x.shape);
      const gxhat = w !== undefined && needs[1] ? Tensor.uninitialized(be, [rows, cols]) : undefined;
      be.layerNormBackward(g.id, x.id, w?.id ?? -1, mean!.id, rstd!.id, rows, cols, dx.id, gxhat?.id ?? -1);
      // Σ over rows of a [rows, cols] matrix, shaped like parameter input i.
      const rowSum = (t: Tensor, i: number): Tensor =>
        t
          .reshape([rows, cols])
          .sum(0)
          .reshape([...inputs[i]!.shape]);
      const grads: (Tensor | null)[] = [needs[0] ? dx : null];
      if (w !== undefined) grads.push(gxhat !== undefined ? rowSum(gxhat, 1) : null);
      if (bias) grads.push(needs[grads.length] ? rowSum(g, grads.length) : null);
      return grads;
    },
  },
  softmax: {
    // Over the last axis of a non-empty input (Tensor.softmax keeps the composition otherwise), one
    // row per line of that axis: one kernel instead of max, sub, exp, sum and div and their backwards.
    forward: ([x]) => {
      const cols = x!.shape[x!.ndim - 1]!;
      const out = Tensor.uninitialized(x!.backend, x!.shape);
      x!.backend.softmax(x!.id, x!.size / cols, cols, out.id);
      return { out };
    },
    // dx = y·(dy − Σ dy·y) per row, from the output alone; the kernel is called directly, as
    // im2col's adjoint is (the backward pass records no tape).
    backward: (g, { out }) => {
      const cols = out.shape[out.ndim - 1]!;
      const dx = Tensor.uninitialized(g.backend, out.shape);
      g.backend.softmaxBackward(out.id, g.id, out.size / cols, cols, dx.id);
      return [dx];
    },
  },

  attention: {
    // softmax(scale·q·kᵀ)·v per (n, h) block in one kernel, read and written in the [N, L, H, D]
    // layouts (no head permutes, no per-head GEMM items); the probabilities [N, H, T, S] are kept for
    // backward. Inputs are packed by apply.
    forward: ([q, k, v], { scale }) => {
      const shape = attentionShape(q!, k!, v!);
      const { batch, heads, queries, keys, valueDim } = shape;
      const be = q!.backend;
      const out = Tensor.uninitialized(be, [batch, queries, heads, valueDim]);
      const probs = Tensor.uninitialized(be, [batch, heads, queries, keys]);
      be.attention(q!.id, k!.id, v!.id, shape, scale, out.id, probs.id);
      return { out, saved: [probs] };
    },
    // dv = Pᵀ·dO, dS = P∘(dO·vᵀ − rowsum), dq = scale·dS·k, dk = scale·dSᵀ·q: one kernel writes all
    // three (an unneeded one is dropped). The tape keeps the inputs as passed (maybe views): packed
    // here. Runs without a tape, so the kernel is called directly.
    backward: (g, { inputs, needs, saved: [probs], attrs: { scale } }) => {
      const [q, k, v] = inputs.map((t) => t.packed()) as [Tensor, Tensor, Tensor];
      const shape = attentionShape(q, k, v);
      const be = g.backend;
      const dq = Tensor.uninitialized(be, q.shape);
      const dk = Tensor.uninitialized(be, k.shape);
      const dv = Tensor.uninitialized(be, v.shape);
      be.attentionBackward(g.id, q.id, k.id, v.id, probs!.id, shape, scale, dq.id, dk.id, dv.id);
      return [dq, dk, dv].map((d, i) => (needs[i] ? d : null));
    },
  },
  attentionPacked: {
    // attention with q, k and v read in place from one qkv [N, L, 3, H, D] (self-attention's one
    // packed projection [N·L, 3E] reshaped): the same kernel, given the packed layout.
    forward: ([qkv], { scale }) => {
      const shape = packedAttentionShape(qkv!);
      const { batch, heads, queries, keys, valueDim } = shape;
      const be = qkv!.backend;
      const out = Tensor.uninitialized(be, [batch, queries, heads, valueDim]);
      const probs = Tensor.uninitialized(be, [batch, heads, queries, keys]);
      be.attention(qkv!.id, qkv!.id, qkv!.id, shape, scale, out.id, probs.id);
      return { out, saved: [probs] };
    },
    // attention's backward, writing dq, dk and dv into one dqkv in qkv's layout: the gradient of the
    // packed projection's output as it lies, with no concatenation of three parts.
    backward: (g, { inputs: [input], saved: [probs], attrs: { scale } }) => {
      const qkv = input!.packed();
      const shape = packedAttentionShape(qkv);
      const be = g.backend;
      const dqkv = Tensor.uninitialized(be, qkv.shape);
      be.attentionBackward(g.id, qkv.id, qkv.id, qkv.id, probs!.id, shape, scale, dqkv.id, dqkv.id, dqkv.id);
      return [dqkv];
    },
  },
  // ---- the everyday math (methods in src/tensor/math.ts; PyTorch's derivatives.yaml formulas) ----
  sqrt: {
    forward: ([x]) => unaryForward('sqrt', x!),
    backward: (g, { out }) => [g.div(out.mul(2))],
  },
  abs: {
    forward: ([x]) => unaryForward('abs', x!),
    // sign(0) = 0: no gradient at the kink, as in PyTorch.
    backward: (g, { inputs: [x] }) => [g.mul(x!.sign())],
  },
  tanh: {
    forward: ([x]) => unaryForward('tanh', x!),
    backward: (g, { out }) => [g.mul(out.mul(out).neg().add(1))],
  },
  sigmoid: {
    // Composed from kernels every backend has, in the form that cannot overflow: e = exp(−|x|) ≤ 1.
    // A primitive (not a composite) so that backward is σ(1 − σ): the composite's exp' would be 0·∞
    // far in the tails.
    forward: ([x]) => ({
      out: composite(() => {
        const e = x!.abs().neg().exp();
        const onePlus = e.add(1);
        return Tensor.where(x!.ge(0), reciprocal(onePlus), e.div(onePlus));
      }),
    }),
    backward: (g, { out }) => [g.mul(out.mul(out.neg().add(1)))],
  },
  pow: {
    // x^p for a number p, composed from kernels every backend has: repeated squaring for integers
    // (exact signs for negative x, as torch.pow), sqrt for ½, exp(p·log x) otherwise (NaN for x < 0, as
    // PyTorch). A primitive so that backward is p·x^(p−1), finite at x = 0 where exp∘log's is 0·∞.
    forward: ([x], { exponent }) => ({ out: composite(() => powForward(x!, exponent)) }),
    backward: (g, { inputs: [x], attrs: { exponent } }) => [
      exponent === 0 ? g.mul(0) : g.mul(x!.pow(exponent - 1).mul(exponent)),
    ],
  },
  maximum: {
    forward: ([a, b]) => binaryForward('maximum', a!, b!),
    backward: (g, { inputs: [a, b], needs: [needA, needB] }) => minMaxBackward(g, a!, b!, 'gt', needA, needB),
  },
  minimum: {
    forward: ([a, b]) => binaryForward('minimum', a!, b!),
    backward: (g, { inputs: [a, b], needs: [needA, needB] }) => minMaxBackward(g, a!, b!, 'lt', needA, needB),
  },
};

/** The backward rule of a recorded node (used by src/autograd/backward.ts). */
export function backwardOf(node: Node, g: Tensor, out: Tensor): (Tensor | null)[] {
  const rule = rules[node.prim] as Rule<Primitive>;
  const needs = node.inputs.map((t) => t.requiresGrad);
  return rule.backward(g, { inputs: node.inputs, needs, out, saved: node.saved, attrs: node.attrs });
}

/** Names of every primitive, in table order (drives the op-table tests). */
export const primitiveNames = Object.keys(rules) as Primitive[];
