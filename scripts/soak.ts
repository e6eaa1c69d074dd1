/**
 * Soak test (not part of `npm test`): trains the dropout MLP for many epochs on real Fashion-MNIST,
 * sampling RSS and the backend's live buffers every epoch, and checks that memory and open handles
 * stay flat. Prints the least-squares RSS slope (MB/epoch) and epoch-1 vs last-epoch RSS.
 *
 *   node --import tsx scripts/soak.ts [--epochs 50] [--train-limit 6000] [--backend wasm|js] [--threads 1]
 */
import { parseArgs } from 'node:util';
import { createBackend, disposeBackend, type BackendName } from '../src/backend/select.js';
import { DropoutMLP } from '../src/models/dropoutMlp.js';
import { loadFashionMNIST } from '../src/node.js';
import { manualSeed } from '../src/random/generator.js';
import { setBackend } from '../src/tensor/engine.js';
import { Trainer } from '../src/train/trainer.js';
import { slope } from './bench-lib/analysis.js';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '50' },
    'train-limit': { type: 'string' },
    'batch-size': { type: 'string', default: '256' },
    backend: { type: 'string', default: 'wasm' },
    threads: { type: 'string', default: '1' },
  },
});
const epochs = Number(values.epochs);
const trainLimit = values['train-limit'] === undefined ? undefined : Number(values['train-limit']);

const handleCount = (): number => process.getActiveResourcesInfo().length;
const MB = 2 ** 20;

const backend = await createBackend(values.backend as BackendName, { threads: Number(values.threads) });
setBackend(backend);
const data = await loadFashionMNIST({ batchSize: Number(values['batch-size']), trainLimit });
manualSeed(0);
data.shuffleGenerator.manualSeed(2 ** 32);
const handlesBefore = handleCount();
const rows: {
  epoch: number;
  rss: number;
  buffers: number;
  bytes: number;
  handles: number;
  valAcc: number;
}[] = [];
const started = performance.now();
await new Trainer({
  maxEpochs: epochs,
  onEpochEnd: (m) => {
    const mem = backend.memory();
    const row = {
      epoch: m.epoch,
      rss: process.memoryUsage().rss / MB,
      buffers: mem.buffers,
      bytes: mem.bytes,
      handles: handleCount(),
      valAcc: m.valAcc,
    };
    rows.push(row);
    process.stdout.write(
      `epoch ${row.epoch}  rss ${row.rss.toFixed(1)} MB  backend ${row.buffers} buffers / ${(row.bytes / MB).toFixed(2)} MB  ` +
        `handles ${row.handles}  val_acc ${m.valAcc.toFixed(4)}  ${m.epochSeconds.toFixed(2)} s\n`,
    );
  },
}).fit(new DropoutMLP(), data);
const seconds = (performance.now() - started) / 1000;

const first = rows[0]!;
const last = rows[rows.length - 1]!;
// Skip the first epochs for the slope: allocators and JIT warm up there.
const tail = rows.slice(Math.min(2, rows.length - 1));
const rssSlope = slope(
  tail.map((r) => r.epoch),
  tail.map((r) => r.rss),
);
const maxHandles = Math.max(...rows.map((r) => r.handles));
console.log(
  `\n${epochs} epochs on ${data.numTrain} examples in ${seconds.toFixed(1)} s (${backend.name})\n` +
    `RSS epoch 1: ${first.rss.toFixed(1)} MB, epoch ${last.epoch}: ${last.rss.toFixed(1)} MB, ` +
    `slope ${rssSlope.toFixed(3)} MB/epoch (least squares over epochs ${tail[0]!.epoch}…${last.epoch})\n` +
    `backend memory epoch 2: ${rows[Math.min(1, rows.length - 1)]!.buffers} buffers / ${rows[Math.min(1, rows.length - 1)]!.bytes} B, ` +
    `epoch ${last.epoch}: ${last.buffers} buffers / ${last.bytes} B\n` +
    `open handles before: ${handlesBefore}, max during: ${maxHandles}, after: ${handleCount()}`,
);
const problems: string[] = [];
if (rows.length > 2 && (last.buffers !== rows[1]!.buffers || last.bytes !== rows[1]!.bytes)) {
  problems.push('backend memory grew after epoch 2');
}
if (maxHandles > handlesBefore + 1) problems.push('open handles grew');
if (rssSlope > 0.5) problems.push(`RSS grows ${rssSlope.toFixed(3)} MB/epoch`);
disposeBackend(backend);
if (problems.length > 0) {
  console.log(`FAIL: ${problems.join('; ')}`);
  process.exitCode = 1;
} else {
  console.log('OK: memory and handles are flat');
}
