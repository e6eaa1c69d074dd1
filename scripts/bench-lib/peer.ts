/**
 * A Node benchmark peer: one system (dropout-lab wasm/js, TensorFlow.js wasm/cpu, jax-js) and one model in
 * its own process, so its peak RSS is its own. Spawned by scripts/bench.ts with the spec as JSON in
 * argv[2]; speaks the JSON-lines protocol of protocol.ts on stdin/stdout.
 */
import { loadFashionMNIST, loadFashionMnistRaw } from '../../src/node.js';
import { BatchSource } from './batches.js';
import { PRODUCT_METHODS, productFlops } from './flops.js';
import { buildLabRun, trainSteps, useBackend, type LabRun } from './lab.js';
import { rssNow, serve, type EpochReply, type NodePeerSpec, type ReadyReply } from './protocol.js';
import type { Backend } from '../../src/backend/backend.js';

// Library banners (tfjs greets Node users on stdout) must not mix with the protocol's lines.
console.log = console.error;

const spec = JSON.parse(process.argv[2] ?? '{}') as NodePeerSpec;
const hp = spec.hparams;

let epoch: (steps: number | null) => Promise<EpochReply>;

async function ready(): Promise<ReadyReply> {
  if (spec.system === 'lab-wasm' || spec.system === 'lab-js' || spec.system === 'lab-webgpu') {
    const name = spec.system === 'lab-wasm' ? 'wasm' : spec.system === 'lab-js' ? 'js' : 'webgpu';
    const be: Backend = await useBackend(name, spec.threads, spec.sparse);
    const data = await loadFashionMNIST({ batchSize: hp.batchSize, dataDir: spec.dataDir });
    // Counts the products' flops (nothing timed) for the report's share of the SIMD peak (flops.ts).
    let flops = 0;
    const target = be as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const name of PRODUCT_METHODS) {
      const original = target[name]!.bind(be);
      target[name] = (...args: unknown[]): unknown => {
        flops += productFlops(name, args);
        return original(...args);
      };
    }
    const run: LabRun = buildLabRun(spec.model, hp, data);
    epoch = async (steps) => {
      flops = 0;
      const r = await trainSteps(run, steps);
      const reply = {
        event: 'epoch' as const,
        ...r,
        ...rssNow(),
        engine_bytes: be.memory().bytes,
        gemm_flops: flops,
      };
      const gc = (globalThis as { gc?: () => void }).gc;
      if (spec.gcAfterEpoch !== true || gc === undefined) return reply;
      gc();
      return { ...reply, heap_gc_kb: Math.round(process.memoryUsage().heapUsed / 1024) };
    };
    const info: Record<string, string | number | boolean> = { backend: be.name, threads: spec.threads };
    if (spec.sparse === false) info['sparse'] = false;
    const variant = (be as Partial<{ variant: string }>).variant;
    if (variant !== undefined) info['variant'] = variant;
    return { event: 'ready', system: spec.system, info, num_train: data.numTrain, ...rssNow() };
  }
  if (spec.system === 'jaxjs') {
    const { initJaxjs, buildJaxjsRun, trainJaxjsSteps } = await import('./jaxjs.js');
    const info = await initJaxjs();
    const raw = await loadFashionMnistRaw({ dataDir: spec.dataDir });
    const data = new BatchSource(raw.trainImages, raw.trainLabels, hp.batchSize, hp.seed + 2 ** 32);
    const run = buildJaxjsRun(spec.model, hp);
    epoch = (steps) => Promise.resolve({ event: 'epoch', ...trainJaxjsSteps(run, data, steps), ...rssNow() });
    return { event: 'ready', system: spec.system, info, num_train: data.numTrain, ...rssNow() };
  }
  const { initTfjs, buildTfjsRun, trainTfjsSteps, tfjsBytes } = await import('./tfjs.js');
  const info = await initTfjs(spec.system === 'tfjs-wasm' ? 'wasm' : 'cpu');
  const raw = await loadFashionMnistRaw({ dataDir: spec.dataDir });
  const data = new BatchSource(raw.trainImages, raw.trainLabels, hp.batchSize, hp.seed + 2 ** 32);
  const run = buildTfjsRun(spec.model, hp);
  epoch = (steps) =>
    Promise.resolve({
      event: 'epoch',
      ...trainTfjsSteps(run, data, steps),
      ...rssNow(),
      engine_bytes: tfjsBytes(),
    });
  return { event: 'ready', system: spec.system, info, num_train: data.numTrain, ...rssNow() };
}

await serve(ready, (steps) => epoch(steps));
