/**
 * DropBlock (Ghiasi et al. 2018): the dropped units form whole blockSize × blockSize blocks, the
 * dropped fraction is about p, survivors are scaled by numel / Σ keep, the gradient is the same mask,
 * masks are reproducible per seed and fresh per call, and the edge cases (eval, p = 0, p = 1, bad sizes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, Generator, nn, ones, tensor } from '../../../src/index.js';
import { dropBlockGamma } from '../../../src/ops/dropBlock.js';

const SHAPE = [4, 8, 20, 20] as const;

/** Every zero of a [N, C, H, W] map lies in some fully-zero bs×bs window (the mask is a union of blocks). */
function isUnionOfBlocks(y: Float32Array, bs: number): boolean {
  const [n, c, h, w] = SHAPE;
  const zero = (m: number, i: number, j: number): boolean => y[(m * h + i) * w + j] === 0;
  for (let m = 0; m < n * c; m++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        if (!zero(m, i, j)) continue;
        let covered = false;
        for (let a = Math.max(0, i - bs + 1); a <= Math.min(i, h - bs) && !covered; a++)
          for (let b = Math.max(0, j - bs + 1); b <= Math.min(j, w - bs) && !covered; b++) {
            let all = true;
            for (let di = 0; di < bs && all; di++)
              for (let dj = 0; dj < bs && all; dj++) all = zero(m, a + di, b + dj);
            covered = all;
          }
        if (!covered) return false;
      }
  return true;
}

test('dropped units form whole blocks, about a fraction p, survivors scaled by numel / Σ keep', () => {
  for (const [p, bs] of [
    [0.1, 3],
    [0.3, 5],
  ] as const) {
    const y = F.dropBlock(ones([...SHAPE]), p, {
      training: true,
      blockSize: bs,
      generator: new Generator(3),
    }).dataSync();
    const kept = y.filter((v) => v !== 0);
    const dropped = 1 - kept.length / y.length;
    assert.ok(Math.abs(dropped - p) < 0.35 * p, `p=${p}, block ${bs}: dropped fraction ${dropped}`);
    const scale = y.length / kept.length;
    for (const v of kept) assert.ok(Math.abs(v - scale) < 1e-5 * scale, `survivor ${v}, expected ${scale}`);
    assert.ok(isUnionOfBlocks(y, bs), `p=${p}: zeros are not a union of ${bs}×${bs} blocks`);
  }
  assert.ok(Math.abs(dropBlockGamma(0.1, 3, 20, 20) - (0.1 / 9) * (400 / 324)) < 1e-15);
});

test('the gradient is the same mask; masks repeat per seed and are fresh per call', () => {
  const x = ones([...SHAPE], { requiresGrad: true });
  const y = F.dropBlock(x, 0.2, { training: true, blockSize: 3, generator: new Generator(9) });
  y.sum().backward();
  assert.deepEqual(x.grad!.dataSync(), y.dataSync());
  const g = new Generator(9);
  const again = F.dropBlock(ones([...SHAPE]), 0.2, { training: true, blockSize: 3, generator: g }).dataSync();
  assert.deepEqual(again, y.dataSync());
  const next = F.dropBlock(ones([...SHAPE]), 0.2, { training: true, blockSize: 3, generator: g }).dataSync();
  assert.notDeepEqual(next, again);
});

test('edge cases: eval and p = 0 return the input, p = 1 zeros, bad sizes one clear line', () => {
  const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [1, 1, 3, 3] });
  const layer = new nn.DropBlock2d(0.5, 3);
  assert.ok(nn.isDropoutModule(layer), 'Monte-Carlo dropout switches DropBlock on');
  assert.equal(layer.eval().forward(x), x);
  assert.equal(F.dropBlock(x, 0, { training: true, blockSize: 3 }), x);
  assert.deepEqual([...F.dropBlock(x, 1, { training: true, blockSize: 3 }).dataSync()], new Array(9).fill(0));
  assert.throws(() => new nn.DropBlock2d(0.1, 4), /blockSize must be an odd positive integer/);
  assert.throws(() => new nn.DropBlock2d(1.5, 3), /p/);
  assert.throws(() => layer.train().forward(ones([1, 1, 2, 2])), /larger than the 2×2 feature map/);
  assert.throws(() => layer.forward(ones([4, 9])), /expects \[batch, channels, height, width\]/);
});
