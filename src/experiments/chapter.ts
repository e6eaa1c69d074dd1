/**
 * The chapter as experiments: the deck's claims about dropout and d2l's seven Dropout exercises, each
 * a preset (groups of run changes, read epochs, a verdict templated from the measured numbers). Runs
 * that several sections need are the same runs (the same configs at the same epochs share one id),
 * so the report trains the book's two MLPs once for all of them.
 */
import type { Clarity, GroupNumbers, Preset, PresetGroup } from './preset.js';
import { ONE_SEED, clarity, find, fmt, isDifference, mean, pairedDiff, signed, versus } from './preset.js';

/** Epochs of the sections that read the book's two MLPs (norm's 50: the same runs). */
const LONG = 50;

/** The book's MLP without dropout, and with p = 0.5/0.5. */
const NONE: PresetGroup = { label: 'no dropout', config: { model: 'mlp' } };
const DROPOUT: PresetGroup = { label: 'dropout', config: { model: 'dropout-mlp' } };

/** A fifth of the way and the end (10 and 50 of 50 epochs; 1 and 2 of a quick 2). */
function fifthAndEnd(e: number): number[] {
  return [...new Set([Math.max(1, Math.round(e / 5)), e])];
}

/** The first epoch, a fifth of the way, half way and the end. */
function evolution(e: number): number[] {
  return [...new Set([1, Math.max(1, Math.round(e / 5)), Math.max(1, Math.round(e / 2)), e])];
}

/** "1 epoch", "10 epochs". */
function epochsText(n: number): string {
  return `${n} epoch${n === 1 ? '' : 's'}`;
}

/**
 * "clearly better", "slightly worse", "no better or worse (within the seed spread)"; with one seed
 * "better on its one seed" (a direction, not a judgement).
 */
function judged(diff: number, words: Clarity, better = 'better', worse = 'worse'): string {
  if (words === 'within the seed spread') return `no ${better} or ${worse} (within the seed spread)`;
  if (diff === 0) return `no ${better} or ${worse}`;
  if (words === ONE_SEED) return `${diff > 0 ? better : worse} on its one seed`;
  return `${words} ${diff > 0 ? better : worse}`;
}

/** "+0.0123 ± 0.0040 (clearly)": a paired difference in words. */
function pairedText(d: { mean: number; std: number; n: number; words: Clarity }): string {
  return `${signed(d.mean)}${d.n > 1 ? ` ± ${d.std.toFixed(4)}` : ''} (${d.words})`;
}

/** The deck: dropout beats the plain MLP and shrinks the gap between training and test loss. */
const DECK_DROPOUT: Preset = {
  name: 'deck-dropout',
  part: 'deck',
  title: 'Claim: dropout beats the plain MLP and shrinks the train/test gap',
  question:
    'The deck: "Validation accuracy is better than the plain MLP from the previous deck — the gap between train and test loss shrinks visibly." Does it, on the book\'s MLP?',
  epochs: LONG,
  groups: () => [NONE, DROPOUT],
  readAt: fifthAndEnd,
  notes:
    "The book's 784→256→256→10 MLP, lr 0.1, batch 256, plain SGD; `dropout`: p = 0.5 after each hidden layer. The book trains 10 epochs: the tables read the same runs at a fifth of the way and at the end.",
  verdict: (last, at) => {
    const e = [...at.keys()];
    const sentences = e.map((epoch) => {
      const g = at.get(epoch)!;
      const [none, drop] = [find(g, NONE.label), find(g, DROPOUT.label)];
      return `After ${epochsText(epoch)} dropout's val_acc is ${versus(drop, none, 'val_acc')}; its gap is ${versus(drop, none, 'gap_eval', 'larger', 'smaller')} in eval mode, and ${versus(drop, none, 'gap_trainmode', 'larger', 'smaller')} as the book plots it (training loss with dropout on).`;
    });
    const none = find(last, NONE.label);
    const drop = find(last, DROPOUT.label);
    const acc = pairedDiff(drop, none, 'val_acc');
    const gap = pairedDiff(drop, none, 'gap_eval');
    const better = acc.mean > 0 && isDifference(acc.words);
    const smaller = gap.mean < 0 && isDifference(gap.words);
    const holds =
      acc.words === ONE_SEED
        ? 'cannot be judged from one seed'
        : better && smaller
          ? 'holds'
          : better || smaller
            ? 'holds in part'
            : 'does not hold';
    return `${sentences.join(' ')} Paired by seed, dropout changes val_acc by ${pairedText(acc)} and the eval-mode gap by ${pairedText(gap)}: at the last epoch the deck's claim ${holds} here.`;
  },
};

