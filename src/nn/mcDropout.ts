/**
 * Monte-Carlo dropout as a first-class prediction API (Srivastava et al. 2014, §7.5 and Fig. 11;
 * Gal & Ghahramani 2016, https://arxiv.org/abs/1506.02142): average the class probabilities of T
 * forward passes with fresh dropout masks instead of one pass with the weight-scaling rule.
 * Only dropout is switched on: every other module stays in eval mode, and all modes are restored.
 */
import { ArgumentError, formatValue } from '../errors.js';
import { softmax } from '../ops/softmax.js';
import { Generator, defaultGenerator } from '../random/generator.js';
import { tensor } from '../tensor/creation.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { addRowEntropies, decomposeEntropy, withConsistentMasks } from './mcUncertainty.js';
import type { Module } from './module.js';

/** Options of `predict`. */
export interface PredictOptions {
  /** T forward passes with dropout on; omitted or 0: one pass in eval mode (weight scaling). */
  mcSamples?: number | undefined;
  /**
   * Generator for the MC masks of dropout modules that use the global generator: the global one is
   * set to a fork of it for the call (which advances it, so the next call draws fresh masks) and
   * restored afterwards. Modules built with their own generator keep drawing from it. Without
   * `generator` or `seed`, the fork is taken from the global generator itself: each call differs.
   */
  generator?: Generator | undefined;
  /** Seed of the MC masks: the same seed gives the same prediction (instead of `generator`). */
  seed?: number | undefined;
  /** Receives each pass's class probabilities [N·C] (row-major), e.g. to plot error against T. */
  onSample?: ((probs: Float32Array, index: number) => void) | undefined;
  /** Which modules count as dropout (switched to training mode); defaults to `isDropoutModule`. */
  isDropout?: ((m: Module) => boolean) | undefined;
  /** One mask per pass shared by every input (BaaL's ConsistentDropout); see `withConsistentMasks`. */
  consistent?: boolean | undefined;
}

/** What `predict` returns; the caller owns (and disposes) the tensors. */
export interface Prediction {
  /** Mean class probabilities over the passes, [N, C]. */
  readonly probs: Tensor;
  /** Predictive entropy −Σ_c p̄_c log p̄_c of the mean probabilities, [N] (nats). */
  readonly entropy: Tensor;
  /** Per-class variance of the probabilities across passes, [N, C] (zeros for one pass). */
  readonly variance: Tensor;
  /** Expected entropy (1/T) Σ_t H[p_t], the aleatoric part, [N] (nats). */
  readonly expectedEntropy: Tensor;
  /** Mutual information entropy − expectedEntropy (BALD), the epistemic part, [N] (0 for one pass). */
  readonly mutualInformation: Tensor;
  /** Number of forward passes averaged. */
  readonly samples: number;
}

/**
 * True for modules whose training flag only switches dropout on, as each module declares with
 * `trainingOnlySwitchesDropout` (Dropout and its variants, a Linear with DropConnect, and models
 * such as DropoutMLPScratch that apply dropout themselves when `this.training` is set).
 */
export function isDropoutModule(m: Module): boolean {
  return m.trainingOnlySwitchesDropout;
}

/**
 * Class probabilities of `model` on X: with `mcSamples: T`, the mean over T passes with only the
 * dropout modules in training mode, plus predictive entropy and per-class variance; otherwise one
 * deterministic eval pass (the weight-scaling rule of inverted dropout). Each call draws fresh masks
 * unless `seed` is given (see PredictOptions); every module's mode is restored, and the global
 * generator continues after the one draw its fork took. Synchronous: CPU backends.
 */
export function predict(model: Module, X: Tensor, opts: PredictOptions = {}): Prediction {
  const T = opts.mcSamples ?? 0;
  if (!(Number.isInteger(T) && T >= 0)) {
    throw new ArgumentError(
      `predict: mcSamples must be a non-negative integer, got ${formatValue(T)}; e.g. 50.`,
    );
  }
  if (opts.generator !== undefined && opts.seed !== undefined) {
    throw new ArgumentError('predict: pass either generator or seed, not both.');
  }
  const modules = model.modules();
  const modes = modules.map((m) => m.training);
  // The masks' stream: a fork advances its parent, so repeated calls never repeat themselves.
  const masks =
    T === 0
      ? null
      : opts.seed !== undefined
        ? new Generator(opts.seed)
        : (opts.generator ?? defaultGenerator).fork();
  const savedGenerator = defaultGenerator.getState();
  const isDropout = opts.isDropout ?? isDropoutModule;
  try {
    model.eval();
    if (masks !== null) {
      for (const m of modules) if (isDropout(m)) m.training = true;
      defaultGenerator.setState(masks.getState());
    }
    const passes = Math.max(T, 1);
    let sum: Float64Array | null = null;
    let sumSq: Float64Array | null = null;
    let passEntropy: Float64Array | null = null;
    let classes = 0;
    const forward = (): Tensor => model.forward(X);
    for (let t = 0; t < passes; t++) {
      const p = noGrad(() =>
        tidy(() => {
          const logits =
            T > 0 && opts.consistent ? withConsistentMasks(modules, isDropout, forward) : forward();
          classes = logits.shape[logits.ndim - 1]!;
          return softmax(logits).dataSync();
        }),
      );
      passEntropy ??= new Float64Array(p.length / classes);
      addRowEntropies(p, classes, passEntropy);
      sum ??= new Float64Array(p.length);
      sumSq ??= new Float64Array(p.length);
      for (let i = 0; i < p.length; i++) {
        sum[i]! += p[i]!;
        sumSq[i]! += p[i]! * p[i]!;
      }
      opts.onSample?.(p, t);
    }
    const n = sum!.length / classes;
    const mean = new Float32Array(sum!.length);
    const variance = new Float32Array(sum!.length);
    const entropy = new Float32Array(n);
    for (let i = 0; i < mean.length; i++) {
      const m = sum![i]! / passes;
      mean[i] = m;
      variance[i] = Math.max(0, sumSq![i]! / passes - m * m);
      if (m > 0) entropy[Math.floor(i / classes)]! -= m * Math.log(m);
    }
    const { expectedEntropy, mutualInformation } = decomposeEntropy(entropy, passEntropy!, passes);
    return {
      expectedEntropy: tensor(expectedEntropy, { shape: [n], backend: X.backend }),
      mutualInformation: tensor(mutualInformation, { shape: [n], backend: X.backend }),
      probs: tensor(mean, { shape: [n, classes], backend: X.backend }),
      entropy: tensor(entropy, { shape: [n], backend: X.backend }),
      variance: tensor(variance, { shape: [n, classes], backend: X.backend }),
      samples: passes,
    };
  } finally {
    modules.forEach((m, i) => (m.training = modes[i]!));
    defaultGenerator.setState(savedGenerator);
  }
}
