/**
 * The primitives' names and attributes: the vocabulary the autograd tape records (a tape entry is
 * tensor.ts's Node). A leaf of types only, so that tensor.ts can name them without importing the
 * primitive table (autograd/primitives.ts), which imports tensor.ts.
 */
import type { Im2colGeometry, RandomStream } from '../backend/backend.js';

/** Attributes of each primitive (the non-tensor arguments). */
export interface PrimitiveAttrs {
  add: Record<string, never>;
  sub: Record<string, never>;
  mul: Record<string, never>;
  div: Record<string, never>;
  neg: Record<string, never>;
  exp: Record<string, never>;
  log: Record<string, never>;
  where: Record<string, never>;
  compare: { op: 'gt' | 'ge' | 'lt' | 'eq' };
  sum: { axes: number[]; keepDims: boolean };
  max: { axes: number[]; keepDims: boolean };
  matmul: { transA: boolean; transB: boolean };
  bmm: { transA: boolean; transB: boolean };
  reshape: { shape: number[] };
  permute: { perm: number[] };
  expand: { shape: number[] };
  // Views (strided, no copy: src/tensor/views.ts) and indexing; permute, expand and reshape above are views too.
  shrink: { ranges: [number, number][] };
  pad: { pads: [number, number][] };
  stride: { steps: number[] };
  contiguous: Record<string, never>;
  cat: { dim: number };
  gather: { dim: number };
  linear: { relu: boolean };
  im2col: { geom: Im2colGeometry; padValue: number };
  col2im: { geom: Im2colGeometry };
  maxPool2d: { geom: Im2colGeometry };
  conv2d: { geom: Im2colGeometry; relu: boolean };
  conv2dUnfolded: { geom: Im2colGeometry; relu: boolean };
  dropout: { p: number; stream: RandomStream };
  softmax: Record<string, never>;
  softmaxCrossEntropy: Record<string, never>;
  gelu: Record<string, never>;
  /** Fused LayerNorm over the `axes` trailing axes; inputs [x, weight?, bias?] as the flags say. */
  layerNorm: { axes: number; eps: number; weight: boolean; bias: boolean };
  /** Fused scaled-dot-product attention; inputs [q, k, v] as [N, L, H, D] (Backend.attention). */
  attention: { scale: number };
  /** The same attention with q, k and v read from one packed input qkv [N, L, 3, H, D] (self-attention). */
  attentionPacked: { scale: number };
  // ---- the everyday math (src/tensor/math.ts) ----
  sqrt: Record<string, never>;
  abs: Record<string, never>;
  tanh: Record<string, never>;
  sigmoid: Record<string, never>;
  pow: { exponent: number };
  maximum: Record<string, never>;
  minimum: Record<string, never>;
}

/** Name of a primitive operation. */
export type Primitive = keyof PrimitiveAttrs;
