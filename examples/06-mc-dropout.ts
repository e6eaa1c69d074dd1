/**
 * MC dropout (Gal & Ghahramani, 2016): keep dropout on at test time and average T passes, against the
 * book's weight scaling (one pass in eval mode). nn.predict returns the mean probabilities, the
 * predictive entropy and the per-class variance. `--quick` trains one epoch on 512 examples.
 *
 *   npx tsx examples/06-mc-dropout.ts [--quick]
 */
import { createBackend, d2l, DropoutMLP, Generator, manualSeed, nn, setBackend, tidy } from 'dropout-lab';
import { loadFashionMNIST } from 'dropout-lab/node';

const quick = process.argv.includes('--quick');
setBackend(await createBackend('wasm'));
manualSeed(0);

const data = await loadFashionMNIST({ batchSize: 256, ...(quick ? { trainLimit: 512, valLimit: 256 } : {}) });
const model = new DropoutMLP();
await new d2l.Trainer({ maxEpochs: quick ? 1 : 10 }).fit(model, data);

// One validation batch, predicted both ways.
const { X, y } = data.valDataloader()[Symbol.iterator]().next().value!;
const labels = y.dataSync();
const report = (name: string, mcSamples: number): void =>
  tidy(() => {
    const { probs, entropy } = nn.predict(model, X, { mcSamples, generator: new Generator(1) });
    const p = probs.dataSync();
    const classes = probs.shape[1]!;
    let correct = 0;
    for (let i = 0; i < labels.length; i++) {
      const row = p.subarray(i * classes, (i + 1) * classes);
      if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
    }
    const h = entropy.dataSync();
    const meanEntropy = h.reduce((s, v) => s + v, 0) / h.length;
    console.log(
      `${name.padEnd(22)} accuracy ${(correct / labels.length).toFixed(4)}  mean entropy ${meanEntropy.toFixed(4)} nats`,
    );
  });
report('weight scaling (T = 0)', 0);
for (const T of quick ? [5] : [5, 20, 100]) report(`MC dropout (T = ${T})`, T);
