/** Convolution and pooling layers over NCHW images (torch.nn.Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d). */
import { ArgumentError, formatValue } from '../errors.js';
import {
  adaptiveAvgPool2d,
  avgPool2d,
  conv2d,
  maxPool2d,
  type Size2,
  type WindowOptions,
} from '../ops/conv.js';
import { defaultGenerator } from '../random/generator.js';
import type { Tensor } from '../tensor/tensor.js';
import { uniformInit, type LayerRandomOptions } from './layers.js';
import { Module } from './module.js';

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
  }

  /** adaptiveAvgPool2d to this layer's output size. */
  override forward(X: Tensor): Tensor {
    return adaptiveAvgPool2d(X, this.outputSize);
  }
}
