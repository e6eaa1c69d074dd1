/**
 * nn.MultiheadAttention with PyTorch's parameter layout and semantics (torch.nn.MultiheadAttention,
 * F.multi_head_attention_forward): one packed input projection in_proj_weight [3E, E] (rows: the
 * query, key and value projections) and in_proj_bias [3E], an output projection out_proj (a Linear
 * E → E); numHeads heads of E / numHeads dimensions each attend with scaled dot products, dropout
 * acts on the attention probabilities while training, and the weights returned are the probabilities
 * (after dropout) averaged over heads. Inputs are [T, N, E] by default, [N, T, E] with batchFirst.
 * Without the weights (needWeights false: `forward`, the ViT's call) and with no dropout applied to the
 * probabilities (dropout 0, or eval mode), the heads attend in one fused kernel each way
 * (ops/attention.ts's `attention`) on the projections as they lie; otherwise by the composition. Self-
 * attention on that path (query, key and value the same tensor) projects with one GEMM on the whole
 * packed weight and attends on its output in place (`attentionPacked`).
 */
import { checkOptions } from '../tensor/options.js';
import { ArgumentError, ShapeError, formatShape, formatValue } from '../errors.js';
import { attention, attentionComposed, attentionPacked } from '../ops/attention.js';
import { applyDropout, checkDropoutP } from '../ops/dropout.js';
import { linear } from '../ops/linear.js';
import { defaultGenerator, type Generator } from '../random/generator.js';
import { rand, zeros } from '../tensor/creation.js';
import { getBackend, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { Linear, type LayerRandomOptions } from './layers.js';
import { Module } from './module.js';

/** Options of nn.MultiheadAttention (PyTorch's names). */
export interface MultiheadAttentionOptions extends LayerRandomOptions {
  /** Dropout probability on the attention probabilities while training (default 0). */
  dropout?: number | undefined;
  /** Biases in the input and output projections (default true). */
  bias?: boolean | undefined;
  /** Inputs and output are [batch, sequence, embed] (true) or [sequence, batch, embed] (false, default). */
  batchFirst?: boolean | undefined;
}

/** Options of one attention call. */
export interface AttendOptions {
  /** Return the attention weights (default true); false skips their head average (PyTorch's need_weights). */
  needWeights?: boolean | undefined;
  /** Average the returned weights over heads (default true); false returns [N, heads, T, S]. */
  averageAttnWeights?: boolean | undefined;
}

/** Multi-head scaled dot-product attention (Vaswani et al. 2017); see the file comment. */
export class MultiheadAttention extends Module {
  /** The packed query/key/value projection [3E, E] (PyTorch's in_proj_weight). */
  readonly inProjWeight: Tensor;
  /** Its bias [3E] (in_proj_bias), or null with bias false. */
  readonly inProjBias: Tensor | null;
  /** The output projection E → E (out_proj). */
  readonly outProj: Linear;
  /** Dimensions per head: embedDim / numHeads. */
  readonly headDim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  private readonly generator: Generator;

  /** `numHeads` heads over `embedDim` features (embedDim divisible by numHeads), initialised as PyTorch. */
  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    opts: MultiheadAttentionOptions = {},
  ) {
    super();
    checkOptions('MultiheadAttention', opts, ['dropout', 'bias', 'batchFirst', 'generator'], {
      addBiasKv: 'not implemented; remove addBiasKv',
      addZeroAttn: 'not implemented; remove addZeroAttn',
      kdim: 'keys must have embedDim features here; project them first',
      vdim: 'values must have embedDim features here; project them first',
      batch_first: "the option is spelt 'batchFirst'",
    });
    for (const [name, v] of [
      ['embedDim', embedDim],
      ['numHeads', numHeads],
    ] as const) {
      if (!(Number.isInteger(v) && v > 0)) {
        throw new ArgumentError(
          `MultiheadAttention: ${name} must be a positive integer, got ${formatValue(v)}.`,
        );
      }
    }
    if (embedDim % numHeads !== 0) {
      throw new ArgumentError(
        `MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}; e.g. 64 and 4.`,
      );
    }
    this.headDim = embedDim / numHeads;
    this.dropout = opts.dropout ?? 0;
    checkDropoutP(this.dropout, 'MultiheadAttention dropout');
    this.batchFirst = opts.batchFirst ?? false;
    this.generator = opts.generator ?? defaultGenerator;
    const E = embedDim;
    // xavier_uniform_ on [3E, E] (fan in E, fan out 3E), zero biases: PyTorch's _reset_parameters.
    const bound = Math.sqrt(6 / (E + 3 * E));
    const backend = getBackend();
    const w = tidy(() =>
      rand([3 * E, E], { generator: this.generator, backend })
        .mul(2 * bound)
        .sub(bound),
    );
    this.inProjWeight = this.registerParameter('in_proj_weight', w)!;
    this.inProjBias =
      opts.bias === false ? null : this.registerParameter('in_proj_bias', zeros([3 * E], { backend }));
    this.outProj = this.registerModule(
      'out_proj',
      new Linear(E, E, { bias: opts.bias !== false, generator: this.generator }),
    );
    const outBias = this.outProj.bias;
    // PyTorch zeroes out_proj.bias after Linear's own initialisation.
    if (outBias !== null) outBias.backend.fill(outBias.id, outBias.size, 0);
  }

  /** Training mode only switches the attention dropout (when it is on). */
  override get trainingOnlySwitchesDropout(): boolean {
    return this.dropout > 0;
  }

  /** Self-attention: the output of `attend(X, X, X)` (the weights are not needed). */
  override forward(X: Tensor): Tensor {
    return this.attend(X, X, X, { needWeights: false }).output;
  }

  /**
   * Attention of `query` [T, N, E] over `key` [S, N, E] and `value` [S, N, E] ([N, T, E] … with
   * batchFirst). Returns the output (query's layout) and the attention weights [N, T, S] averaged
   * over heads (or [N, heads, T, S]; null with needWeights false).
   */
  attend(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    opts?: AttendOptions & { needWeights?: true },
  ): { output: Tensor; weights: Tensor };
  /** With needWeights false the weights are skipped (null). */
  attend(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    opts: AttendOptions,
  ): { output: Tensor; weights: Tensor | null };
  attend(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    opts: AttendOptions = {},
  ): { output: Tensor; weights: Tensor | null } {
    const E = this.embedDim;
    const H = this.numHeads;
    const D = this.headDim;
    const toBatchFirst = (x: Tensor, what: string): Tensor => {
      if (x.ndim !== 3 || x.shape[2] !== E) {
        throw new ShapeError(
          `MultiheadAttention(${E}, ${H}): ${what} must be ${this.batchFirst ? '[batch, sequence, embed]' : '[sequence, batch, embed]'} with embed ${E}, got ${formatShape(x.shape)}.`,
        );
      }
      return this.batchFirst ? x : x.permute([1, 0, 2]);
    };
    const q0 = toBatchFirst(query, 'query');
    const [N, T] = q0.shape as [number, number];
    const k0 = key === query ? q0 : toBatchFirst(key, 'key');
    const v0 = value === key ? k0 : toBatchFirst(value, 'value');
    const S = k0.shape[1]!;
    if (N === 0 || T === 0 || S === 0) {
      throw new ShapeError(
        `MultiheadAttention: empty input (batch ${N}, query length ${T}, key length ${S}); attention needs at least one example, query and key position.`,
      );
    }
    if (k0.shape[0] !== N || v0.shape[0] !== N || v0.shape[1] !== S) {
      throw new ShapeError(
        `MultiheadAttention: query, key and value must share the batch size and key/value the sequence length; got ${formatShape(query.shape)}, ${formatShape(key.shape)}, ${formatShape(value.shape)}.`,
      );
    }
    const dropping = this.dropout > 0 && this.training;
    const fused = opts.needWeights === false && !dropping;
    let merged: Tensor;
    let weights: Tensor | null = null;
    if (fused && query === key && key === value) {
      // Self-attention: one GEMM with the whole packed weight (PyTorch's _in_projection_packed) gives
      // [N·T, 3E] = [N, T, 3, H, D] as it lies, and the fused kernel reads q, k and v from it in place;
      // backward, one dX and one dW product instead of three each, and no weight thirds copied.
      const qkv = linear(q0.reshape([N * T, E]), this.inProjWeight, this.inProjBias).reshape([N, T, 3, H, D]);
      merged = attentionPacked(qkv, 1 / Math.sqrt(D)).reshape([N * T, E]);
    } else {
      // Each input with its third of the packed weight and bias (PyTorch's _in_projection): query, key
      // and value differ, or the probabilities are needed (the composition's head permutes copy anyway).
      const w = this.inProjWeight.reshape([3, E * E]);
      const b = this.inProjBias?.reshape([3, E]);
      // Projected to [N, L, H, D]: the linear output [N·L, E] as it lies, heads split by a view.
      const project = (x: Tensor, L: number, i: number): Tensor =>
        linear(x.reshape([N * L, E]), w.select(0, i).reshape([E, E]), b ? b.select(0, i) : null).reshape([
          N,
          L,
          H,
          D,
        ]);
      const q = project(q0, T, 0);
      const k = project(k0, S, 1);
      const v = project(v0, S, 2);
      if (fused) {
        // The fused kernel: no head permutes, no probabilities handed out.
        merged = attention(q, k, v, 1 / Math.sqrt(D)).reshape([N * T, E]);
      } else {
        // Dropout on the probabilities, or the probabilities asked for: the composition.
        const composed = attentionComposed(q, k, v, 1 / Math.sqrt(D), {
          dropProbabilities: dropping ? (probs) => this.dropAttention(probs) : undefined,
        });
        merged = composed.output.reshape([N * T, E]);
        weights = composed.weights;
      }
    }
    const out = this.outProj.forward(merged).reshape([N, T, E]);
    const output = this.batchFirst ? out : out.permute([1, 0, 2]);
    if (opts.needWeights === false || weights === null) return { output, weights: null };
    const perHead = weights.reshape([N, H, T, S]);
    return { output, weights: opts.averageAttnWeights === false ? perHead : perHead.mean(1) };
  }

  /**
   * Dropout on the attention probabilities [N·heads, T, S] (called while training with dropout > 0).
   * A subclass may override it, e.g. to record which weights were dropped or to apply a fixed mask.
   */
  protected dropAttention(probs: Tensor): Tensor {
    // Dropped as [N, heads, T, S] (a view), so the noise tap sees each example's heads; same draw.
    const [nh, t, s] = probs.shape as [number, number, number];
    const heads = probs.reshape([nh / this.numHeads, this.numHeads, t, s]);
    return applyDropout(heads, this.dropout, true, this.generator).reshape([nh, t, s]);
  }
}
