/**
 * Convolution and pooling over NCHW images, built on the `im2col` primitive (its adjoint `col2im` is
 * its backward) and the GEMM: conv2d is im2col → linear (x·Wᵀ + b, the GEMM with the bias fused) →
 * a permute back to channels-first, run as one primitive (`conv2dUnfolded`, so the wasm backend can
 * do it a block of images at a time, in cache; `conv2dComposed` is that composition), except for small
 * patches (C·KH·KW ≤ DIRECT_MAX_PATCH), which take the direct `conv2d` primitive; average pooling
 * is im2col → a mean over each patch. Max pooling is its own primitive (`maxPool2d`, a direct NCHW kernel that keeps
 * each window's argmax for backward), as it was ~15 ms of a LeNet training step through im2col.
 * Semantics follow torch.nn.functional (no dilation, floor mode).
 */
import { apply } from '../autograd/apply.js';
import type { Im2colGeometry } from '../backend/backend.js';
import { ArgumentError, ShapeError, formatShape, formatValue } from '../errors.js';
import { composite } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { linear } from './linear.js';

/** A size given once for both spatial axes or as [height, width] (PyTorch's `_pair`). */
export type Size2 = number | readonly [number, number];

/** Stride and zero padding of a convolution or pooling window. */
export interface WindowOptions {
  /** Step between windows (default 1 for conv2d, the kernel size for pooling). */
  stride?: Size2 | undefined;
  /** Zeros (−∞ for max pooling) added on each side (default 0). */
  padding?: Size2 | undefined;
}

/** A Size2 as a pair of integers ≥ `min`, or one ArgumentError line naming `what` (exported for the layers' constructors). */
export function pair(v: Size2, what: string, min: number): [number, number] {
  const ok = typeof v === 'number' || (Array.isArray(v) && v.length === 2);
  const p: [number, number] = typeof v === 'number' ? [v, v] : ok ? [v[0], v[1]] : [NaN, NaN];
  if (!p.every((d) => Number.isInteger(d) && d >= min)) {
    throw new ArgumentError(
      `${what} must be an integer ≥ ${min} (or a pair of them), got ${formatValue(v)}.`,
    );
  }
  return p;
}

/** The im2col geometry of a window over x (validated: 4-D input, a window that fits). */
export function windowGeometry(
  x: Tensor,
  kernelSize: Size2,
  opts: WindowOptions,
  defaultStride: Size2,
  what: string,
): Im2colGeometry {
  if (x.ndim !== 4) {
    throw new ShapeError(
      `${what} expects a 4-D input [batch, channels, height, width], got ${formatShape(x.shape)}.`,
    );
  }
  const [kernelH, kernelW] = pair(kernelSize, `${what} kernelSize`, 1);
  const [strideH, strideW] = pair(opts.stride ?? defaultStride, `${what} stride`, 1);
  const [padH, padW] = pair(opts.padding ?? 0, `${what} padding`, 0);
  const [batch, channels, height, width] = x.shape as [number, number, number, number];
  const outH = Math.floor((height + 2 * padH - kernelH) / strideH) + 1;
  const outW = Math.floor((width + 2 * padW - kernelW) / strideW) + 1;
  if (outH < 1 || outW < 1) {
    throw new ShapeError(
      `${what}: a ${kernelH}×${kernelW} window with padding ${padH}×${padW} does not fit input ${formatShape(x.shape)}; use a smaller kernel or more padding.`,
    );
  }
  return { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW };
}

/**
 * Patches of at most this many taps (C·KH·KW) take the direct `conv2d` primitive: there im2col writes
 * KH·KW copies of the input and the GEMM's n = out channels is too narrow for its panels (LeNet's first
 * layer, 1·5·5, spent ~26 ms of an ~88 ms step in im2col, GEMM, permute and dW on one thread).
 */
export const DIRECT_MAX_PATCH = 32;

/** Unfolds x [N, C, H, W] into patches [N·OH·OW, C·KH·KW] (torch.nn.functional.unfold, transposed). */
export function im2col(x: Tensor, geom: Im2colGeometry, padValue = 0): Tensor {
  return apply('im2col', [x], { geom, padValue });
}

/** Rows [N·OH·OW, F] (one per output position) back to channels-first [N, F, OH, OW]. */
function rowsToImage(y: Tensor, g: Im2colGeometry): Tensor {
  const features = y.shape[1]!;
  return y
    .reshape([g.batch, g.outH * g.outW, features])
    .permute([0, 2, 1])
    .reshape([g.batch, features, g.outH, g.outW]);
}

