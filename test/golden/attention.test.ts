/**
 * PyTorch golden values (test/fixtures/golden-attention.json, scripts/golden_attention.py) for
 * nn.MultiheadAttention: self-attention in PyTorch's [T, N, E] layout, attention over separate key and
 * value sequences (batch first, no biases) and self-attention with dropout 0.25 on the attention
 * probabilities under a fixed mask applied identically on both sides, and cross-attention without the
 * weights (need_weights=False: the fused kernel's path), and self-attention without the weights in
 * both layouts, with and without biases (the one packed projection and `attentionPacked`). Forward (output and head-averaged weights)
 * and every gradient, on every backend of test/helpers/backends.ts; the parameters are loaded by
 * PyTorch's state-dict names, so the layout is checked too. Also the fused attention primitive
 * (ops/attention.ts's `attention`) against PyTorch's composition: a ViT block, T ≠ S with 3 heads of
 * 5, and Dv ≠ D with a given scale (values and the gradients of q, k and v), and `attentionPacked` on
 * the ViT block's q, k and v stacked into one qkv.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { getBackend, nn, setBackend, stack, tensor, tidy, type Tensor } from '../../src/index.js';
import { attention, attentionPacked } from '../../src/ops/attention.js';
import { backends } from '../helpers/backends.js';

interface Stored {
  readonly shape: number[];
  readonly data: number[];
}

interface Config {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  /** False: the case asked PyTorch for no weights (no `weights` or `gw` stored). */
  readonly needWeights?: boolean;
}

type Case = Record<string, Stored> & { config: Config };
/** A fused-attention case: q, k, v, g, out and the gradients, with the scale used. */
type FusedCase = Record<string, Stored> & { config: { scale: number } };

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/golden-attention.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const golden = Object.fromEntries(Object.entries(fixture).filter(([k]) => k.startsWith('mha_'))) as Record<
  string,
  Case
>;
const fusedGolden = Object.fromEntries(
  Object.entries(fixture).filter(([k]) => k.startsWith('fused_')),
) as Record<string, FusedCase>;

const TOL = 1e-5;
const PARAMS = ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias'];

