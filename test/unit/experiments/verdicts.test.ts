/**
 * Verdicts judge a difference against the seeds' spread: with one seed there is none, so no
 * "clearly"/"slightly" (issue 29.4: `experiment deck-dropout --seeds 1` said "(clearly)" and, in the same
 * sentence, "(slightly)").
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PRESETS } from '../../../src/experiments/presets.js';
import {
  ONE_SEED,
  clarity,
  compareGroups,
  pairedDiff,
  versus,
  type GroupNumbers,
} from '../../../src/experiments/preset.js';

/** The two groups of deck-dropout with `seeds` seeds: dropout ahead by 0.05 on every seed. */
function deckGroups(seeds: number): GroupNumbers[] {
  const noise = (i: number): number => 0.001 * (i % 3);
  const of = (base: number, gapBase: number): Record<string, number[]> => {
    const xs = Array.from({ length: seeds }, (_, i) => i);
    return {
      val_acc: xs.map((i) => base + noise(i)),
      gap_eval: xs.map((i) => gapBase + noise(i)),
      gap_trainmode: xs.map((i) => gapBase - 0.01 + noise(i)),
    };
  };
  return [
    { label: 'no dropout', metrics: of(0.1641, 0.05) },
    { label: 'dropout', metrics: of(0.2109, 0.02) },
  ];
}

test('clarity: fewer than 2 seeds is no spread to judge by, whatever the difference', () => {
  assert.equal(clarity(0.5, 0, 1), ONE_SEED);
  assert.equal(clarity(0.5, 0, 0), ONE_SEED);
  assert.equal(clarity(0.5, 0.1, 2), 'clearly');
  assert.equal(clarity(0.15, 0.1, 3), 'slightly');
  assert.equal(clarity(0.05, 0.1, 3), 'within the seed spread');
});

test('compareGroups, pairedDiff and versus say "one seed" for single-seed groups', () => {
  const [none, drop] = deckGroups(1) as [GroupNumbers, GroupNumbers];
  assert.equal(compareGroups(drop, none, 'val_acc').words, ONE_SEED);
  assert.equal(pairedDiff(drop, none, 'val_acc').words, ONE_SEED);
  assert.equal(versus(drop, none, 'val_acc'), `higher than no dropout's: 0.2109 vs 0.1641 (${ONE_SEED})`);
  // One group of several seeds against one of a single seed: still one seed to pair.
  const many = deckGroups(3)[1]!;
  assert.equal(compareGroups(many, none, 'val_acc').words, ONE_SEED);
});

test('deck-dropout with one seed: neither "clearly" nor "slightly", and no verdict on the claim', () => {
  const preset = PRESETS['deck-dropout']!;
  const groups = deckGroups(1);
  const text = preset.verdict(groups, new Map([[2, groups]]));
  assert.doesNotMatch(text, /clearly|slightly/, text);
  assert.match(text, new RegExp(ONE_SEED));
  assert.match(text, /cannot be judged from one seed/);
  assert.doesNotMatch(text, /claim (holds|does not hold)/);
});

test('deck-dropout with three seeds still judges against the spread', () => {
  const preset = PRESETS['deck-dropout']!;
  const groups = deckGroups(3);
  const text = preset.verdict(groups, new Map([[2, groups]]));
  assert.match(text, /\(clearly\)/, text);
  assert.doesNotMatch(text, new RegExp(ONE_SEED));
  assert.match(text, /the deck's claim holds here/);
});

test('every preset verdict with one seed per group avoids "clearly" and "slightly"', () => {
  for (const [name, preset] of Object.entries(PRESETS)) {
    const labels = preset.groups(preset.epochs, { trainLimit: 4096, samples: 8 }).map((g) => g.label);
    const metrics = [
      'val_acc',
      'gap_eval',
      'gap_trainmode',
      'train_loss_eval',
      'var_h1',
      'var_h2',
      'shift_bn2',
      'ws_error',
      'mc1_error',
      'mcT_error',
      'mc_nll',
      'ws_nll',
      'mc_passes',
    ];
    const groups: GroupNumbers[] = labels.map((label, i) => ({
      label,
      metrics: Object.fromEntries(metrics.map((m, j) => [m, [0.1 + 0.07 * i + 0.01 * j]])),
    }));
    const at = new Map(preset.readAt(preset.epochs).map((e) => [e, groups]));
    const text = preset.verdict(groups, at);
    assert.doesNotMatch(text, /clearly|slightly/, `${name}: ${text}`);
  }
});
