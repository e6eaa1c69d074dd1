/**
 * The ViT models of the registry (vit, vit-dropout): their parameters and dropout layers, the class
 * token and mean pooling, their refusals, and a run that is checkpointed after one epoch and resumed
 * is bit-identical to the uninterrupted run (registry path, synthetic images, SGD with momentum so the
 * velocity buffers must round-trip too).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, nn, rand } from '../../../src/index.js';
import { activationStats } from '../../../src/nn/activationStats.js';
import { VisionTransformer } from '../../../src/models/vit.js';
import type { RunConfig } from '../../../src/run/config.js';
import { buildModel, MODEL_NAMES } from '../../../src/run/models.js';
import { canonicalConfig, DEFAULT_CONFIG } from '../../../src/run/options.js';
import { runData, runOne } from '../../../src/run/runOne.js';
import { resolveRuns } from '../../../src/run/resolve.js';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  type TrainingCheckpoint,
} from '../../../src/train/checkpoint.js';
import type { EpochMetrics } from '../../../src/train/trainer.js';
import { synthetic } from '../../helpers/syntheticFashion.js';

const raw = synthetic(64, 32, 2);

const run = (model: 'vit' | 'vit-dropout', epochs: number): RunConfig => ({
  ...DEFAULT_CONFIG,
  model,
  epochs,
  batchSize: 16,
  dropout1: 0.1,
  dropout2: 0.2,
  lr: 0.01,
  momentum: 0.9,
  seed: 5,
});

const withoutTiming = (epochs: readonly EpochMetrics[]): unknown[] =>
  epochs.map(({ epochSeconds: _a, samplesPerSecond: _b, ...rest }) => rest);

test('vit is registered (menus and flags derive from the registry) and has no dropout; vit-dropout maps p₁ and p₂', () => {
  assert.ok(MODEL_NAMES.includes('vit') && MODEL_NAMES.includes('vit-dropout'));
  const plain = buildModel(run('vit', 1)) as VisionTransformer;
  const dropped = buildModel(run('vit-dropout', 1)) as VisionTransformer;
  const kinds = (m: VisionTransformer): string[] =>
    m
      .modules()
      .filter((x) => x instanceof nn.Dropout || x instanceof nn.DropPath)
      .map((x) => `${x.constructor.name}(${(x as nn.Dropout).p.toFixed(3)})`);
  assert.deepEqual(kinds(plain), []);
  assert.ok(plain.blocks.every((b) => b.attn.dropout === 0));
  // Residual dropout p₁ in every block; DropPath from 0 (no layer) up to p₂ in the last block.
  assert.deepEqual(kinds(dropped), [
    'Dropout(0.100)',
    'Dropout(0.100)',
    'DropPath(0.067)',
    'Dropout(0.100)',
    'DropPath(0.133)',
    'Dropout(0.100)',
    'DropPath(0.200)',
  ]);
  assert.ok(dropped.blocks.every((b) => b.attn.dropout === 0.1));
  assert.deepEqual(
    plain
      .namedParameters()
      .slice(0, 10)
      .map(([n, p]) => `${n} ${p.shape.join('×')}`),
    [
      'cls_token 1×64',
      'pos_embed 17×64',
      'patchEmbed.weight 64×1×7×7',
      'patchEmbed.bias 64',
      'blocks.0.norm1.weight 64',
      'blocks.0.norm1.bias 64',
      'blocks.0.attn.in_proj_weight 192×64',
      'blocks.0.attn.in_proj_bias 192',
      'blocks.0.attn.out_proj.weight 64×64',
      'blocks.0.attn.out_proj.bias 64',
    ],
  );
  // The canonical config records the architecture's widths, not the MLP flags it ignores.
  const canon = canonicalConfig({ ...run('vit', 1), numHiddens1: 256, maxNorm: 3 });
  assert.deepEqual([canon.numHiddens1, canon.numHiddens2, canon.maxNorm, canon.dropout1], [64, 128, 0, 0]);
});

test('mean pooling has no class token; the class token is the head input otherwise; logits are [N, 10]', () => {
  const X = rand([3, 1, 28, 28], { generator: new Generator(1) });
  const small = { width: 16, depth: 2, numHeads: 2, mlpDim: 24, generator: new Generator(2) };
  const cls = new VisionTransformer(small);
  const mean = new VisionTransformer({ ...small, pool: 'mean', generator: new Generator(2) });
  assert.equal(mean.clsToken, null);
  assert.deepEqual(mean.posEmbed.shape, [16, 16]);
  assert.deepEqual(cls.posEmbed.shape, [17, 16]);
  assert.deepEqual(cls.embed(X).shape, [3, 17, 16]);
  assert.deepEqual(cls.forward(X).shape, [3, 10]);
  assert.deepEqual(mean.forward(X).shape, [3, 10]);
  // The class token sits at position 0 of every example: token 0 = cls + pos[0].
  const t0 = cls.embed(X).dataSync().slice(0, 16);
  const want = cls.clsToken!.add(cls.posEmbed).dataSync().slice(0, 16);
  t0.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6));
  assert.equal(activationStats(cls, X).length, 2, 'one MLP activation per block');
  assert.throws(() => new VisionTransformer({ patchSize: 5 }), /divide 28/);
  assert.throws(() => new VisionTransformer({ width: 10, numHeads: 4 }), /divisible/);
  assert.throws(() => new VisionTransformer({ dropout: 1.5 }), /dropout/);
  assert.throws(() => cls.forward(rand([2, 784])), /28, 28/);
});

test('vit-dropout refuses noise it does not apply', () => {
  // Refused where the run is resolved, before any training (runOne trusts resolved configs).
  assert.throws(
    () => resolveRuns({ ...run('vit-dropout', 1), variant: 'gaussian' }),
    /vit-dropout applies Bernoulli/,
  );
  assert.throws(
    () => resolveRuns({ ...run('vit-dropout', 1), dropMode: 'early', cutoffEpoch: 1 }),
    /drop mode standard/,
  );
});

describe('a ViT run checkpointed after epoch 1 and resumed equals the uninterrupted run, bit for bit', () => {
  for (const model of ['vit', 'vit-dropout'] as const) {
    test(model, async () => {
      const straight = await runOne(run(model, 2), runData(raw, run(model, 2)), { keepModel: true });
      const saved: TrainingCheckpoint[] = [];
      await runOne(run(model, 1), runData(raw, run(model, 1)), {
        checkpointEvery: 1,
        checkpointer: { save: (c) => void saved.push(decodeCheckpoint(encodeCheckpoint(c))) },
      });
      assert.equal(saved.length, 1);
      assert.ok(
        Object.keys(saved[0]!.momentum).includes('blocks.0.attn.in_proj_weight'),
        'momentum buffers are saved',
      );
      const resumed = await runOne(run(model, 2), runData(raw, run(model, 2)), {
        resumeFrom: saved[0]!,
        keepModel: true,
      });
      assert.deepEqual(resumed.model!.stateDict(), straight.model!.stateDict());
      assert.deepEqual(withoutTiming(resumed.epochs), withoutTiming(straight.epochs));
      assert.deepEqual(resumed.points, straight.points);
      assert.ok(straight.summary.trainLoss < 2.3, `it learns: train_loss ${straight.summary.trainLoss}`);
    });
  }
});
