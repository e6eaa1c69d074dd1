/**
 * Dropout vs the plain MLP with the same seed, data order and hyperparameters: the train/val gap
 * (val_loss − train_loss) the book's plots show. train_loss is measured in training mode, as the book
 * plots it, so dropout's noise raises it. `--quick` trains one epoch on 512 examples.
 *
 *   npx tsx examples/04-dropout-vs-plain.ts [--quick]
 */
import { createBackend, d2l, DropoutMLP, manualSeed, MLP, setBackend } from 'dropout-lab';
import { loadFashionMNIST } from 'dropout-lab/node';

const quick = process.argv.includes('--quick');
setBackend(await createBackend('wasm'));
const data = await loadFashionMNIST({ batchSize: 256, ...(quick ? { trainLimit: 512, valLimit: 256 } : {}) });

const rows: string[] = [];
for (const [name, make] of [
  ['dropout MLP', () => new DropoutMLP()],
  ['plain MLP', () => new MLP()],
] as const) {
  // The same seed for both: the same initial weights and the same shuffles.
  manualSeed(0);
  data.shuffleGenerator.manualSeed(2 ** 32);
  const { epochs } = await new d2l.Trainer({ maxEpochs: quick ? 1 : 10 }).fit(make(), data);
  const last = epochs.at(-1)!;
  const gap = last.valLoss - last.trainLoss;
  rows.push(
    `${name.padEnd(12)} train_loss ${last.trainLoss.toFixed(4)}  val_loss ${last.valLoss.toFixed(4)}  ` +
      `val_acc ${last.valAcc.toFixed(4)}  gap ${gap.toFixed(4)}`,
  );
}
console.log(rows.join('\n'));
