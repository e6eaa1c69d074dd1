/**
 * DropBlock (Ghiasi, Lin & Le 2018, https://arxiv.org/abs/1810.12890, Algorithm 1): dropout for
 * feature maps that drops contiguous blockSize × blockSize regions, since neighbouring activations of a
 * convolution are correlated and single dropped units are easily inferred from their neighbours.
 * Composed from primitives: block centres are drawn Bernoulli(γ) over the positions where a whole
 * block fits, each centre is grown into its block by a stride-1 max pool of the seed mask, and the
 * survivors are rescaled by numel / Σ keep (the paper's normalisation, per batch as in timm's
 * drop_block_2d), so E[y] ≈ x. γ = p / blockSize² · HW / ((H − blockSize + 1)(W − blockSize + 1))
 * makes the expected dropped fraction p (the paper's keep_prob = 1 − p).
 */
import { ArgumentError, ShapeError, formatShape, formatValue } from '../errors.js';
import { defaultGenerator } from '../random/generator.js';
import { full, randFromStream, tensor } from '../tensor/creation.js';
import { composite, noGrad } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { maxPool2d } from './conv.js';
import { checkDropoutP, checkTraining, type DropoutOptions } from './dropout.js';
import { noteNoise } from './noiseTap.js';

/** Options of dropBlock: the block size besides dropout's p, training flag and generator. */
export interface DropBlockOptions extends DropoutOptions {
  /** Side of the square blocks dropped (odd, so a block is centred on its seed; the paper's default is 7). */
  blockSize: number;
}

/** Checks a block size where it enters: an odd positive integer. */
export function checkBlockSize(blockSize: number, where: string): void {
  if (!(Number.isInteger(blockSize) && blockSize > 0 && blockSize % 2 === 1)) {
    throw new ArgumentError(
      `${where}: blockSize must be an odd positive integer (a block centred on its seed), got ${formatValue(blockSize)}; e.g. 3.`,
    );
  }
}

/** The seed rate γ that makes the expected dropped fraction p on an H×W map (paper, eq. 1). */
export function dropBlockGamma(p: number, blockSize: number, height: number, width: number): number {
  return (
    ((p / (blockSize * blockSize)) * (height * width)) / ((height - blockSize + 1) * (width - blockSize + 1))
  );
}

/** DropBlock on x [N, C, H, W]; identity when not training or p = 0. See the file comment. */
export function dropBlock(x: Tensor, p: number, opts: DropBlockOptions): Tensor {
  checkDropoutP(p, 'dropBlock');
  checkTraining(opts, 'dropBlock');
  checkBlockSize(opts.blockSize, 'dropBlock');
  return applyDropBlock(x, p, opts);
}

/** `dropBlock` for p and blockSize already checked where they entered (nn.DropBlock2d). */
export function applyDropBlock(x: Tensor, p: number, opts: DropBlockOptions): Tensor {
  if (x.ndim !== 4) {
    throw new ShapeError(`dropBlock expects [batch, channels, height, width], got ${formatShape(x.shape)}.`);
  }
  if (!opts.training || p === 0) return x;
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const bs = opts.blockSize;
  if (bs > h || bs > w) {
    throw new ShapeError(
      `dropBlock: blockSize ${bs} is larger than the ${h}×${w} feature map; use a smaller block.`,
    );
  }
  if (p === 1) return x.mul(0);
  const half = (bs - 1) / 2;
  // Seeds only where the whole block lies inside the map (Algorithm 1, the shaded valid region).
  const valid = new Float32Array(h * w);
  for (let i = half; i < h - half; i++) for (let j = half; j < w - half; j++) valid[i * w + j] = 1;
  const gamma = dropBlockGamma(p, bs, h, w);
  return composite(() => {
    const keep = noGrad(() => {
      const stream = (opts.generator ?? defaultGenerator).next('uniform', n * c * h * w);
      noteNoise({ kind: 'dropblock', shape: x.shape, maskShape: x.shape, p, stream, blockSize: bs });
      const u = randFromStream([n, c, h, w], stream, { backend: x.backend });
      const seeds = u.lt(gamma).mul(tensor(valid, { shape: [1, 1, h, w], backend: x.backend }));
      const dropped = maxPool2d(seeds, bs, { stride: 1, padding: half });
      const mask = full([], 1, { backend: x.backend }).sub(dropped);
      // numel / Σ keep, with timm's 1e-7 so an all-dropped batch gives zeros rather than NaN.
      const scale = full([], n * c * h * w, { backend: x.backend }).div(mask.sum().add(1e-7));
      return mask.mul(scale);
    });
    return x.mul(keep);
  });
}
