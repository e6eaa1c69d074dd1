/**
 * Dropout where modern networks use it (issue: convolution and attention), as experiment presets:
 * which noise helps the LeNet-style CNN (plain dropout in the head, spatial dropout, DropBlock), whether
 * the Transformer's ~10% dropout and DropPath help the tiny ViT, and where each architecture's
 * accuracy lands against the book's MLPs. Verdicts are templated from the measured numbers.
 */
import type { GroupNumbers, Preset } from './preset.js';
import { best, find, fmt, mean, versus } from './preset.js';

/** Spatial dropout and DropBlock rate after the conv blocks (DropBlock's paper keeps 0.9). */
const MAP_P = 0.1;

/** The CNN: no dropout, dropout in the head only, and spatial dropout or DropBlock on top of it. */
const CNN: Preset = {
  name: 'cnn',
  part: 'beyond',
  title: 'Spatial dropout and DropBlock on a CNN',
  question:
    'Does spatial dropout (whole feature maps) or DropBlock (contiguous blocks) help the LeNet-style CNN more than plain dropout in its head?',
  epochs: 10,
  groups: () => [
    { label: 'cnn', config: { model: 'cnn' } },
    { label: 'head dropout', config: { model: 'cnn-dropout', dropout1: 0, dropout2: 0.5 } },
    { label: 'spatial + head', config: { model: 'cnn-dropout', dropout1: MAP_P, dropout2: 0.5 } },
    { label: 'DropBlock + head', config: { model: 'cnn-dropblock', dropout1: MAP_P, dropout2: 0.5 } },
  ],
  readAt: (e) => [e],
  notes: `The LeNet-style CNN (conv 1→6 5×5 pad 2, max-pool, conv 6→16 5×5, max-pool, 400→256→256→10), SGD lr 0.1, batch 256. \`head dropout\`: p = 0.5 after each hidden layer of the head; \`spatial + head\`: also spatial dropout (torch.nn.Dropout2d) p = ${MAP_P} after each conv block; \`DropBlock + head\`: DropBlock p = ${MAP_P} with 3×3 blocks there instead.`,
  verdict: (groups) => {
    const plain = find(groups, 'cnn');
    const head = find(groups, 'head dropout');
    const spatial = find(groups, 'spatial + head');
    const block = find(groups, 'DropBlock + head');
    const top = best(groups, 'val_acc');
    return [
      `The best validation accuracy is ${top.label}'s (${fmt(top, 'val_acc')}).`,
      `Dropout in the head gives a val_acc ${versus(head, plain, 'val_acc')} (${fmt(plain, 'val_acc')} without dropout).`,
      `Adding spatial dropout after the conv blocks gives a val_acc ${versus(spatial, head, 'val_acc')}, and adding DropBlock one ${versus(block, head, 'val_acc')}; DropBlock's val_acc is ${versus(block, spatial, 'val_acc')}.`,
      `The noise-free gap (val_loss − train_loss in eval mode) is ${fmt(plain, 'gap_eval')} without dropout, ${fmt(head, 'gap_eval')} with head dropout, ${fmt(spatial, 'gap_eval')} with spatial dropout and ${fmt(block, 'gap_eval')} with DropBlock.`,
    ].join(' ');
  },
};

