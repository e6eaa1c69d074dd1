/**
 * DropPath, or stochastic depth (Huang et al. 2016, https://arxiv.org/abs/1603.09382), with timm's
 * semantics (`timm.layers.drop_path`): on a residual branch x of shape [N, …], each example's whole
 * branch is dropped with probability p (one Bernoulli(1 − p) draw per example along the leading axis)
 * and survivors are scaled by 1/(1 − p) when `scaleByKeep`, so E[y] = x. The block then adds the
 * (possibly zeroed) branch to its residual stream: a dropped example skips the block entirely.
 * Composed from primitives; the per-example draws come from the seeded counter-based stream and use
 * dropout's keep rule (random/dropoutKeep.ts), so the same generator state gives the same examples.
 */
import { ShapeError } from '../errors.js';
import { dropoutKeep } from '../random/dropoutKeep.js';
import { defaultGenerator } from '../random/generator.js';
import { full, randFromStream } from '../tensor/creation.js';
import { Tensor } from '../tensor/tensor.js';
import { noteNoise } from './noiseTap.js';
import { checkDropoutP, checkTraining, type DropoutOptions } from './dropout.js';

/** Options of dropPath: dropout's training flag and generator, and timm's `scale_by_keep`. */
export interface DropPathOptions extends DropoutOptions {
  /** Scale survivors by 1/(1 − p) (default true, as timm); false leaves them unscaled. */
  scaleByKeep?: boolean | undefined;
}

/** F.dropPath: drops whole examples of a residual branch with probability p; see the file comment. */
export function dropPath(x: Tensor, p: number, opts: DropPathOptions): Tensor {
  checkDropoutP(p, 'dropPath');
  checkTraining(opts, 'dropPath');
  return applyDropPath(x, p, opts);
}

/** `dropPath` for a p already checked where it entered (nn.DropPath). */
export function applyDropPath(x: Tensor, p: number, opts: DropPathOptions): Tensor {
  if (x.ndim === 0) {
    throw new ShapeError('dropPath needs a leading batch axis (one draw per example); got a scalar.');
  }
  if (!opts.training || p === 0) return x;
  if (p === 1) return x.mul(0);
  const { uniform, scale } = dropoutKeep(p);
  // One draw per example, broadcast over the example's other axes (timm's shape (N, 1, …, 1)).
  const shape = x.shape.map((d, i) => (i === 0 ? d : 1));
  const stream = (opts.generator ?? defaultGenerator).next('uniform', x.shape[0]!);
  noteNoise({ kind: 'droppath', shape: x.shape, maskShape: shape, p, stream });
  const keep = randFromStream(shape, stream, { backend: x.backend }).ge(uniform);
  const survivor = full([], opts.scaleByKeep === false ? 1 : scale, { backend: x.backend });
  return x.mul(Tensor.where(keep, survivor, full([], 0, { backend: x.backend })));
}
