/**
 * A tiny Vision Transformer (Dosovitskiy et al. 2021, https://arxiv.org/abs/2010.11929) for 28×28
 * Fashion-MNIST: a patch embedding (Conv2d 1 → width with a 7×7 kernel and stride 7: 16 tokens), a
 * learned class token and position embedding, `depth` pre-norm Transformer encoder blocks, a final
 * LayerNorm and a linear head on the class token (or on the mean of the tokens). Each block is
 *   x = x + DropPath(Dropout(MHA(LN₁(x))))   and   x = x + DropPath(Dropout(fc₂(GELU(fc₁(LN₂(x)))))),
 * with dropout `dropout` on the attention probabilities (inside nn.MultiheadAttention, as PyTorch) and on
 * each residual branch (Vaswani et al. 2017, §5.4), and DropPath (stochastic depth) whose rate grows
 * linearly from 0 in the first block to `dropPath` in the last (timm's stochastic depth decay rule).
 * How it is trained (AdamW, warm-up + cosine: DeiT's recipe) is the run registry's
 * (src/run/models.ts), not the model's; with a bare d2l.Trainer it gets d2l's default SGD at 0.1.
 */
import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { checkDropoutP } from '../ops/dropout.js';
import { GELU } from '../nn/activations.js';
import { MultiheadAttention } from '../nn/attention.js';
import { Conv2d } from '../nn/conv.js';
import { DropPath } from '../nn/dropPath.js';
import { Dropout, Linear } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { LayerNorm } from '../nn/normalization.js';
import { defaultGenerator, type Generator } from '../random/generator.js';
import { randn } from '../tensor/creation.js';
import { getBackend, tidy } from '../tensor/engine.js';
import { cat } from '../tensor/joining.js';
import type { Tensor } from '../tensor/tensor.js';
import { Classifier } from '../train/module.js';

/** How the encoder's tokens become one vector for the head. */
export type ViTPool = 'cls' | 'mean';

/** Hyperparameters of VisionTransformer. */
export interface ViTConfig {
  /** Dropout on the attention probabilities and on each residual branch (0 = none). */
  dropout?: number | undefined;
  /** DropPath rate of the last block (linearly less in earlier blocks, 0 in the first; 0 = none). */
  dropPath?: number | undefined;
  /** Token width (embedding dimension). */
  width?: number | undefined;
  /** Encoder blocks. */
  depth?: number | undefined;
  /** Attention heads per block (must divide width). */
  numHeads?: number | undefined;
  /** Hidden width of each block's MLP. */
  mlpDim?: number | undefined;
  /** Side of the square patches (must divide 28). */
  patchSize?: number | undefined;
  /** Head input: the class token ('cls') or the mean of the patch tokens ('mean', no class token). */
  pool?: ViTPool | undefined;
  /** Generator for initialisation and masks; defaults to the global one (`manualSeed`). */
  generator?: Generator | undefined;
}

/** The resolved hyperparameters (the checkpoint's and config.json's record). */
export type ResolvedViTConfig = {
  readonly [K in Exclude<keyof ViTConfig, 'generator'>]-?: Exclude<ViTConfig[K], undefined>;
};

/** Width 64, 4 blocks of 4 heads, MLP 128, 7×7 patches, class token, no dropout. */
export const VIT_HPARAMS: ResolvedViTConfig = {
  dropout: 0,
  dropPath: 0,
  width: 64,
  depth: 4,
  numHeads: 4,
  mlpDim: 128,
  patchSize: 7,
  pool: 'cls',
};

const IMAGE = 28;

/** One pre-norm Transformer encoder block; see the file comment. */
export class EncoderBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: MultiheadAttention;
  readonly norm2: LayerNorm;
  readonly fc1: Linear;
  readonly act = new GELU();
  readonly fc2: Linear;
  /** Residual dropout (applied to each branch before the add), or null when the rate is 0. */
  readonly drop: Dropout | null;
  /** Stochastic depth on each branch, or null when the rate is 0. */
  readonly dropPath: DropPath | null;

  /** A block of `width` tokens with `numHeads` heads and an `mlpDim` MLP. */
  constructor(
    width: number,
    numHeads: number,
    mlpDim: number,
    rates: { dropout: number; dropPath: number },
    g: { generator?: Generator },
  ) {
    super();
    this.norm1 = new LayerNorm(width);
    this.attn = new MultiheadAttention(width, numHeads, { dropout: rates.dropout, batchFirst: true, ...g });
    this.norm2 = new LayerNorm(width);
    this.fc1 = new Linear(width, mlpDim, g);
    this.fc2 = new Linear(mlpDim, width, g);
    this.drop = rates.dropout > 0 ? new Dropout(rates.dropout, g) : null;
    this.dropPath = rates.dropPath > 0 ? new DropPath(rates.dropPath, g) : null;
  }

  /** The block on tokens [N, T, width]. */
  override forward(X: Tensor): Tensor {
    const x = X.add(this.branch(this.attn.forward(this.norm1.forward(X))));
    return x.add(this.branch(this.mlp(x)));
  }

  /** fc₂(GELU(fc₁(LN₂(x)))) on [N, T, width]: the MLP's hidden activations are `hidden(x)`. */
  private mlp(x: Tensor): Tensor {
    const [n, t, w] = x.shape as [number, number, number];
    return this.fc2.forward(this.hidden(x)).reshape([n, t, w]);
  }

  /** GELU(fc₁(LN₂(x))) as [N·T, mlpDim] (nn.activationStats' view of the block). */
  hidden(x: Tensor): Tensor {
    const w = x.shape[2]!;
    return this.act.forward(this.fc1.forward(this.norm2.forward(x).reshape([-1, w])));
  }

  /** Residual dropout, then DropPath, on a branch's output. */
  private branch(y: Tensor): Tensor {
    const dropped = this.drop ? this.drop.forward(y) : y;
    return this.dropPath ? this.dropPath.forward(dropped) : dropped;
  }
}