/** The worst |Δ|/max(1, |expected|) of `actual` against `expected`, failing past TOL. */
function compare(actual: Tensor | null, expected: Stored, what: string): number {
  assert.ok(actual !== null, `${what}: missing`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  let worst = 0;
  expected.data.forEach((e, i) => {
    const d = Math.abs(a[i]! - e) / Math.max(1, Math.abs(e));
    if (d > TOL) assert.fail(`${what}[${i}]: got ${a[i]}, PyTorch ${e} (|Δ| = ${d})`);
    worst = Math.max(worst, d);
  });
  return worst;
}

/** The primitives recorded on y's tape. */
function prims(y: Tensor): Set<string> {
  const seen = new Set<Tensor>();
  const found = new Set<string>();
  const walk = (t: Tensor): void => {
    if (seen.has(t) || t.node === undefined || t.node === null) return;
    seen.add(t);
    found.add(t.node.prim);
    t.node.inputs.forEach(walk);
  };
  walk(y);
  return found;
}

/** The script's fixed mask: element i kept unless (5·i + 2) mod 8 < 2, survivors × 1/(1 − p). */
class FixedMaskAttention extends nn.MultiheadAttention {
  protected override dropAttention(probs: Tensor): Tensor {
    const scale = 1 / (1 - this.dropout);
    const mask = Array.from({ length: probs.size }, (_, i) => ((5 * i + 2) % 8 < 2 ? 0 : scale));
    return probs.mul(tensor(mask, { shape: probs.shape }));
  }
}

for (const entry of backends) {
  describe(`attention goldens on the ${entry.name} backend`, async () => {
    const backend = await entry.create();
    for (const [name, g] of Object.entries(golden)) {
      test(name, (t) => {
        const previous = getBackend();
        setBackend(backend);
        try {
          tidy(() => {
            const { embedDim, numHeads, bias, batchFirst, dropout } = g.config;
            const mha = new FixedMaskAttention(embedDim, numHeads, { bias, batchFirst, dropout });
            const params = PARAMS.filter((k) => g[k] !== undefined);
            assert.deepEqual(
              mha.namedParameters().map(([n]) => n),
              params,
              'PyTorch parameter names and order',
            );
            mha.loadStateDict(Object.fromEntries(params.map((k) => [k, g[k]!])));
            const leaf = (k: string): Tensor =>
              tensor(g[k]!.data, { shape: g[k]!.shape, requiresGrad: true });
            const query = leaf('query');
            const inputs: [string, Tensor][] = [['query', query]];
            if (g['key'] !== undefined) inputs.push(['key', leaf('key')], ['value', leaf('value')]);
            const key = inputs[1]?.[1] ?? query;
            const value = inputs[2]?.[1] ?? query;
            const needWeights = g.config.needWeights !== false;
            const { output, weights } = mha.attend(query, key, value, { needWeights });
            // Self-attention without the weights takes the one packed projection; the rest do not.
            const packedPath = !needWeights && key === query && g.config.dropout === 0;
            assert.equal(prims(output).has('attentionPacked'), packedPath, 'the packed path');
            const errors = [`out ${compare(output, g['out']!, 'out').toExponential(1)}`];
            const weigh = (y: Tensor, k: string): Tensor =>
              y.mul(tensor(g[k]!.data, { shape: g[k]!.shape })).sum();
            if (needWeights) {
              errors.push(`weights ${compare(weights, g['weights']!, 'weights').toExponential(1)}`);
              weigh(output, 'g').add(weigh(weights!, 'gw')).backward();
            } else {
              assert.equal(weights, null);
              weigh(output, 'g').backward();
            }
            const named = new Map(mha.namedParameters());
            for (const [k, x] of [...params.map((p) => [p, named.get(p)!] as const), ...inputs]) {
              errors.push(`grad_${k} ${compare(x.grad, g[`grad_${k}`]!, `grad_${k}`).toExponential(1)}`);
            }
            t.diagnostic(`max error vs PyTorch: ${errors.join(', ')}`);
          });
        } finally {
          setBackend(previous);
        }
      });
    }
  });
}

/**
 * One fused-kernel golden on `backend`: `run` builds the output from leaves q, k and v (whose gradients
 * are checked), which must come from primitive `prim`, against PyTorch's values and gradients.
 */
function checkFused(
  t: { diagnostic: (m: string) => void },
  backend: Parameters<typeof setBackend>[0],
  g: FusedCase,
  prim: string,
  run: (q: Tensor, k: Tensor, v: Tensor) => Tensor,
): void {
  const previous = getBackend();
  setBackend(backend);
  try {
    tidy(() => {
      const leaf = (k: string): Tensor => tensor(g[k]!.data, { shape: g[k]!.shape, requiresGrad: true });
      const [q, k, v] = [leaf('q'), leaf('k'), leaf('v')];
      const out = run(q, k, v);
      assert.equal(out.node?.prim, prim);
      const errors = [`out ${compare(out, g['out']!, 'out').toExponential(1)}`];
      out
        .mul(tensor(g['g']!.data, { shape: g['g']!.shape }))
        .sum()
        .backward();
      for (const [n, x] of [
        ['q', q],
        ['k', k],
        ['v', v],
      ] as const) {
        errors.push(`grad_${n} ${compare(x.grad, g[`grad_${n}`]!, `grad_${n}`).toExponential(1)}`);
      }
      t.diagnostic(`max error vs PyTorch: ${errors.join(', ')}`);
    });
  } finally {
    setBackend(previous);
  }
}

for (const entry of backends) {
  describe(`fused attention goldens on the ${entry.name} backend`, async () => {
    const backend = await entry.create();
    assert.ok(Object.keys(fusedGolden).length >= 3);
    for (const [name, g] of Object.entries(fusedGolden)) {
      test(name, (t) =>
        checkFused(t, backend, g, 'attention', (q, k, v) => attention(q, k, v, g.config.scale)),
      );
    }
  });
}

for (const entry of backends) {
  describe(`packed fused attention goldens on the ${entry.name} backend`, async () => {
    const backend = await entry.create();
    // The self-attention cases (T = S, Dv = D): q, k and v stacked into qkv [N, L, 3, H, D].
    const cases = Object.entries(fusedGolden).filter(
      ([, g]) =>
        g['q']!.shape.join() === g['k']!.shape.join() && g['k']!.shape.join() === g['v']!.shape.join(),
    );
    assert.ok(cases.length >= 1);
    for (const [name, g] of cases) {
      test(name, (t) =>
        checkFused(t, backend, g, 'attentionPacked', (q, k, v) =>
          attentionPacked(stack([q, k, v], 2), g.config.scale),
        ),
      );
    }
  });
}
