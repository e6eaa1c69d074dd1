/**
 * Evaluation mode makes dropout the identity: inverted dropout scales at training time, so the
 * network is used as is at test time. Modules start in training mode (as in PyTorch); eval() returns
 * the module. The functional form takes `training` explicitly.
 *
 *   npx tsx examples/05-eval-mode.ts [--quick]
 */
import { arange, DropoutMLP, F, manualSeed, nn, rand } from 'dropout-lab';

manualSeed(0);
const X = arange(16).reshape(2, 8);
const drop = new nn.Dropout(0.5);
console.log('training mode:', drop.training, drop.forward(X).toArray());
drop.eval();
console.log('eval mode:    ', drop.training, drop.forward(X).toArray());
console.log('F.dropout(X, 0.5, { training: false }) is X:', F.dropout(X, 0.5, { training: false }) === X);

// A whole model: two evaluation passes agree exactly; two training passes do not (fresh masks).
const model = new DropoutMLP();
const images = rand([4, 1, 28, 28]);
const a = model.eval().forward(images).toArray();
const b = model.forward(images).toArray();
console.log('eval passes equal:', JSON.stringify(a) === JSON.stringify(b));
const c = model.train().forward(images).toArray();
const d = model.forward(images).toArray();
console.log('training passes equal:', JSON.stringify(c) === JSON.stringify(d));
