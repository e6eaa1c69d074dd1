/** Convolution and pooling layers over NCHW images (torch.nn.Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d). */
import { ArgumentError, formatValue } from '../errors.js';
import {
  adaptiveAvgPool2d,
  avgPool2d,
  conv2d,
  maxPool2d,
  pair,
  type Size2,
  type WindowOptions,
} from '../ops/conv.js';
import { defaultGenerator } from '../random/generator.js';
import { checkOptions } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { uniformInit, type LayerRandomOptions } from './layers.js';
import { Module, pyRepr } from './module.js';

/**
 * Checks a layer's window options where they enter (the constructor): known keys only, stride ≥ 1,
 * padding ≥ 0; PyTorch options this library leaves out (dilation ≠ 1, groups ≠ 1, …) are refused, not ignored.
 */
function checkWindowOptions(layer: string, opts: unknown, extra: readonly string[]): void {
  const o = (opts ?? {}) as Record<string, unknown>;
  const one = (v: unknown): boolean =>
    v === 1 || (Array.isArray(v) && v.length === 2 && v[0] === 1 && v[1] === 1);
  const tolerated = ['dilation', 'groups'].filter((k) => k in o && one(o[k]));
  checkOptions(layer, opts, ['stride', 'padding', ...extra, ...tolerated], {
    dilation: 'only dilation 1 is implemented; remove it or use a larger kernel',
    groups: 'only groups 1 is implemented; use separate layers per group',
    paddingMode: 'only zero padding is implemented; pad the input yourself',
    ceilMode: 'only floor mode is implemented; add padding instead',
    countIncludePad: "padding always counts as zeros here (PyTorch's default)",
    returnIndices: 'not implemented; compute the argmax of the windows if you need it',
  });
  if (o['stride'] !== undefined) pair(o['stride'] as Size2, `${layer}: stride`, 1);
  if (o['padding'] !== undefined) pair(o['padding'] as Size2, `${layer}: padding`, 0);
}

/** Options of Conv2d: stride, padding, bias on/off and the initialisation generator. */
export interface Conv2dOptions extends WindowOptions, LayerRandomOptions {
  /** Add a bias (default true). */
  bias?: boolean | undefined;
}

/**
 * 2-D convolution with weight [out, in, kH, kW] and bias [out], initialised like torch.nn.Conv2d:
 * kaiming_uniform(a = √5) is U(−b, b) with b = 1/√fanIn, fanIn = in·kH·kW, and the bias the same.
 */
export class Conv2d extends Module {
  /** Weight [outChannels, inChannels, kernelH, kernelW]. */
  weight: Tensor;
  /** Bias [outChannels], or null without bias. */
  bias: Tensor | null = null;
  /** Sequential runs a Conv2d followed by a ReLU as one call with `{ relu: true }` (one GEMM epilogue). */
  readonly fusesRelu = true;

