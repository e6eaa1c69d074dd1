/**
 * The tiny ViT trained a few steps on the wasm backend ends with the same parameters, bit for bit,
 * on 1, 2 and 3 threads: at batch 256 its matmuls, the fused attention (forward and backward, by (n, h)
 * blocks), the large strided elementwise ops (the fused GELU and its backward, the residual adds) and
 * the fused LayerNorms (by rows) are split across the helper threads, and each element must still
 * be computed by the same code whichever thread runs it. (The model's large `where`s were GELU's
 * composition; a split where is checked in test/backends/wasm.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackend, disposeBackend } from '../../../src/backend/select.js';
import type { Backend } from '../../../src/backend/backend.js';
import type { WasmBackend } from '../../../src/backend/wasm/index.js';
import { FashionMNIST } from '../../../src/data/fashionMnist.js';
import { VisionTransformer } from '../../../src/models/vit.js';
import { SGD } from '../../../src/optim/sgd.js';
import { manualSeed } from '../../../src/random/generator.js';
import { getBackend, setBackend } from '../../../src/tensor/engine.js';
import { trainStep } from '../../../src/train/trainer.js';
import { synthetic } from '../../helpers/syntheticFashion.js';
import { traceThreads, commandsOf } from '../../helpers/threadTrace.js';

const STEPS = 2;
const raw = synthetic(STEPS * 256, 16, 3);

/** Trains STEPS steps on a fresh wasm backend with `threads` threads; returns the parameters and the split commands. */
async function train(threads: number): Promise<{ params: Float32Array[]; commands: Set<string> }> {
  const previous = getBackend();
  const be: Backend = await createBackend('wasm', { threads });
  const trace = traceThreads(be as WasmBackend);
  setBackend(be);
  try {
    manualSeed(7);
    const data = new FashionMNIST(raw, { batchSize: 256 });
    data.shuffleGenerator.manualSeed(8);
    const model = new VisionTransformer();
    const optim = new SGD(model.parameters(), { lr: 0.05 });
    model.train();
    let steps = 0;
    for (const batch of data.trainDataloader()) {
      await trainStep(model, optim, batch);
      batch.X.dispose();
      batch.y.dispose();
      if (++steps === STEPS) break;
    }
    const commands = commandsOf(trace);
    return { params: model.parameters().map((p) => p.dataSync()), commands };
  } finally {
    setBackend(previous);
    disposeBackend(be);
  }
}

test('the ViT trained on 1, 2 and 3 wasm threads ends with bit-identical parameters', async () => {
  const one = await train(1);
  const more = [await train(2), await train(3)];
  assert.ok(one.params.length > 0);
  for (const [i, r] of more.entries()) {
    for (const c of [
      'gemm',
      'binary',
      'unary',
      'layerNorm',
      'layerNormBackward',
      'attention',
      'attentionBackward',
    ]) {
      assert.ok(r.commands.has(c), `${i + 2} threads: ${c} never split (${[...r.commands].join(', ')})`);
    }
    r.params.forEach((p, j) => {
      const first = p.findIndex((v, k) => !Object.is(v, one.params[j]![k]));
      assert.equal(first, -1, `${i + 2} threads, parameter ${j}: element ${first} differs`);
    });
  }
});