/** The deck: dropout shines when capacity exceeds the data. */
const DECK_DATA: Preset = {
  name: 'deck-data',
  part: 'deck',
  title: 'Claim: dropout shines when capacity exceeds the data',
  question:
    'The deck: "Dropout shines when capacity exceeds the data." Does dropout help the same MLP more when it has a tenth of the training images?',
  epochs: LONG,
  groups: (_e, ctx) => {
    const n = ctx.trainLimit > 0 ? ctx.trainLimit : 60_000;
    const small = Math.max(32, Math.round(n / 10));
    return [
      NONE,
      DROPOUT,
      { label: `no dropout, ${small} images`, config: { model: 'mlp', trainLimit: small } },
      { label: `dropout, ${small} images`, config: { model: 'dropout-mlp', trainLimit: small } },
    ];
  },
  readAt: (e) => [e],
  notes:
    "The book's MLP with and without dropout (p = 0.5/0.5) on the report's training set and on its first tenth (the rows name the image count); the same epochs, so the small runs take a tenth of the steps.",
  verdict: (last) => {
    const [none, drop, noneSmall, dropSmall] = last;
    const full = pairedDiff(drop!, none!, 'val_acc');
    const small = pairedDiff(dropSmall!, noneSmall!, 'val_acc');
    const diff = small.mean - full.mean;
    const words = clarity(diff, Math.sqrt(full.std ** 2 + small.std ** 2), Math.min(full.n, small.n));
    const how =
      words === 'within the seed spread'
        ? 'about as much as'
        : words === ONE_SEED
          ? `${diff > 0 ? 'more' : 'less'} than the one with ten times the data on its one seed (no spread to judge by)`
          : diff > 0
            ? `${words} more than`
            : `${words} less than`;
    const than = words === ONE_SEED ? '' : ' the one with ten times the data';
    return (
      `On the full set dropout changes val_acc by ${pairedText(full)} (${fmt(drop!, 'val_acc')} vs ${fmt(none!, 'val_acc')}); on a tenth of it by ${pairedText(small)} (${fmt(dropSmall!, 'val_acc')} vs ${fmt(noneSmall!, 'val_acc')}). ` +
      `Its noise-free gap on the tenth is ${versus(dropSmall!, noneSmall!, 'gap_eval', 'larger', 'smaller')}. ` +
      `So here dropout helps the data-starved network ${how}${than}.`
    );
  },
};

