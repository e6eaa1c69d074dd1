/**
 * The naive PyTorch-style loop (not part of `npm test`): forward → crossEntropy → zeroGrad →
 * backward → step → loss.item(), with no tidy and no dispose, batches straight from the data loader.
 * Samples the backend's live buffers/bytes and RSS every 100 steps and prints least-squares slopes
 * over the second half of the run (bytes per step), or the step where it failed.
 *
 *   node --import tsx scripts/naive-loop.ts [--steps 2000] [--backend wasm|js] [--batch-size 256]
 */
import { parseArgs } from 'node:util';
import { createBackend, type BackendName } from '../src/backend/select.js';
import { nn, optim, F, manualSeed, setBackend } from '../src/index.js';
import { loadFashionMNIST } from '../src/node.js';
import { slope } from './bench-lib/analysis.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '2000' },
    backend: { type: 'string', default: 'wasm' },
    'batch-size': { type: 'string', default: '256' },
  },
});
const steps = Number(values.steps);
const MB = 2 ** 20;
const backend = await createBackend(values.backend as BackendName, { threads: 1 });
setBackend(backend);
manualSeed(0);
const data = await loadFashionMNIST({ batchSize: Number(values['batch-size']), trainLimit: 12000 });
const net = new nn.Sequential(
  new nn.Flatten(),
  new nn.Linear(784, 256),
  new nn.ReLU(),
  new nn.Dropout(0.5),
  new nn.Linear(256, 256),
  new nn.ReLU(),
  new nn.Dropout(0.5),
  new nn.Linear(256, 10),
);
const opt = new optim.SGD(net.parameters(), { lr: 0.1 });
const rows: { step: number; buffers: number; mb: number; rssMb: number; loss: number }[] = [];
let step = 0;
let failure: string | null = null;
try {
  outer: for (;;) {
    for (const { X, y } of data.trainDataloader()) {
      const loss = F.crossEntropy(net.forward(X), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      const value = loss.item();
      step++;
      if (step % 100 === 0 || step === 1) {
        const mem = backend.memory();
        const row = {
          step,
          buffers: mem.buffers,
          mb: mem.bytes / MB,
          rssMb: process.memoryUsage().rss / MB,
          loss: value,
        };
        rows.push(row);
        console.log(JSON.stringify(row));
      }
      if (step >= steps) break outer;
    }
  }
} catch (e) {
  failure = `step ${step + 1}: ${(e as Error).name}: ${(e as Error).message}`;
}
const half = rows.filter((r) => r.step >= step / 2);
const fit = (key: 'mb' | 'rssMb' | 'buffers'): number =>
  half.length >= 2
    ? slope(
        half.map((r) => r.step),
        half.map((r) => r[key]),
      )
    : NaN;
console.log(
  JSON.stringify({
    steps: step,
    failure,
    engineBytesPerStep: fit('mb') * MB,
    buffersPerStep: fit('buffers'),
    rssBytesPerStep: fit('rssMb') * MB,
    first: rows[0],
    last: rows[rows.length - 1],
  }),
);
