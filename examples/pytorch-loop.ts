/**
 * The README's hand-written PyTorch-style loop, kept compiling by the type-check: fields register the
 * layers, the DataLoader owns its batches, and no tidy or dispose is needed.
 *
 *   node --import tsx examples/pytorch-loop.ts
 */
import {
  DataLoader,
  F,
  TensorDataset,
  manualSeed,
  nn,
  noGrad,
  optim,
  randn,
  tensor,
  tidy,
} from '../src/index.js';
import type { Tensor } from '../src/index.js';

class Net extends nn.Module {
  flatten = new nn.Flatten();
  fc1 = new nn.Linear(784, 256);
  drop = new nn.Dropout(0.5);
  fc2 = new nn.Linear(256, 10);
  forward(X: Tensor): Tensor {
    return this.fc2.forward(this.drop.forward(this.fc1.forward(this.flatten.forward(X)).relu()));
  }
}

manualSeed(0);
// Stand-ins for Fashion-MNIST: images [N, 1, 28, 28] and labels [N].
const X = randn([512, 1, 28, 28]);
const y = tensor(Float32Array.from({ length: 512 }, (_, i) => i % 10));
const net = new Net();
const opt = new optim.SGD(net.parameters(), { lr: 0.1 });
const loader = new DataLoader(new TensorDataset(X, y), { batchSize: 256, shuffle: true, dropLast: false });
for (let epoch = 0; epoch < 2; epoch++) {
  net.train();
  let last = 0;
  for (const [Xb, yb] of loader) {
    const loss = F.crossEntropy(net.forward(Xb), yb);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    last = loss.item();
  }
  net.eval();
  const acc = noGrad(() => tidy(() => F.accuracy(net.forward(X), y)));
  console.log(`epoch ${epoch + 1}: loss ${last.toFixed(4)}, train accuracy ${acc.toFixed(3)}`);
}