/** Exercise 1: swap the two layers' dropout probabilities. */
const EX1: Preset = {
  name: 'ex1-swap',
  part: 'exercise',
  title: 'Exercise 1: swap the dropout probabilities of the two layers',
  question:
    'd2l exercise 1: "What happens if you change the dropout probabilities for the first and second layers? In particular, what happens if you switch the ones for both layers?" The deck\'s convention: less dropout on early layers, more on later ones.',
  epochs: LONG,
  groups: () => [
    { label: 'p₁=0.2, p₂=0.5', config: { model: 'dropout-mlp', dropout1: 0.2, dropout2: 0.5 } },
    { label: 'p₁=0.5, p₂=0.2', config: { model: 'dropout-mlp', dropout1: 0.5, dropout2: 0.2 } },
    { label: 'p₁=p₂=0.5', config: { model: 'dropout-mlp' } },
    NONE,
  ],
  readAt: fifthAndEnd,
  notes:
    "The book's MLP with the deck's convention (p₁ = 0.2 < p₂ = 0.5), the same rates swapped, the book's 0.5/0.5 and no dropout.",
  verdict: (last) => {
    const [conv, swapped, book, none] = last;
    const d = pairedDiff(swapped!, conv!, 'val_acc');
    return (
      `Swapped (p₁ = 0.5, p₂ = 0.2), val_acc is ${versus(swapped!, conv!, 'val_acc')}: swapping is ${judged(d.mean, d.words)} (paired by seed ${pairedText(d)}), ` +
      `so the deck's "less early, more later" convention ${d.words === ONE_SEED ? 'cannot be judged from one seed' : d.mean < 0 && isDifference(d.words) ? 'is borne out' : 'is not borne out'} here. ` +
      `The swapped network's noise-free gap is ${versus(swapped!, conv!, 'gap_eval', 'larger', 'smaller')}. ` +
      `For reference, p₁ = p₂ = 0.5 reaches ${fmt(book!, 'val_acc')} and no dropout ${fmt(none!, 'val_acc')}.`
    );
  },
};

/** Exercise 2: more epochs, dropout vs none. */
const EX2: Preset = {
  name: 'ex2-epochs',
  part: 'exercise',
  title: 'Exercise 2: more epochs, with and without dropout',
  question:
    'd2l exercise 2: "Increase the number of epochs and compare the results obtained when using dropout with those when not using it."',
  epochs: LONG,
  groups: () => [NONE, DROPOUT],
  readAt: evolution,
  curves: [{ metric: 'gap_eval', title: 'gap: val_loss − train_loss (eval mode)' }],
  notes:
    "The book's MLP with and without dropout (p = 0.5/0.5), read at the first epoch, a fifth, half way and the end of the same runs.",
  verdict: (_last, at) => {
    const epochs = [...at.keys()];
    const acc = epochs.map((e) => {
      const g = at.get(e)!;
      return { e, d: pairedDiff(find(g, DROPOUT.label), find(g, NONE.label), 'val_acc') };
    });
    const gaps = (label: string): string =>
      epochs.map((e) => fmt(find(at.get(e)!, label), 'gap_eval')).join(' → ');
    const first = acc[0]!;
    const end = acc.at(-1)!;
    const trend =
      end.d.mean > first.d.mean ? 'grows' : end.d.mean < first.d.mean ? 'shrinks' : 'stays the same';
    return (
      `Dropout's val_acc advantage (paired by seed) ${trend} with training: ${acc.map((a) => `${pairedText(a.d)} after ${a.e}`).join(', ')}. ` +
      `The noise-free gap over epochs ${epochs.join(', ')}: without dropout ${gaps(NONE.label)}, with dropout ${gaps(DROPOUT.label)}.`
    );
  },
};

