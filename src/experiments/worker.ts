/**
 * Child-process entry of the experiment pool: loads Fashion-MNIST once, creates a single-threaded
 * wasm backend, then runs the configs the parent sends over IPC one at a time, writing each run's
 * JSONL file atomically when it finishes (so a killed sweep keeps every finished run).
 */
import { loadFashionMnistRaw } from '../node/data/fashionMnistFiles.js';
import { createBackend, type BackendName } from '../backend/select.js';
import { setBackend } from '../tensor/engine.js';
import { writeFileAtomic } from '../node/atomicWrite.js';
import { runOne } from './runOne.js';
import type { ToWorker, FromWorker } from './pool.js';

// Stopped from outside (SIGTERM/SIGINT, or the parent gone so that the IPC channel or stdout is a
// broken pipe): exit quietly. Finished runs are on disk; the one in progress is rerun on restart. A
// result being written is finished first (milliseconds), so no temp file is left behind.
let writing: Promise<void> | undefined;
const quit = (): void => {
  if (writing === undefined) process.exit(0);
  void writing.finally(() => process.exit(0));
};
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
process.stdout.on('error', quit);
process.stderr.on('error', quit);
process.on('error', quit);

const send = (m: FromWorker): void => {
  if (process.connected !== true) return;
  process.send?.(m, undefined, {}, (err: Error | null) => {
    if (err) quit();
  });
};

const backendName = (process.env['DROPOUT_LAB_BACKEND'] ?? 'wasm') as BackendName;
const dataDir = process.env['DROPOUT_LAB_DATA_DIR'];
const backend = await createBackend(backendName, { threads: 1 });
setBackend(backend);
const raw = await loadFashionMnistRaw(dataDir ? { dataDir } : {});
send({ type: 'ready' });
// The parent is gone (Ctrl-C, crash): stop rather than train for nobody; finished runs are on disk.
process.on('disconnect', quit);

process.on('message', (message: ToWorker) => {
  if (message.type === 'exit') {
    process.disconnect?.();
    process.exit(0);
  }
  const { id, config, file } = message;
  runOne(config, raw, { onEpoch: (epoch) => send({ type: 'epoch', id, epoch }) })
    .then(async (events) => {
      writing = writeFileAtomic(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
      await writing;
      writing = undefined;
      send({ type: 'done', id });
    })
    .catch((e: unknown) => send({ type: 'error', id, message: e instanceof Error ? e.message : String(e) }));
});