/** The tiny ViT at the Transformer's rates, with and without DropPath. */
const VIT: Preset = {
  name: 'vit',
  part: 'beyond',
  title: 'Transformer dropout (~10%) and DropPath on a tiny ViT',
  question:
    'Does the ~10% dropout that still ships in Transformers help a tiny ViT on Fashion-MNIST (0 vs 0.1 vs 0.2), with and without DropPath?',
  epochs: 10,
  groups: () => [
    { label: 'p = 0', config: { model: 'vit' } },
    { label: 'p = 0.1', config: { model: 'vit-dropout', dropout1: 0.1, dropout2: 0 } },
    { label: 'p = 0.2', config: { model: 'vit-dropout', dropout1: 0.2, dropout2: 0 } },
    { label: 'p = 0.1 + DropPath 0.1', config: { model: 'vit-dropout', dropout1: 0.1, dropout2: 0.1 } },
    { label: 'p = 0.2 + DropPath 0.1', config: { model: 'vit-dropout', dropout1: 0.2, dropout2: 0.1 } },
  ],
  readAt: (e) => [e],
  notes:
    'The tiny ViT (7×7 patches → 16 tokens + class token, width 64, 4 pre-norm blocks × 4 heads, MLP 128), AdamW lr 1e-3, weight decay 0.05, one warm-up epoch then cosine, batch 256. p is the dropout on the attention probabilities and on each residual branch; DropPath drops a whole residual branch per example (rate 0.1 at the last block, linearly less before, as timm).',
  verdict: (groups) => {
    const none = find(groups, 'p = 0');
    const p1 = find(groups, 'p = 0.1');
    const p2 = find(groups, 'p = 0.2');
    const dp1 = find(groups, 'p = 0.1 + DropPath 0.1');
    const dp2 = find(groups, 'p = 0.2 + DropPath 0.1');
    const top = best(groups, 'val_acc');
    const helps = mean(p1, 'val_acc') > mean(none, 'val_acc');
    return [
      `The best validation accuracy is ${top.label}'s (${fmt(top, 'val_acc')}).`,
      `Dropout 0.1 gives a val_acc ${versus(p1, none, 'val_acc')} (${fmt(none, 'val_acc')} without), and 0.2 ${versus(p2, none, 'val_acc')}: ${helps ? 'at this size and length, the Transformer rate helps' : 'at this size and length, the Transformer rate does not help'}.`,
      `DropPath 0.1 on top of p = 0.1 gives a val_acc ${versus(dp1, p1, 'val_acc')}, and on top of p = 0.2 one ${versus(dp2, p2, 'val_acc')}.`,
      `The noise-free gap is ${fmt(none, 'gap_eval')} without dropout and ${fmt(dp1, 'gap_eval')} with p = 0.1 and DropPath.`,
    ].join(' ');
  },
};

/** The book's MLPs, the CNN and the ViT, each with and without its dropout. */
const ARCHITECTURES: Preset = {
  name: 'architectures',
  part: 'beyond',
  title: 'MLP, CNN and ViT, with and without dropout',
  question:
    "Where does each architecture's validation accuracy land against the book's MLP, after the book's 10 epochs and after longer training, and does its dropout help at both lengths?",
  epochs: 20,
  groups: () => [
    { label: 'mlp', config: { model: 'mlp' } },
    { label: 'dropout-mlp', config: { model: 'dropout-mlp' } },
    { label: 'cnn', config: { model: 'cnn' } },
    { label: 'cnn-dropout', config: { model: 'cnn-dropout', dropout1: MAP_P, dropout2: 0.5 } },
    { label: 'vit', config: { model: 'vit' } },
    { label: 'vit-dropout', config: { model: 'vit-dropout' } },
  ],
  readAt: (e) => [...new Set([Math.min(10, e), e])],
  notes: `Each model at its defaults: the MLPs and the CNN with SGD lr 0.1 (the book's), the ViTs with AdamW and warm-up + cosine over the whole run (vit-dropout: 0.1 dropout and DropPath 0.1); cnn-dropout with spatial dropout ${MAP_P} and head dropout 0.5. Read after 10 epochs (the book's) and at the end.`,
  verdict: (groups, at) => {
    const reads = [...at.keys()].sort((a, b) => a - b);
    const first = at.get(reads[0]!) ?? groups;
    const line = (gs: readonly GroupNumbers[], e: number): string => {
      const mlp = find(gs, 'dropout-mlp');
      const cnn = find(gs, 'cnn-dropout');
      const vit = find(gs, 'vit-dropout');
      return `after ${e} epochs the dropout CNN's val_acc is ${versus(cnn, mlp, 'val_acc')} and the dropout ViT's ${versus(vit, mlp, 'val_acc')}; with dropout the MLP's val_acc is ${versus(mlp, find(gs, 'mlp'), 'val_acc')}, the CNN's ${versus(cnn, find(gs, 'cnn'), 'val_acc')} and the ViT's ${versus(vit, find(gs, 'vit'), 'val_acc')}`;
    };
    const top = best(groups, 'val_acc');
    return (
      `Against the book's dropout MLP, ${line(first, reads[0]!)}` +
      (reads.length > 1 ? `; ${line(groups, reads[reads.length - 1]!)}` : '') +
      `. The best at the end is ${top.label} (${fmt(top, 'val_acc')}).`
    );
  },
};

/** The architecture presets, in report order. */
export const ARCHITECTURE_PRESETS: readonly Preset[] = [CNN, VIT, ARCHITECTURES];