/** The tiny Vision Transformer; see the file comment. */
export class VisionTransformer extends Classifier {
  override readonly hparams: ResolvedViTConfig;
  /** Conv2d(1, width, patchSize, stride patchSize): one token per patch. */
  readonly patchEmbed: Conv2d;
  /** The learned class token [1, width] (null with mean pooling). */
  readonly clsToken: Tensor | null;
  /** The learned position embedding [tokens, width]. */
  readonly posEmbed: Tensor;
  readonly blocks: EncoderBlock[];
  readonly norm: LayerNorm;
  readonly head: Linear;
  /** Patch tokens (16 for 7×7 patches). */
  readonly numPatches: number;

  /** A ViT; omitted hyperparameters take VIT_HPARAMS' values. */
  constructor(config: ViTConfig = {}) {
    super();
    const { generator, ...rest } = config;
    const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    const h = (this.hparams = { ...VIT_HPARAMS, ...given } as ResolvedViTConfig);
    checkDropoutP(h.dropout, 'ViT dropout');
    checkDropoutP(h.dropPath, 'ViT dropPath');
    for (const key of ['width', 'depth', 'numHeads', 'mlpDim', 'patchSize'] as const) {
      if (!(Number.isInteger(h[key]) && h[key] > 0)) {
        throw new ArgumentError(`ViT: ${key} must be a positive integer, got ${String(h[key])}.`);
      }
    }
    if (IMAGE % h.patchSize !== 0) {
      throw new ArgumentError(`ViT: patchSize must divide ${IMAGE}, got ${h.patchSize}; e.g. 7 or 4.`);
    }
    if (h.pool !== 'cls' && h.pool !== 'mean') {
      throw new ArgumentError(`ViT: pool must be 'cls' or 'mean', got ${String(h.pool)}.`);
    }
    const g = generator ? { generator } : {};
    const gen = generator ?? defaultGenerator;
    this.numPatches = (IMAGE / h.patchSize) ** 2;
    const tokens = this.numPatches + (h.pool === 'cls' ? 1 : 0);
    this.patchEmbed = new Conv2d(1, h.width, h.patchSize, { stride: h.patchSize, ...g });
    const backend = getBackend();
    // N(0, 0.02²), as timm initialises the class token and the position embedding.
    const small = (shape: number[]): Tensor =>
      tidy(() => randn(shape, { generator: gen, backend }).mul(0.02));
    this.clsToken = h.pool === 'cls' ? this.registerParameter('cls_token', small([1, h.width])) : null;
    this.posEmbed = this.registerParameter('pos_embed', small([tokens, h.width]))!;
    this.blocks = Array.from(
      { length: h.depth },
      (_, i) =>
        new EncoderBlock(
          h.width,
          h.numHeads,
          h.mlpDim,
          { dropout: h.dropout, dropPath: h.depth > 1 ? (h.dropPath * i) / (h.depth - 1) : h.dropPath },
          g,
        ),
    );
    this.norm = new LayerNorm(h.width);
    this.head = new Linear(h.width, 10, g);
  }

  /** Tokens [N, T, width] of images X [N, 1, 28, 28]: patches, class token, position embedding. */
  embed(X: Tensor): Tensor {
    if (X.ndim !== 4 || X.shape[1] !== 1 || X.shape[2] !== IMAGE || X.shape[3] !== IMAGE) {
      throw new ShapeError(`ViT expects images [batch, 1, 28, 28], got ${formatShape(X.shape)}.`);
    }
    const n = X.shape[0]!;
    const w = this.hparams.width;
    const P = this.numPatches;
    // Tokens [n, P, w] as a view of the convolution's [n, w, P] output; the class token goes first, as
    // token 0 of every image. Joined along the token axis, each image's tokens are one contiguous run of
    // the result, which the wasm strided copy writes with its SIMD kernel; joined along the last axis of
    // [n, w, P + 1] (as before), every run was 16 elements or 1, and the copy took ~2% of a step in a JS loop.
    let t = this.patchEmbed.forward(X).reshape([n, w, P]).permute([0, 2, 1]);
    if (this.clsToken !== null) t = cat([this.clsToken.reshape([1, 1, w]).expand([n, 1, w]), t], 1);
    return t.add(this.posEmbed);
  }

  /** Logits [N, 10] of images X [N, 1, 28, 28]. */
  forward(X: Tensor): Tensor {
    let x = this.embed(X);
    for (const block of this.blocks) x = block.forward(x);
    x = this.norm.forward(x);
    return this.head.forward(this.clsToken !== null ? x.select(1, 0) : x.mean(1));
  }

  /** Each block's MLP activations GELU(fc₁(LN₂(x))) [N·T, mlpDim], in eval-mode order (for nn.activationStats). */
  hiddenActivations(X: Tensor): Tensor[] {
    const out: Tensor[] = [];
    let x = this.embed(X);
    for (const block of this.blocks) {
      out.push(block.hidden(x.add(block.attn.forward(block.norm1.forward(x)))));
      x = block.forward(x);
    }
    return out;
  }
}
