/**
 * DropoutMLPScratch (d2l 5.6.3): 784 → 256 → 256 → 10 with dropout_layer after each hidden ReLU, applied
 * only in training mode, trained with the book's Trainer and hyperparameters (lr 0.1, batch 256,
 * 10 epochs). `--quick` trains one epoch on 512 examples.
 *
 *   npx tsx examples/02-dropout-mlp-scratch.ts [--quick]
 */
import { createBackend, d2l, DropoutMLPScratch, manualSeed, setBackend } from 'dropout-lab';
import { loadFashionMNIST } from 'dropout-lab/node';

const quick = process.argv.includes('--quick');
setBackend(await createBackend('wasm'));
manualSeed(0);

const hparams = { numOutputs: 10, numHiddens1: 256, numHiddens2: 256, dropout1: 0.5, dropout2: 0.5, lr: 0.1 };
const model = new DropoutMLPScratch(hparams);
const data = await loadFashionMNIST({ batchSize: 256, ...(quick ? { trainLimit: 512, valLimit: 256 } : {}) });
const trainer = new d2l.Trainer({
  maxEpochs: quick ? 1 : 10,
  onEpochEnd: (m) =>
    console.log(
      `epoch ${m.epoch}: train_loss ${m.trainLoss.toFixed(4)}  val_loss ${m.valLoss.toFixed(4)}  val_acc ${m.valAcc.toFixed(4)}`,
    ),
});
await trainer.fit(model, data);