/** Exercise 3: the variance of each hidden layer's activations, with and without dropout. */
const EX3: Preset = {
  name: 'ex3-variance',
  part: 'exercise',
  title: 'Exercise 3: variance of the hidden activations, with and without dropout',
  question:
    'd2l exercise 3: "What is the variance of the activations in each hidden layer when dropout is and is not applied? Draw a plot to show how this quantity evolves over time for both models."',
  epochs: LONG,
  groups: () => [NONE, DROPOUT],
  readAt: evolution,
  metrics: ['var_h1', 'var_h2', 'var_h1_masked', 'var_h2_masked', 'mean_h1', 'mean_h2'],
  curves: [
    { metric: 'var_h1', title: 'variance of hidden layer 1 (eval mode)' },
    { metric: 'var_h2', title: 'variance of hidden layer 2 (eval mode)' },
  ],
  notes:
    "`var_h1`, `var_h2`: variance of each hidden layer's ReLU outputs over all units and a fixed probe batch of 1000 training images, in eval mode (the trained network, no mask). `var_h1_masked`, `var_h2_masked`: the variance the next layer sees in training, after the inverted-dropout mask, in expectation over masks: (σ² + μ²)/(1 − p) − μ² (equal to σ² without dropout).",
  verdict: (last, at) => {
    const none = find(last, NONE.label);
    const drop = find(last, DROPOUT.label);
    const epochs = [...at.keys()];
    const path = (label: string, metric: string): string =>
      epochs.map((e) => mean(find(at.get(e)!, label), metric).toFixed(3)).join(' → ');
    const growth = (label: string, metric: string): number =>
      mean(find(at.get(epochs.at(-1)!)!, label), metric) / mean(find(at.get(epochs[0]!)!, label), metric);
    return (
      `After ${epochsText(epochs.at(-1)!)} the trained network's layer-1 variance is ${versus(drop, none, 'var_h1')} and its layer-2 variance ${versus(drop, none, 'var_h2')}. ` +
      `In training the mask multiplies what the next layer sees: ${fmt(drop, 'var_h1_masked', 3)} after layer 1 and ${fmt(drop, 'var_h2_masked', 3)} after layer 2. ` +
      `Over epochs ${epochs.join(', ')} the layer-1 variance goes ${path(NONE.label, 'var_h1')} without dropout (×${growth(NONE.label, 'var_h1').toFixed(2)}) and ${path(DROPOUT.label, 'var_h1')} with it (×${growth(DROPOUT.label, 'var_h1').toFixed(2)}); ` +
      `layer 2 goes ${path(NONE.label, 'var_h2')} without and ${path(DROPOUT.label, 'var_h2')} with.`
    );
  },
};

/** Exercise 4 (and the deck's "cheap ensemble"): why dropout is off at test time. */
const EX4: Preset = {
  name: 'ex4-test-time',
  part: 'exercise',
  title: 'Exercise 4: why dropout is not used at test time',
  question:
    'd2l exercise 4: "Why is dropout not typically used at test time?" The deck: with dropout off the full network "effectively averages exponentially many thinned subnetworks (a kind of cheap ensemble)". Compare one deterministic pass (dropout off, the weight-scaling rule) with dropout left on: one random pass, and the average of T passes (MC dropout).',
  epochs: 10,
  groups: (_e, ctx) => [
    { label: 'dropout', config: { model: 'dropout-mlp', kind: 'mc', mcSamples: ctx.samples } },
  ],
  readAt: (e) => [e],
  usesSamples: true,
  metrics: ['ws_error', 'mc1_error', 'mcT_error', 'ws_nll', 'mc_nll', 'ws_ece', 'mc_ece', 'mc_passes'],
  notes:
    "The book's dropout MLP (p = 0.5/0.5, 10 epochs), then on the test set: `ws_error` with dropout off (one deterministic pass); `mc1_error` with dropout on for one pass (what keeping it on at test time gives); `mcT_error` the average of the probabilities of `mc_passes` passes with fresh masks (MC dropout); NLL and ECE (15 bins) of the weight-scaled and the MC-averaged predictions.",
  verdict: (last) => {
    const g = last[0]!;
    const as = (label: string, metric: string): GroupNumbers => ({
      label,
      metrics: { error: g.metrics[metric] ?? [] },
    });
    const ws = as('weight scaling', 'ws_error');
    const one = as('one pass with dropout on', 'mc1_error');
    const avg = as('MC average', 'mcT_error');
    const T = mean(g, 'mc_passes');
    const oneVsWs = pairedDiff(one, ws, 'error');
    const avgVsWs = pairedDiff(avg, ws, 'error');
    const nll = pairedDiff(
      { label: 'mc', metrics: { v: g.metrics['mc_nll'] ?? [] } },
      { label: 'ws', metrics: { v: g.metrics['ws_nll'] ?? [] } },
      'v',
    );
    return (
      `Left on at test time, one pass with dropout errs on ${fmt(one, 'error')} of the test images against ${fmt(ws, 'error')} with it off: ${judged(-oneVsWs.mean, oneVsWs.words)} by ${pairedText(oneVsWs)} (paired by seed), and its answer changes from pass to pass. ` +
      `Averaging T = ${T} passes gives ${fmt(avg, 'error')}, ${judged(-avgVsWs.mean, avgVsWs.words)} than the single deterministic pass by ${pairedText(avgVsWs)}, at ${T} times the cost; its NLL differs by ${pairedText(nll)} (${fmt(g, 'mc_nll')} vs ${fmt(g, 'ws_nll')}). ` +
      (avgVsWs.words === ONE_SEED
        ? `One seed gives no spread to say whether the deterministic pass is as good as the ensemble; it costs one pass instead of ${T}, which is why dropout is off at test time (MC dropout keeps it on only to measure uncertainty).`
        : `So the deterministic pass ${!isDifference(avgVsWs.words) || avgVsWs.mean > 0 ? 'is as good as the ensemble it approximates, for one pass' : 'trails the MC ensemble here, but at one pass instead of ' + String(T)}: that is why dropout is off at test time (MC dropout keeps it on only to measure uncertainty).`)
    );
  },
};

