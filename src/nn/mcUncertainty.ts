/**
 * The two extras of MC dropout prediction (used by `predict`, src/nn/mcDropout.ts):
 * - the split of predictive entropy H[p̄] into expected entropy E_t H[p_t] (aleatoric) and mutual
 *   information H[p̄] − E_t H[p_t] (epistemic; BALD, Houlsby et al. 2011, https://arxiv.org/abs/1112.5745;
 *   Gal, Islam & Ghahramani 2017, https://arxiv.org/abs/1703.02910);
 * - consistent masks: pass t uses one mask for every input, as BaaL's ConsistentDropout, so the T
 *   sampled networks are the same for every example (and for every call with the same generator).
 */
import { ArgumentError } from '../errors.js';
import { broadcastDropout } from '../ops/dropoutVariants.js';
import type { Tensor } from '../tensor/tensor.js';
import { Dropout, Linear } from './layers.js';
import type { Module } from './module.js';

/** Adds each row's entropy −Σ_c p_c log p_c (nats) of row-major probabilities [N·C] into `acc` [N]. */
export function addRowEntropies(probs: Float32Array, classes: number, acc: Float64Array): void {
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    if (p > 0) acc[Math.floor(i / classes)]! -= p * Math.log(p);
  }
}

/**
 * Expected entropy (the mean of the passes' entropies) and mutual information H[p̄] − E_t H[p_t] ≥ 0
 * (Jensen; clamped at 0 against rounding), from the predictive entropy and the summed pass entropies.
 */
export function decomposeEntropy(
  entropy: Float32Array,
  passEntropySum: Float64Array,
  passes: number,
): { expectedEntropy: Float32Array; mutualInformation: Float32Array } {
  const expectedEntropy = new Float32Array(entropy.length);
  const mutualInformation = new Float32Array(entropy.length);
  for (let i = 0; i < entropy.length; i++) {
    const e = passEntropySum[i]! / passes;
    expectedEntropy[i] = e;
    mutualInformation[i] = Math.max(0, entropy[i]! - e);
  }
  return { expectedEntropy, mutualInformation };
}

/**
 * Runs `fn` with every dropout module drawing one mask per forward pass shared by all inputs:
 * nn.Dropout draws a [1, …] mask broadcast over the batch (from its own generator, else the global
 * one); a Linear with DropConnect already drops one weight mask for the whole batch. Other dropout
 * kinds are refused rather than silently sampled per input. The override is an own `forward` on
 * the instance, removed in `finally`, so the layer classes stay untouched.
 */
export function withConsistentMasks<T>(
  modules: readonly Module[],
  isDropout: (m: Module) => boolean,
  fn: () => T,
): T {
  const patched: Dropout[] = [];
  try {
    for (const m of modules) {
      if (!isDropout(m) || (m instanceof Linear && (m.opts.dropConnect ?? 0) > 0)) continue;
      if (!(m instanceof Dropout)) {
        throw new ArgumentError(
          `predict: consistent masks support nn.Dropout and DropConnect layers, not ${m.constructor.name}; ` +
            'build the model with nn.Dropout or drop { consistent: true }.',
        );
      }
      const layer = m;
      layer.forward = (X: Tensor): Tensor =>
        broadcastDropout(X, layer.p, {
          training: layer.training,
          noiseShape: X.shape.map((_, i) => (i === 0 ? 1 : null)),
          ...(layer.generator ? { generator: layer.generator } : {}),
        });
      patched.push(layer);
    }
    return fn();
  } finally {
    // Deleting the own property uncovers the prototype's forward again.
    for (const layer of patched) delete (layer as { forward?: unknown }).forward;
  }
}
