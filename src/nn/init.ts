/**
 * nn.init: the initialisations of torch.nn.init, drawn from a seeded generator and written into
 * the tensor's own storage (PyTorch's trailing-underscore in-place functions; the tensor keeps its
 * identity, so a model's parameters can be re-initialised after construction).
 * Kaiming: He et al. 2015 (arXiv:1502.01852); Xavier: Glorot & Bengio 2010.
 */
import { ArgumentError, formatValue } from '../errors.js';
import { defaultGenerator, type Generator } from '../random/generator.js';
import { rand, randn } from '../tensor/creation.js';
import { noGrad, tidy } from '../tensor/engine.js';
import { checkOptions } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';

/** The non-linearities whose gains `calculateGain` knows (torch.nn.init.calculate_gain). */
export type Nonlinearity = 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu' | 'conv2d';

/** Options of the Kaiming initialisations. */
export interface KaimingOptions {
  /** Negative slope of a leaky ReLU (default 0). */
  a?: number | undefined;
  /** Preserve the variance of the forward ('fanIn', default) or the backward pass ('fanOut'). */
  mode?: 'fanIn' | 'fanOut' | undefined;
  /** The non-linearity after the layer (default 'leaky_relu', PyTorch's). */
  nonlinearity?: Nonlinearity | undefined;
  /** Generator to draw from; defaults to the global one. */
  generator?: Generator | undefined;
}

/** Options of the Xavier initialisations. */
export interface XavierOptions {
  /** Scale factor (default 1). */
  gain?: number | undefined;
  /** Generator to draw from; defaults to the global one. */
  generator?: Generator | undefined;
}

/** The recommended gain of a non-linearity (torch.nn.init.calculate_gain). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
    case 'conv2d':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu':
      return Math.sqrt(2 / (1 + (param ?? 0.01) ** 2));
    case 'selu':
      return 3 / 4;
    default:
      throw new ArgumentError(`calculateGain: unknown non-linearity ${formatValue(nonlinearity)}.`);
  }
}

/** Fan-in and fan-out of a weight [out, in, …kernel] (torch.nn.init._calculate_fan_in_and_fan_out). */
export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) {
    throw new ArgumentError(`nn.init: fan in and fan out need a tensor of 2 or more dims, got ${t.ndim}.`);
  }
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1]! * receptive, fanOut: t.shape[0]! * receptive };
}

/** Writes `values` (same shape) into t's storage; returns t. */
function fill(t: Tensor, make: () => Tensor): Tensor {
  noGrad(() =>
    tidy(() => {
      const v = make();
      t.backend.unary('copy', v.id, v.strides(), t.id, t.shape);
    }),
  );
  return t;
}

/** U(−bound, bound) into t, in place. */
export function uniform(
  t: Tensor,
  low = 0,
  high = 1,
  opts: { generator?: Generator | undefined } = {},
): Tensor {
  checkOptions('nn.init.uniform', opts, ['generator']);
  return fill(t, () =>
    rand(t.shape, { backend: t.backend, generator: opts.generator ?? defaultGenerator })
      .mul(high - low)
      .add(low),
  );
}

/** N(mean, std²) into t, in place. */
export function normal(
  t: Tensor,
  mean = 0,
  std = 1,
  opts: { generator?: Generator | undefined } = {},
): Tensor {
  checkOptions('nn.init.normal', opts, ['generator']);
  return fill(t, () =>
    randn(t.shape, { backend: t.backend, generator: opts.generator ?? defaultGenerator })
      .mul(std)
      .add(mean),
  );
}

function kaimingStd(t: Tensor, opts: KaimingOptions, where: string): number {
  checkOptions(where, opts, ['a', 'mode', 'nonlinearity', 'generator']);
  const { a = 0, mode = 'fanIn', nonlinearity = 'leaky_relu' } = opts;
  if (mode !== 'fanIn' && mode !== 'fanOut') {
    throw new ArgumentError(`${where}: mode must be 'fanIn' or 'fanOut', got ${formatValue(mode)}.`);
  }
  const f = fans(t);
  return calculateGain(nonlinearity, a) / Math.sqrt(mode === 'fanIn' ? f.fanIn : f.fanOut);
}

/** Kaiming (He) uniform: U(−b, b), b = gain·√(3 / fan) (torch.nn.init.kaiming_uniform_). */
export function kaimingUniform(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, opts, 'kaimingUniform');
  return uniform(t, -bound, bound, { generator: opts.generator });
}

/** Kaiming (He) normal: N(0, gain² / fan) (torch.nn.init.kaiming_normal_). */
export function kaimingNormal(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal(t, 0, kaimingStd(t, opts, 'kaimingNormal'), { generator: opts.generator });
}

function xavierStd(t: Tensor, opts: XavierOptions, where: string): number {
  checkOptions(where, opts, ['gain', 'generator']);
  const { fanIn, fanOut } = fans(t);
  return (opts.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
}

/** Xavier (Glorot) uniform: U(−b, b), b = gain·√(6 / (fanIn + fanOut)) (torch.nn.init.xavier_uniform_). */
export function xavierUniform(t: Tensor, opts: XavierOptions = {}): Tensor {
  const bound = Math.sqrt(3) * xavierStd(t, opts, 'xavierUniform');
  return uniform(t, -bound, bound, { generator: opts.generator });
}

/** Xavier (Glorot) normal: N(0, gain²·2 / (fanIn + fanOut)) (torch.nn.init.xavier_normal_). */
export function xavierNormal(t: Tensor, opts: XavierOptions = {}): Tensor {
  return normal(t, 0, xavierStd(t, opts, 'xavierNormal'), { generator: opts.generator });
}

/** A constant into t, in place (torch.nn.init.constant_; zeros_ and ones_ are 0 and 1). */
export function constant(t: Tensor, value: number): Tensor {
  t.backend.fill(t.id, t.size, value);
  return t;
}