/** Exercise 5: dropout and weight decay, alone and together. */
const WD = 0.001;
const EX5: Preset = {
  name: 'ex5-weight-decay',
  part: 'exercise',
  title: 'Exercise 5: dropout vs weight decay, and both together',
  question:
    'd2l exercise 5: "Compare the effects of using dropout and weight decay in fully connected models. What happens when dropout and weight decay are used at the same time? Are the results additive? Are there diminished returns (or worse)? Do they cancel each other out?"',
  epochs: LONG,
  groups: () => [
    NONE,
    DROPOUT,
    { label: `weight decay λ=${WD}`, config: { model: 'mlp', weightDecay: WD } },
    { label: `dropout + weight decay λ=${WD}`, config: { model: 'dropout-mlp', weightDecay: WD } },
  ],
  readAt: fifthAndEnd,
  notes: `The book's MLP with neither, dropout (p = 0.5/0.5), L2 weight decay λ = ${WD} (added to the gradient) and both. The gains are val_acc differences from no regulariser, paired by seed.`,
  verdict: (last) => {
    const [none, drop, wd, both] = last;
    const gd = pairedDiff(drop!, none!, 'val_acc');
    const gw = pairedDiff(wd!, none!, 'val_acc');
    const gb = pairedDiff(both!, none!, 'val_acc');
    const excess = gb.mean - (gd.mean + gw.mean);
    const spread = Math.sqrt(gb.std ** 2 + gd.std ** 2 + gw.std ** 2);
    const words = clarity(excess, spread, Math.min(gb.n, gd.n, gw.n));
    const kind =
      words === 'within the seed spread'
        ? 'additive within the seed spread'
        : words === ONE_SEED
          ? `${excess < 0 ? 'less' : 'more'} than additive on its one seed (no spread to judge by)`
          : excess < 0
            ? gb.mean < Math.max(gd.mean, gw.mean)
              ? `worse than the better one alone (${words}): they partly cancel`
              : `diminishing returns (${words})`
            : `more than additive (${words})`;
    return (
      `Against no regulariser (${fmt(none!, 'val_acc')}), dropout changes val_acc by ${pairedText(gd)}, weight decay by ${pairedText(gw)} and both by ${pairedText(gb)}. ` +
      `The sum of the separate gains is ${signed(gd.mean + gw.mean)}, the combined gain ${signed(gb.mean)}: ${kind}. ` +
      `Noise-free gaps: ${[drop!, wd!, both!].map((g) => `${g.label} ${fmt(g, 'gap_eval')}`).join(', ')}, none ${fmt(none!, 'gap_eval')}.`
    );
  },
};

