/**
 * Batch and layer normalisation (Ioffe & Szegedy 2015, https://arxiv.org/abs/1502.03167; Ba, Kiros &
 * Hinton 2016, https://arxiv.org/abs/1607.06450). BatchNorm is composed from primitives (no
 * hand-written backward: the gradient through the batch mean and variance comes from the autograd
 * table); LayerNorm runs as one fused primitive, checked against the same composition.
 */
import { apply } from '../autograd/apply.js';
import { ArgumentError } from '../errors.js';
import { sameShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * 1/√(v + eps), written as exp(−½·log(v + eps)) because the primitive set has no sqrt or pow (and
 * adding one would mean a kernel on every backend). v + eps > 0 keeps log finite; the derivative
 * −½·(v + eps)^(−3/2) follows from the exp and log rules.
 */
export function rsqrtEps(v: Tensor, eps: number): Tensor {
  return v.add(eps).log().mul(-0.5).exp();
}

/** Throws unless eps is a positive finite number (it keeps the variance away from 0). */
export function checkEps(eps: number, where: string): void {
  if (!(typeof eps === 'number' && Number.isFinite(eps) && eps > 0)) {
    throw new ArgumentError(`${where}: eps must be a positive number, got ${String(eps)}; e.g. 1e-5.`);
  }
}

/**
 * (x − mean) / √(var + eps) over `axes`, with the biased variance (divide by the count), as both
 * BatchNorm in training and LayerNorm normalise. Returns the mean and biased variance as well
 * (keepDims shapes) for the running statistics.
 */
export function normalize(
  x: Tensor,
  axes: readonly number[],
  eps: number,
): { y: Tensor; mean: Tensor; variance: Tensor } {
  const mean = x.mean(axes, true);
  const centred = x.sub(mean);
  const variance = centred.mul(centred).mean(axes, true);
  return { y: centred.mul(rsqrtEps(variance, eps)), mean, variance };
}

/**
 * F.layer_norm: normalise over the trailing axes of shape `normalizedShape`, then y·weight + bias
 * (weight and bias of shape `normalizedShape`, optional). The trailing axes of a packed tensor are
 * one contiguous run per row, so this is one fused kernel forward and one backward (the `layerNorm`
 * primitive); a weight or bias that only broadcasts to `normalizedShape` takes the composition.
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  opts: { weight?: Tensor | null; bias?: Tensor | null; eps?: number } = {},
): Tensor {
  const eps = opts.eps ?? 1e-5;
  checkEps(eps, 'layerNorm');
  const k = normalizedShape.length;
  const trailing = x.shape.slice(x.ndim - k);
  if (k === 0 || x.ndim < k || trailing.some((d, i) => d !== normalizedShape[i])) {
    throw new ArgumentError(
      `layerNorm: input shape [${x.shape.join(', ')}] does not end in normalizedShape [${normalizedShape.join(', ')}]; ` +
        'pass the sizes of the trailing axes to normalise.',
    );
  }
  const { weight, bias } = opts;
  const exact = (p: Tensor | null | undefined): boolean => !p || sameShape(p.shape, normalizedShape);
  if (x.size === 0 || !exact(weight) || !exact(bias)) return layerNormComposed(x, normalizedShape, opts);
  const inputs = [x];
  if (weight) inputs.push(weight);
  if (bias) inputs.push(bias);
  return apply('layerNorm', inputs, { axes: k, eps, weight: !!weight, bias: !!bias });
}

/**
 * layerNorm composed from primitives (mean, variance, broadcast arithmetic): the fused kernel's
 * reference in the tests, and the path for a weight or bias that broadcasts.
 */
export function layerNormComposed(
  x: Tensor,
  normalizedShape: readonly number[],
  opts: { weight?: Tensor | null; bias?: Tensor | null; eps?: number } = {},
): Tensor {
  const eps = opts.eps ?? 1e-5;
  checkEps(eps, 'layerNorm');
  const k = normalizedShape.length;
  const axes = Array.from({ length: k }, (_, i) => x.ndim - k + i);
  let y = normalize(x, axes, eps).y;
  if (opts.weight) y = y.mul(opts.weight);
  if (opts.bias) y = y.add(opts.bias);
  return y;
}
