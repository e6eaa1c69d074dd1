/**
 * TensorFlow.js peers: the official `@tensorflow/tfjs` union package (tfjs-core with every gradient
 * registered, tfjs-layers, the cpu backend) plus `@tensorflow/tfjs-backend-wasm`, which registers
 * itself with the same tfjs-core instance (one copy in node_modules; checked at start-up). The
 * model is written the way a tfjs user writes it: a `tf.sequential` of flatten / dense(256, relu) /
 * dropout(0.5) / dense(256, relu) / dropout(0.5) / dense(10) (no dropout layers for the plain
 * MLP), `tf.train.sgd(lr)`, and mean softmax cross-entropy from the logits, one step being
 * `optimizer.minimize(() => loss, true)` inside `tf.tidy`. (`model.trainOnBatch` with the same loss
 * measured no faster: it runs the same layers and optimiser, plus its own bookkeeping.)
 *
 * Threads: tfjs-backend-wasm 4.x reports WASM_HAS_MULTITHREAD_SUPPORT false whenever IS_NODE is
 * set, and its threaded build needs Web Workers started from Blob URLs, so in Node it runs the
 * single-threaded SIMD build (×1).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import type { BatchSource } from './batches.js';
import type { HParams, ModelKind } from './protocol.js';
import type { StepsResult } from './lab.js';

/** node_modules/@tensorflow/tfjs-backend-wasm/dist/, where its .wasm binaries are. */
function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}

/** Selects a tfjs backend; returns details for the report. */
export async function initTfjs(backend: 'wasm' | 'cpu'): Promise<Record<string, string | number | boolean>> {
  // The backends register themselves with the tfjs-core they import; if that were not the union
  // package's copy, setBackend('wasm') below would not find the backend.
  if (tf.findBackendFactory('wasm') == null || tf.findBackendFactory('cpu') == null)
    throw new Error(
      'tfjs: wasm/cpu backend not registered with the union package (two copies of tfjs-core?)',
    );
  if (tf.getGradient(tf.BatchMatMul) == null)
    throw new Error('tfjs: no gradient for BatchMatMul; the union package should register all gradients');
  if (backend === 'wasm') setWasmPaths(wasmDir());
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialise`);
  await tf.ready();
  const info: Record<string, string | number | boolean> = {
    tfjs: tf.version.tfjs,
    tfjs_core: tf.version_core,
    tfjs_layers: tf.version_layers,
    backend: tf.getBackend(),
  };
  if (backend === 'wasm') {
    info['tfjs_backend_wasm'] = version_wasm;
    const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
    const multithread = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) as boolean;
    if (!simd) throw new Error('tfjs wasm: WASM_HAS_SIMD_SUPPORT is false; it would run the scalar build');
    info['simd'] = simd;
    info['multithread'] = multithread;
    info['threads'] = getThreadsCount();
  } else {
    info['threads'] = 1;
  }
  return info;
}

/** A tfjs model with its SGD optimiser. */
export interface TfjsRun {
  readonly step: (x: Float32Array, y: Int32Array, rows: number) => number;
}

/**
 * Builds the model and its training step. Kernels start from PyTorch's default, U(±1/√fan_in)
 * (varianceScaling, scale 1/3, fan-in, uniform; seeded), biases from zeros, so the loss column is
 * comparable with the other peers'.
 */
export function buildTfjsRun(kind: ModelKind, hp: HParams): TfjsRun {
  let seed = hp.seed;
  const dense = (units: number, activation?: 'relu'): tf.layers.Layer =>
    tf.layers.dense({
      units,
      ...(activation ? { activation } : {}),
      kernelInitializer: tf.initializers.varianceScaling({
        scale: 1 / 3,
        mode: 'fanIn',
        distribution: 'uniform',
        seed: seed++,
      }),
    });
  const dropout = kind === 'dropout';
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [28, 28] }),
      dense(hp.hidden1, 'relu'),
      ...(dropout ? [tf.layers.dropout({ rate: hp.dropout1 })] : []),
      dense(hp.hidden2, 'relu'),
      ...(dropout ? [tf.layers.dropout({ rate: hp.dropout2 })] : []),
      dense(10),
    ],
  });
  const optimizer = tf.train.sgd(hp.lr);
  const step = (x: Float32Array, y: Int32Array, rows: number): number => {
    const cost = tf.tidy(() => {
      const X = tf.tensor3d(x, [rows, 28, 28]);
      const Y = tf.oneHot(tf.tensor1d(y, 'int32'), 10);
      const c = optimizer.minimize(() => {
        const logits = model.apply(X, { training: true }) as tf.Tensor;
        return tf.losses.softmaxCrossEntropy(Y, logits);
      }, true);
      if (c === null) throw new Error('tfjs: minimize returned no cost');
      return c;
    });
    const v = cost.dataSync()[0]!;
    cost.dispose();
    return v;
  };
  return { step };
}

/** One shuffled epoch (or its first `cap` steps), timed like trainSteps in lab.ts. */
export function trainTfjsSteps(run: TfjsRun, data: BatchSource, cap: number | null): StepsResult {
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

/** Bytes tfjs holds in its tensors. */
export function tfjsBytes(): number {
  return tf.memory().numBytes;
}