  /** A convolution from `inChannels` to `outChannels` maps with a `kernelSize` window. */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: Size2,
    readonly opts: Conv2dOptions = {},
  ) {
    super();
    // Every argument is checked here, once, so a bad one fails at construction, not at the first forward.
    checkWindowOptions('Conv2d', opts, ['bias', 'generator']);
    for (const [name, v] of [
      ['inChannels', inChannels],
      ['outChannels', outChannels],
    ] as const) {
      if (!(Number.isInteger(v) && v > 0)) {
        throw new ArgumentError(`Conv2d: ${name} must be a positive integer, got ${formatValue(v)}.`);
      }
    }
    const [kh, kw] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    if (!(Number.isInteger(kh) && kh > 0 && Number.isInteger(kw) && kw > 0)) {
      throw new ArgumentError(
        `Conv2d: kernelSize must be a positive integer or pair, got ${formatValue(kernelSize)}.`,
      );
    }
    const generator = opts.generator ?? defaultGenerator;
    const fanIn = inChannels * kh * kw;
    this.weight = this.registerParameter(
      'weight',
      uniformInit([outChannels, inChannels, kh, kw], fanIn, generator),
    )!;
    if (opts.bias !== false)
      this.bias = this.registerParameter('bias', uniformInit([outChannels], fanIn, generator));
  }

  /** `1, 6, kernel_size=(5, 5), stride=(1, 1)`, as PyTorch prints a Conv2d. */
  override extraRepr(): string {
    const k = pair(this.kernelSize, 'kernelSize', 1);
    const s = pair(this.opts.stride ?? 1, 'stride', 1);
    const p = pair(this.opts.padding ?? 0, 'padding', 0);
    return (
      `${this.inChannels}, ${this.outChannels}, kernel_size=(${k.join(', ')}), stride=(${s.join(', ')})` +
      (p[0] !== 0 || p[1] !== 0 ? `, padding=(${p.join(', ')})` : '') +
      (this.bias === null ? ', bias=False' : '')
    );
  }

  /** conv2d(x, weight, bias) with this layer's stride and padding; `relu` fuses the ReLU after it. */
  override forward(X: Tensor, opts: { relu?: boolean } = {}): Tensor {
    return conv2d(X, this.weight, this.bias, {
      stride: this.opts.stride,
      padding: this.opts.padding,
      relu: opts.relu ?? false,
    });
  }
}

/** Max over each window (torch.nn.MaxPool2d); the stride defaults to the kernel size. */
export class MaxPool2d extends Module {
  /** Pools with a `kernelSize` window. */
  constructor(
    readonly kernelSize: Size2,
    readonly opts: WindowOptions = {},
  ) {
    super();
    checkWindowOptions('MaxPool2d', opts, []);
    pair(kernelSize, 'MaxPool2d: kernelSize', 1);
  }

  /** The window, as PyTorch prints this layer. */
  override extraRepr(): string {
    return `kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.opts.stride ?? this.kernelSize)}, padding=${pyRepr(this.opts.padding ?? 0)}, dilation=1, ceil_mode=False`;
  }

  /** maxPool2d with this layer's window. */
  override forward(X: Tensor): Tensor {
    return maxPool2d(X, this.kernelSize, this.opts);
  }
}

/** Mean over each window, padding counted as zeros (torch.nn.AvgPool2d); the stride defaults to the kernel size. */
export class AvgPool2d extends Module {
  /** Pools with a `kernelSize` window. */
  constructor(
    readonly kernelSize: Size2,
    readonly opts: WindowOptions = {},
  ) {
    super();
    checkWindowOptions('AvgPool2d', opts, []);
    pair(kernelSize, 'AvgPool2d: kernelSize', 1);
  }

  /** The window, as PyTorch prints this layer. */
  override extraRepr(): string {
    return `kernel_size=${pyRepr(this.kernelSize)}, stride=${pyRepr(this.opts.stride ?? this.kernelSize)}, padding=${pyRepr(this.opts.padding ?? 0)}`;
  }

  /** avgPool2d with this layer's window. */
  override forward(X: Tensor): Tensor {
    return avgPool2d(X, this.kernelSize, this.opts);
  }
}

/** Average pooling to a fixed output size that divides the input (torch.nn.AdaptiveAvgPool2d; 1 = global). */
export class AdaptiveAvgPool2d extends Module {
  /** Pools every map down to `outputSize`. */
  constructor(readonly outputSize: Size2) {
    super();
    pair(outputSize, 'AdaptiveAvgPool2d: outputSize', 1);
  }

  /** `output_size=1`, as PyTorch prints it. */
  override extraRepr(): string {
    return `output_size=${pyRepr(this.outputSize)}`;
  }

  /** adaptiveAvgPool2d to this layer's output size. */
  override forward(X: Tensor): Tensor {
    return adaptiveAvgPool2d(X, this.outputSize);
  }
}
