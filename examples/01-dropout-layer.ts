/**
 * The book's from-scratch `dropout_layer` (d2l 5.6.2) and the deck's quick check: X = arange(16) as 2×8
 * through p = 0, 0.5 and 1. Inverted dropout: keep each unit with probability 1 − p and scale the
 * survivors by 1/(1 − p), so E[h'] = h.
 *
 *   npx tsx examples/01-dropout-layer.ts [--quick]
 */
import { arange, dropoutLayer, manualSeed, rand, Tensor, zeros } from 'dropout-lab';

/** d2l's dropout_layer, line for line: zeros for p = 1, else mask · X / (1 − p) with mask = (U > p). */
function dropout_layer(X: Tensor, dropout: number): Tensor {
  if (!(dropout >= 0 && dropout <= 1)) throw new Error(`dropout must be in [0, 1], got ${dropout}`);
  if (dropout === 1) return zeros(X.shape);
  const mask = rand(X.shape).gt(dropout);
  return mask.mul(X).div(1 - dropout);
}

manualSeed(0);
const X = arange(16).reshape(2, 8);
console.log('X =', X.toArray());
for (const p of [0, 0.5, 1]) console.log(`dropout_p = ${p}:`, dropout_layer(X, p).toArray());

// The library's dropoutLayer is the same composition (with an exact float32 threshold and fused kernels
// elsewhere); with the same seed it draws the same uniforms.
manualSeed(0);
console.log('library dropoutLayer, p = 0.5:', dropoutLayer(X, 0.5).toArray());
