/**
 * The experiments as data: the deck's claims and the book's seven exercises (chapter.ts), then the
 * three beyond the deck here (norm, schedule, rdrop). Each trains labelled groups of run changes, is
 * read at some epochs, and writes a verdict from the measured means and standard deviations
 * (templated from the numbers, never fixed text). `dropout-lab experiment NAME` runs one;
 * `dropout-lab report` runs them all.
 */
import type { RunConfig } from '../run/config.js';
import { ARCHITECTURE_PRESETS } from './architectures.js';
import { CHAPTER_PRESETS } from './chapter.js';
import { best, find, fmt, mean, versus, type Preset, type PresetGroup } from './preset.js';

export { compareGroups, type GroupNumbers, type Preset, type PresetGroup } from './preset.js';

/** BatchNorm vs dropout vs both, with the variance shift. */
const NORM: Preset = {
  name: 'norm',
  part: 'beyond',
  title: 'BatchNorm / LayerNorm vs dropout vs both',
  question:
    'Does normalisation give the regularisation of dropout "for free" (the deck), and does dropout before BatchNorm shift the variance BatchNorm sees between training and evaluation (Li et al. 2019)?',
  epochs: 50,
  groups: () => [
    { label: 'mlp', config: { model: 'mlp' } },
    { label: 'dropout-mlp', config: { model: 'dropout-mlp' } },
    { label: 'mlp-bn', config: { model: 'mlp-bn' } },
    { label: 'dropout-mlp-bn', config: { model: 'dropout-mlp-bn' } },
    { label: 'dropout-mlp-bn-after', config: { model: 'dropout-mlp-bn-after' } },
    { label: 'mlp-ln', config: { model: 'mlp-ln' } },
    { label: 'dropout-mlp-ln', config: { model: 'dropout-mlp-ln' } },
  ],
  readAt: (e) => [...new Set([Math.min(10, e), e])],
  notes:
    "The book's 784→256→256→10 MLP, p = 0.5/0.5 where there is dropout, lr 0.1, batch 256, plain SGD. `dropout-mlp-bn` puts dropout after each hidden ReLU, so the first dropout feeds the second BatchNorm; `dropout-mlp-bn-after` drops only after the last BatchNorm (p₂). `shift_bn2` = the second BatchNorm's input variance in evaluation ÷ in training (1 = no shift).",
  verdict: (groups) => {
    const plain = find(groups, 'mlp');
    const drop = find(groups, 'dropout-mlp');
    const bn = find(groups, 'mlp-bn');
    const both = find(groups, 'dropout-mlp-bn');
    const after = find(groups, 'dropout-mlp-bn-after');
    const top = best(groups, 'val_acc');
    const [gBn, gDrop, gPlain] = [bn, drop, plain].map((g) => mean(g, 'gap_eval'));
    const gapWords =
      gBn! > Math.max(gDrop!, gPlain!)
        ? "larger than both the plain MLP's and dropout's"
        : Math.abs(gBn! - gDrop!) < Math.abs(gBn! - gPlain!)
          ? "closer to dropout's"
          : "closer to the plain MLP's";
    // A gap larger than both is no regularisation, however near dropout's it lies.
    const regularises =
      gBn! <= gDrop! || (gBn! <= gPlain! && Math.abs(gBn! - gDrop!) < Math.abs(gBn! - gPlain!));
    const shift = mean(both, 'shift_bn2');
    const shiftAfter = mean(after, 'shift_bn2');
    return [
      `The best validation accuracy is ${top.label}'s (${fmt(top, 'val_acc')}).`,
      `BatchNorm alone (mlp-bn) reaches a val_acc ${versus(bn, drop, 'val_acc')}.`,
      `Its noise-free gap (val_loss − train_loss in eval mode) is ${fmt(bn, 'gap_eval')}, ${gapWords} (${fmt(drop, 'gap_eval')} with dropout, ${fmt(plain, 'gap_eval')} without): ${regularises ? 'here BatchNorm does regularise much like dropout' : 'here BatchNorm does not replace the regularisation of dropout'}.`,
      `With dropout before BatchNorm the second BatchNorm sees in evaluation ${(shift * 100).toFixed(1)}% of the input variance it sees in training (${fmt(both, 'shift_bn2', 3)}); with dropout only after the last BatchNorm, ${(shiftAfter * 100).toFixed(1)}% (${fmt(after, 'shift_bn2', 3)}), and without dropout ${(mean(bn, 'shift_bn2') * 100).toFixed(1)}%.`,
      `Combining them, the disharmony order's val_acc is ${versus(both, after, 'val_acc')}, and ${versus(both, bn, 'val_acc')}.`,
    ].join(' ');
  },
};