/**
 * 2-D convolution (cross-correlation, as torch.nn.functional.conv2d): x [N, C, H, W], weight
 * [OC, C, KH, KW], bias [OC] → [N, OC, OH, OW] with OH = ⌊(H + 2·pad − KH)/stride⌋ + 1; with
 * `relu` the ReLU after it runs in the same kernel (the GEMM's epilogue, or the direct kernel's).
 */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: WindowOptions & { relu?: boolean | undefined } = {},
): Tensor {
  if (weight.ndim !== 4) {
    throw new ShapeError(`conv2d: weight must be [out, in, kH, kW], got ${formatShape(weight.shape)}.`);
  }
  const [, inChannels, kernelH, kernelW] = weight.shape as [number, number, number, number];
  const g = windowGeometry(x, [kernelH, kernelW], opts, 1, 'conv2d');
  if (g.channels !== inChannels) {
    throw new ShapeError(
      `conv2d: input ${formatShape(x.shape)} has ${g.channels} channels but the weight expects ${inChannels}.`,
    );
  }
  const inputs = bias === undefined || bias === null ? [x, weight] : [x, weight, bias];
  const relu = opts.relu ?? false;
  if (inChannels * kernelH * kernelW <= DIRECT_MAX_PATCH) return apply('conv2d', inputs, { geom: g, relu });
  return apply('conv2dUnfolded', inputs, { geom: g, relu });
}

/**
 * conv2d's im2col route as a composition of primitives (im2col → linear with the bias and ReLU
 * fused → permute to NCHW), whatever the patch size: what `conv2dUnfolded` computes, kept to test it.
 */
export function conv2dComposed(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: WindowOptions & { relu?: boolean | undefined } = {},
): Tensor {
  const [outChannels, inChannels, kernelH, kernelW] = weight.shape as [number, number, number, number];
  const g = windowGeometry(x, [kernelH, kernelW], opts, 1, 'conv2d');
  return composite(() => {
    const cols = im2col(x, g);
    // ReLU commutes with the permute back to channels-first, so it fuses into the GEMM's epilogue.
    const y = linear(cols, weight.reshape([outChannels, inChannels * kernelH * kernelW]), bias, {
      relu: opts.relu ?? false,
    });
    return rowsToImage(y, g);
  });
}

/** Averages each window of x: im2col, then the mean over the patch axis, channels-first again. */
function meanPool(x: Tensor, g: Im2colGeometry): Tensor {
  return composite(() => {
    const cols = im2col(x, g, 0);
    const y = cols.reshape([cols.shape[0]!, g.channels, g.kernelH * g.kernelW]).mean(2);
    return rowsToImage(y, g);
  });
}

/**
 * Max pooling (torch.nn.functional.max_pool2d; padding counts as −∞). The stride defaults to the
 * kernel size. The gradient of a window goes wholly to its first maximum in (kh, kw) order, as in
 * PyTorch (overlapping windows add theirs), and a NaN in a window is its maximum.
 */
export function maxPool2d(x: Tensor, kernelSize: Size2, opts: WindowOptions = {}): Tensor {
  const g = windowGeometry(x, kernelSize, opts, kernelSize, 'maxPool2d');
  if (2 * g.padH > g.kernelH || 2 * g.padW > g.kernelW) {
    throw new ArgumentError(`maxPool2d: padding must be at most half the kernel size (as in PyTorch).`);
  }
  return apply('maxPool2d', [x], { geom: g });
}

/**
 * Average pooling (torch.nn.functional.avg_pool2d with count_include_pad = true: padding counts as
 * zeros in the mean). The stride defaults to the kernel size.
 */
export function avgPool2d(x: Tensor, kernelSize: Size2, opts: WindowOptions = {}): Tensor {
  return meanPool(x, windowGeometry(x, kernelSize, opts, kernelSize, 'avgPool2d'));
}

/**
 * Adaptive average pooling to `outputSize` (torch.nn.functional.adaptive_avg_pool2d) where each
 * input side is a multiple of its output side, so every window has the same size (1 = global
 * average pooling). Uneven windows are refused rather than approximated.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Size2): Tensor {
  const [oh, ow] = pair(outputSize, 'adaptiveAvgPool2d outputSize', 1);
  if (x.ndim !== 4) {
    throw new ShapeError(
      `adaptiveAvgPool2d expects [batch, channels, height, width], got ${formatShape(x.shape)}.`,
    );
  }
  const [h, w] = [x.shape[2]!, x.shape[3]!];
  if (h % oh !== 0 || w % ow !== 0) {
    throw new ArgumentError(
      `adaptiveAvgPool2d: input ${h}×${w} is not a multiple of output ${oh}×${ow}; choose an output size that divides the input.`,
    );
  }
  return avgPool2d(x, [h / oh, w / ow]);
}
