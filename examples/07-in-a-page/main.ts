/** The page's script: the deck's quick check and one eval-mode pass of the concise model, in the browser. */
import { arange, dropoutLayer, DropoutMLP, manualSeed, rand } from 'dropout-lab';

manualSeed(0);
const X = arange(16).reshape(2, 8);
const lines = ['X = ' + JSON.stringify(X.toArray())];
for (const p of [0, 0.5, 1]) lines.push(`dropout_p = ${p}: ${JSON.stringify(dropoutLayer(X, p).toArray())}`);

const model = new DropoutMLP().eval();
const logits = model.forward(rand([1, 1, 28, 28]));
lines.push(
  `DropoutMLP logits of a random image: ${JSON.stringify((await logits.data()).map((v) => +v.toFixed(3)))}`,
);

document.querySelector('#out')!.textContent = lines.join('\n');