/** Early/late dropout on the book's MLP and on an under-fitting one. */
const SCHEDULE: Preset = {
  name: 'schedule',
  part: 'beyond',
  title: 'Early and late dropout (Liu et al. 2023)',
  question:
    'Does early dropout (on for the first epochs, then off) lower the final training loss and help validation of an under-fitting model, as Liu et al. report, and late dropout help an over-fitting one?',
  epochs: 20,
  groups: (epochs: number) => {
    const cutoff = Math.max(1, Math.round(epochs / 4));
    const net = (name: string, sizes: Partial<RunConfig>, p: number): PresetGroup[] => [
      { label: `${name} none`, config: { ...sizes, dropout1: 0, dropout2: 0 } },
      { label: `${name} standard`, config: { ...sizes, dropout1: p, dropout2: p } },
      {
        label: `${name} early`,
        config: { ...sizes, dropout1: p, dropout2: p, dropMode: 'early', cutoffEpoch: cutoff },
      },
      {
        label: `${name} late`,
        config: { ...sizes, dropout1: p, dropout2: p, dropMode: 'late', cutoffEpoch: cutoff },
      },
    ];
    return [...net('book', {}, 0.5), ...net('small', { numHiddens1: 64, numHiddens2: 64 }, 0.1)];
  },
  readAt: (e) => [e],
  notes:
    "`book`: the book's 784→256→256→10 MLP at p = 0.5; `small`: an under-fitting 784→64→64→10 MLP at p = 0.1 (Liu et al. use small rates for early dropout). `early`: dropout for the first quarter of the epochs (the cutoff), then none; `late`: none until the cutoff, then dropout; `none`: p = 0 throughout.",
  verdict: (groups) =>
    ['book', 'small']
      .map((net) => {
        const none = find(groups, `${net} none`);
        const std = find(groups, `${net} standard`);
        const early = find(groups, `${net} early`);
        const late = find(groups, `${net} late`);
        return (
          `On the ${net} MLP, early dropout ends with a training loss (eval mode) ${versus(early, none, 'train_loss_eval')}, ` +
          `and a val_acc ${versus(early, none, 'val_acc')}; against standard dropout its val_acc is ${versus(early, std, 'val_acc')}. ` +
          `Late dropout's val_acc is ${versus(late, none, 'val_acc')}.`
        );
      })
      .join(' '),
};

/** R-Drop vs dropout vs none. */
const RDROP: Preset = {
  name: 'rdrop',
  part: 'beyond',
  title: 'R-Drop vs dropout vs none (Liang et al. 2021)',
  question:
    "Does R-Drop (two dropout passes per batch, loss = CE + α·symmetric KL) improve on plain dropout at the book's settings?",
  epochs: 10,
  groups: () => [
    { label: 'none', config: { model: 'mlp' } },
    { label: 'dropout', config: { model: 'dropout-mlp' } },
    { label: 'R-Drop α=1', config: { model: 'dropout-mlp', rdropAlpha: 1 } },
  ],
  readAt: (e) => [e],
  notes:
    "The book's MLP at p = 0.5/0.5; R-Drop trains on both passes' cross-entropy plus α = 1 times their symmetric KL (averaged over the batch), so each step costs two forward and backward passes.",
  verdict: (groups) => {
    const none = find(groups, 'none');
    const drop = find(groups, 'dropout');
    const rdrop = find(groups, 'R-Drop α=1');
    return (
      `R-Drop's val_acc is ${versus(rdrop, drop, 'val_acc')} and ${versus(rdrop, none, 'val_acc')}. ` +
      `Its noise-free gap is ${versus(rdrop, drop, 'gap_eval', 'larger', 'smaller')}.`
    );
  },
};

/** The presets by name, in report order: the deck's claims, the book's exercises, then beyond the deck. */
export const PRESETS: Readonly<Record<string, Preset>> = {
  ...Object.fromEntries(CHAPTER_PRESETS.map((p) => [p.name, p])),
  norm: NORM,
  schedule: SCHEDULE,
  rdrop: RDROP,
  ...Object.fromEntries(ARCHITECTURE_PRESETS.map((p) => [p.name, p])),
};

/** The preset names, in report order. */
export const PRESET_NAMES = Object.keys(PRESETS);
