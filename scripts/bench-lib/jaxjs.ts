/**
 * The jax-js peer (`@jax-js/jax`): the book's models written as a jax-js user writes them — a params
 * pytree, a pure loss function (ReLU layers, `random.bernoulli` dropout masks scaled by 1/(1 − p),
 * mean softmax cross-entropy from `nn.logSoftmax`), and one training step `jit`-compiled whole:
 * `valueAndGrad` of the loss, the SGD update of every parameter and the next PRNG key, so each step
 * is one call into its compiled program. Its wasm backend, the default device; in Node there is no
 * global Worker, so it runs on one thread (its threaded mode needs SharedArrayBuffer and Workers, as
 * in a cross-origin isolated page). Arrays are reference-counted: each use past the first takes
 * `.ref`, as its README requires.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { init, jit, nn, numpy as np, random, tree, valueAndGrad, defaultDevice } from '@jax-js/jax';
import type { BatchSource } from './batches.js';
import type { HParams, ModelKind } from './protocol.js';
import type { StepsResult } from './lab.js';

type Params = { w1: np.Array; b1: np.Array; w2: np.Array; b2: np.Array; w3: np.Array; b3: np.Array };

/** Initialises the wasm device; returns details for the report. */
export async function initJaxjs(): Promise<Record<string, string | number | boolean>> {
  const devices = await init('wasm');
  if (!devices.includes('wasm')) throw new Error('jax-js: the wasm device did not initialise');
  defaultDevice('wasm');
  // Its exports map hides package.json; it sits one folder above the resolved entry (dist/).
  const entry = createRequire(import.meta.url).resolve('@jax-js/jax');
  const { version } = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return { jaxjs: version, device: defaultDevice(), threads: 1, jit: 'whole step' };
}

/** A jax-js model with its jitted step. */
export interface JaxjsRun {
  readonly step: (x: Float32Array, y: Int32Array, rows: number) => number;
}

/**
 * Builds the model: weights from PyTorch's default U(±1/√fan_in) (drawn with jax-js's own PRNG from
 * the seed), biases from zeros, as the other peers.
 */
export function buildJaxjsRun(kind: ModelKind, hp: HParams): JaxjsRun {
  const keys = random.split(random.key(hp.seed), 4);
  const [k1, k2, k3, kDrop] = np.unstack(keys);
  const layer = (k: np.Array, fanIn: number, fanOut: number): np.Array => {
    const bound = 1 / Math.sqrt(fanIn);
    return random.uniform(k, [fanIn, fanOut], { minval: -bound, maxval: bound });
  };
  let params: Params = {
    w1: layer(k1!, 784, hp.hidden1),
    b1: np.zeros([hp.hidden1]),
    w2: layer(k2!, hp.hidden1, hp.hidden2),
    b2: np.zeros([hp.hidden2]),
    w3: layer(k3!, hp.hidden2, 10),
    b3: np.zeros([10]),
  };
  let key = kDrop!;
  const dropout = (h: np.Array, p: number, k: np.Array): np.Array => {
    if (kind !== 'dropout' || p === 0) {
      k.dispose();
      return h;
    }
    const keep = random.bernoulli(k, 1 - p, h.shape);
    return np.where(keep, h.mul(1 / (1 - p)), 0);
  };
  const loss = (p: Params, x: np.Array, y: np.Array, k: np.Array): np.Array => {
    const [ka, kb] = np.unstack(random.split(k, 2));
    let h = nn.relu(np.matmul(x, p.w1).add(p.b1));
    h = dropout(h, hp.dropout1, ka!);
    h = nn.relu(np.matmul(h, p.w2).add(p.b2));
    h = dropout(h, hp.dropout2, kb!);
    const logits = np.matmul(h, p.w3).add(p.b3);
    const rows = x.shape[0]!;
    return nn
      .logSoftmax(logits)
      .mul(nn.oneHot(y, 10))
      .sum()
      .mul(-1 / rows);
  };
  const step = jit((p: Params, x: np.Array, y: np.Array, k: np.Array) => {
    const [kStep, kNext] = np.unstack(random.split(k, 2));
    const [value, grads] = valueAndGrad(loss)(tree.ref(p), x, y, kStep!);
    const next = tree.map((w: np.Array, g: np.Array) => w.sub(g.mul(hp.lr)), p, grads) as Params;
    return [next, value, kNext!] as const;
  });
  return {
    step: (x, y, rows) => {
      const X = np.array(x).reshape([rows, 784]);
      const Y = np.array(y, { dtype: np.int32 });
      const [next, value, nextKey] = step(params, X, Y, key) as unknown as [Params, np.Array, np.Array];
      params = next;
      key = nextKey;
      // Reading the loss back waits for the step, as every peer's step does (and frees it).
      return value.dataSync()[0]!;
    },
  };
}

/** One shuffled epoch (or its first `cap` steps), timed like trainSteps in lab.ts. */
export function trainJaxjsSteps(run: JaxjsRun, data: BatchSource, cap: number | null): StepsResult {
  let steps = 0;
  let samples = 0;
  let lossSum = 0;
  const t0 = performance.now();
  for (const b of data.epoch()) {
    lossSum += run.step(b.x, b.y, b.rows) * b.rows;
    samples += b.rows;
    steps++;
    if (cap !== null && steps >= cap) break;
  }
  return { seconds: (performance.now() - t0) / 1000, samples, steps, loss: lossSum / samples };
}