/** Exercise 6: dropout on the weights (DropConnect) rather than the activations. */
const EX6: Preset = {
  name: 'ex6-dropconnect',
  part: 'exercise',
  title: 'Exercise 6: dropping weights (DropConnect) instead of activations',
  question:
    'd2l exercise 6: "What happens if we apply dropout to the individual weights of the weight matrix rather than the activations?"',
  epochs: LONG,
  groups: () => [
    NONE,
    DROPOUT,
    {
      label: 'DropConnect 0.5',
      config: { model: 'dropout-mlp', dropout1: 0, dropout2: 0, dropConnect: 0.5 },
    },
  ],
  readAt: fifthAndEnd,
  notes:
    "The book's MLP with no noise, dropout p = 0.5 on the activations, and DropConnect (Wan et al. 2013): each weight of the two hidden Linear layers dropped with rate 0.5 (a fresh mask per step, inverted scaling), no activation dropout.",
  verdict: (last) => {
    const [none, drop, dc] = last;
    return (
      `DropConnect's val_acc is ${versus(dc!, drop!, 'val_acc')} and ${versus(dc!, none!, 'val_acc')}. ` +
      `Its noise-free gap is ${versus(dc!, drop!, 'gap_eval', 'larger', 'smaller')}, and ${versus(dc!, none!, 'gap_eval', 'larger', 'smaller')}; ` +
      `its training loss (eval mode) is ${versus(dc!, drop!, 'train_loss_eval')}.`
    );
  },
};

/** Exercise 7: another way to inject noise at each layer. */
const EX7: Preset = {
  name: 'ex7-noise',
  part: 'exercise',
  title: 'Exercise 7: another noise at each layer (Gaussian multiplicative noise)',
  question:
    'd2l exercise 7: "Invent another technique for injecting random noise at each layer that is different from the standard dropout technique. Can you develop a method that outperforms dropout on the Fashion-MNIST dataset (for a fixed architecture)?" Here: multiply each hidden unit by Gaussian noise N(1, p/(1 − p)) instead of a Bernoulli mask.',
  epochs: LONG,
  groups: () => [
    NONE,
    DROPOUT,
    { label: 'Gaussian noise', config: { model: 'dropout-mlp', variant: 'gaussian' } },
  ],
  readAt: fifthAndEnd,
  notes:
    "The book's MLP with no noise, Bernoulli dropout p = 0.5/0.5, and Gaussian multiplicative noise with the same mean (1) and variance (p/(1 − p) = 1) as the inverted-dropout mask (Srivastava et al. 2014, §10), at the same places.",
  verdict: (last) => {
    const [none, drop, gauss] = last;
    const d = pairedDiff(gauss!, drop!, 'val_acc');
    return (
      `Gaussian noise reaches a val_acc ${versus(gauss!, drop!, 'val_acc')} and ${versus(gauss!, none!, 'val_acc')}. ` +
      `Paired by seed it is ${judged(d.mean, d.words)} than dropout by ${pairedText(d)}: ${d.words === ONE_SEED ? 'whether it outperforms dropout cannot be judged from one seed' : d.mean > 0 && isDifference(d.words) ? 'it outperforms dropout' : 'it does not outperform dropout'} here. ` +
      `Its noise-free gap is ${versus(gauss!, drop!, 'gap_eval', 'larger', 'smaller')}.`
    );
  },
};

/** The deck's claims, then the book's exercises, in report order. */
export const CHAPTER_PRESETS: readonly Preset[] = [
  DECK_DROPOUT,
  DECK_DATA,
  EX1,
  EX2,
  EX3,
  EX4,
  EX5,
  EX6,
  EX7,
];
