/**
 * The concise implementation (d2l 5.6.4): nn.Sequential with nn.Dropout after each hidden layer.
 * nn.Dropout follows the module's mode, so the Trainer's train()/eval() switches it on and off.
 * `--quick` trains one epoch on 512 examples.
 *
 *   npx tsx examples/03-dropout-mlp-concise.ts [--quick]
 */
import { createBackend, d2l, DropoutMLP, manualSeed, setBackend } from 'dropout-lab';
import { loadFashionMNIST } from 'dropout-lab/node';

const quick = process.argv.includes('--quick');
setBackend(await createBackend('wasm'));
manualSeed(0);

const model = new DropoutMLP({ numHiddens1: 256, numHiddens2: 256, dropout1: 0.5, dropout2: 0.5, lr: 0.1 });
const data = await loadFashionMNIST({ batchSize: 256, ...(quick ? { trainLimit: 512, valLimit: 256 } : {}) });
const { epochs } = await new d2l.Trainer({ maxEpochs: quick ? 1 : 10 }).fit(model, data);
for (const m of epochs) {
  console.log(
    `epoch ${m.epoch}: train_loss ${m.trainLoss.toFixed(4)}  val_loss ${m.valLoss.toFixed(4)}  val_acc ${m.valAcc.toFixed(4)}`,
  );
}
// The parameter names are PyTorch's for the same Sequential: net.1, net.4, net.7.
console.log(
  model
    .namedParameters()
    .map(([name, p]) => `${name} [${p.shape.join(', ')}]`)
    .join('\n'),
);
