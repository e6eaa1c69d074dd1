/** The stock layers: Linear, LazyLinear, ReLU, Flatten, Dropout and Sequential (PyTorch names and defaults). */
import { ArgumentError, ShapeError, formatShape, formatValue } from '../errors.js';
import { applyDropout, checkDropoutP } from '../ops/dropout.js';
import { linear } from '../ops/linear.js';
import { defaultGenerator, type Generator } from '../random/generator.js';
import { rand } from '../tensor/creation.js';
import { getBackend, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module, pyRepr } from './module.js';

/** Options shared by layers that draw random numbers. */
export interface LayerRandomOptions {
  /** Generator for initialisation / masks; defaults to the global one (`manualSeed`). */
  generator?: Generator | undefined;
}

/** U(−b, b) initialisation with b = 1/√fanIn: PyTorch's Linear default (kaiming_uniform with a = √5). */
export function uniformInit(shape: number[], fanIn: number, generator: Generator): Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  return tidy(() =>
    rand(shape, { generator, backend: getBackend() })
      .mul(2 * bound)
      .sub(bound),
  );
}

/** Options of Linear: bias on/off and DropConnect. */
export interface LinearOptions extends LayerRandomOptions {
  /** Add a bias (default true). */
  bias?: boolean | undefined;
  /**
   * DropConnect rate (Wan et al. 2013, https://proceedings.mlr.press/v28/wan13.html; d2l dropout
   * exercise 6): while training, each weight is dropped with probability p and survivors scaled by
   * 1/(1 − p), a fresh mask every forward; the bias is not dropped. Default 0 (off).
   */
  dropConnect?: number | undefined;
}

/** y = x·Wᵀ + b with W of shape [outFeatures, inFeatures], initialised like torch.nn.Linear. */
export class Linear extends Module {
  /** Weight [outFeatures, inFeatures]; null until the first input for a lazy layer. */
  weight: Tensor | null = null;
  /** Bias [outFeatures], or null without bias. */
  bias: Tensor | null = null;
  private readonly generator: Generator;

  /** With DropConnect the training flag only switches the weight mask; without it, nothing. */
  override get trainingOnlySwitchesDropout(): boolean {
    return (this.opts.dropConnect ?? 0) > 0;
  }

  /** A fully-connected layer; `inFeatures` null makes it lazy (inferred from the first input). */
  constructor(
    public inFeatures: number | null,
    readonly outFeatures: number,
    readonly opts: LinearOptions = {},
  ) {
    super();
    checkDropoutP(opts.dropConnect ?? 0, 'Linear dropConnect');
    for (const [name, v] of [
      ['inFeatures', inFeatures],
      ['outFeatures', outFeatures],
    ] as const) {
      if (v !== null && !(Number.isInteger(v) && v > 0)) {
        throw new ArgumentError(`Linear: ${name} must be a positive integer, got ${formatValue(v)}.`);
      }
    }
    this.generator = opts.generator ?? defaultGenerator;
    this.registerParameter('weight', null);
    if (opts.bias !== false) this.registerParameter('bias', null);
    if (inFeatures !== null) this.initialize(inFeatures);
  }

  /** `in_features=784, out_features=256, bias=True`, as PyTorch prints a Linear. */
  override extraRepr(): string {
    const dc = this.opts.dropConnect ?? 0;
    return (
      `in_features=${pyRepr(this.inFeatures)}, out_features=${this.outFeatures}, bias=${pyRepr(this.opts.bias !== false)}` +
      (dc > 0 ? `, drop_connect=${dc}` : '')
    );
  }

  private initialize(inFeatures: number): void {
    this.inFeatures = inFeatures;
    this.weight = this.registerParameter(
      'weight',
      uniformInit([this.outFeatures, inFeatures], inFeatures, this.generator),
    );
    if (this.opts.bias !== false) {
      this.bias = this.registerParameter('bias', uniformInit([this.outFeatures], inFeatures, this.generator));
    }
  }

  /** A lazy slot loaded from a state dict: checks the shape against outFeatures and adopts inFeatures. */
  protected override materializeParameter(name: string, shape: readonly number[]): Tensor {
    const ok =
      name === 'weight'
        ? shape.length === 2 && shape[0] === this.outFeatures && Number.isInteger(shape[1]) && shape[1]! > 0
        : shape.length === 1 && shape[0] === this.outFeatures;
    if (!ok) {
      throw new ShapeError(
        `loadStateDict: ${name} has shape ${formatShape(shape)} in the state dict, which does not fit a Linear with ${this.outFeatures} outputs.`,
      );
    }
    const t = super.materializeParameter(name, shape);
    if (name === 'weight') {
      this.inFeatures = shape[1]!;
      this.weight = t;
    } else this.bias = t;
    return t;
  }

  /** x·Wᵀ + b; with `relu` the ReLU is fused into the same kernel (used by Sequential). */
  override forward(X: Tensor, opts: { relu?: boolean } = {}): Tensor {
    if (X.ndim !== 2) {
      throw new ShapeError(
        `Linear expects a 2-D input [batch, features], got ${formatShape(X.shape)}; add nn.Flatten() first.`,
      );
    }
    if (this.weight === null) this.initialize(X.shape[1]!);
    if (X.shape[1] !== this.inFeatures) {
      throw new ShapeError(
        `Linear(${this.inFeatures}, ${this.outFeatures}) got input ${formatShape(X.shape)}; ` +
          `the last dimension must be ${this.inFeatures}.`,
      );
    }
    const p = this.opts.dropConnect ?? 0;
    // DropConnect: inverted dropout on W itself, so the gradient reaches only the kept weights.
    const weight =
      p > 0 && this.training ? applyDropout(this.weight!, p, true, this.generator) : this.weight!;
    return linear(X, weight, this.bias, opts);
  }
}

/** A Linear layer whose input size is inferred from the first batch (Keras Dense, torch.nn.LazyLinear). */
export class LazyLinear extends Linear {
  /** `outFeatures` outputs; the input size is taken from the first forward pass. */
  constructor(outFeatures: number, opts: LinearOptions = {}) {
    super(null, outFeatures, opts);
  }
}

/** max(0, x), with ReLU'(0) = 0. */
export class ReLU extends Module {
  /** Applies the ReLU elementwise. */
  override forward(X: Tensor): Tensor {
    return X.relu();
  }
}

/** Flattens all axes after the first: [N, …] → [N, ∏…] (torch.nn.Flatten). */
export class Flatten extends Module {
  /** `start_dim=1, end_dim=-1`, as PyTorch prints a Flatten. */
  override extraRepr(): string {
    return 'start_dim=1, end_dim=-1';
  }

  /** Reshapes to [batch, -1]. */
  override forward(X: Tensor): Tensor {
    return X.reshape([X.shape[0] ?? 1, -1]);
  }
}

/** Inverted dropout with probability p, active only in training mode (torch.nn.Dropout). */
export class Dropout extends Module {
  /** The generator of this layer's masks, or undefined for the global one. */
  readonly generator: Generator | undefined;

  private rate: number;

  /** Training mode means dropout on; nothing else changes. */
  override get trainingOnlySwitchesDropout(): boolean {
    return true;
  }

  /**
   * Drops each unit with probability `p` (validated here, not at the first forward). `p` is
   * writable so that a dropout schedule (train/dropoutSchedule.ts) can set it each epoch.
   */
  constructor(p = 0.5, opts: LayerRandomOptions = {}) {
    super();
    checkDropoutP(p, 'nn.Dropout');
    this.rate = p;
    this.generator = opts.generator;
  }

  /** `p=0.5, inplace=False`, as PyTorch prints a Dropout. */
  override extraRepr(): string {
    return `p=${this.rate}, inplace=False`;
  }

  /** The drop probability. */
  get p(): number {
    return this.rate;
  }

  /** Sets the drop probability, validated here (where it enters) so forward need not re-check it. */
  set p(p: number) {
    checkDropoutP(p, 'nn.Dropout');
    this.rate = p;
  }

  /** F.dropout following this module's mode. */
  override forward(X: Tensor): Tensor {
    return applyDropout(X, this.rate, this.training, this.generator);
  }
}

/**
 * A layer whose forward takes `{ relu: true }` to apply the ReLU after it in the same kernel (Conv2d);
 * marked by a `fusesRelu` field so this file need not import every such layer.
 */
function fusesRelu(layer: Module): layer is Module & { forward(x: Tensor, opts: { relu: boolean }): Tensor } {
  return (layer as { fusesRelu?: unknown }).fusesRelu === true;
}

/** Runs layers in order; a Linear (or Conv2d) directly followed by a ReLU runs as one fused kernel. */
export class Sequential extends Module {
  /** The layers, in order. */
  readonly layers: Module[];

  /** Chains `layers`; their parameters are named by index (`0.weight`, …) as in PyTorch. */
  constructor(...layers: Module[]) {
    super();
    layers.forEach((layer, i) => {
      if (layer instanceof Module) return;
      throw new ArgumentError(
        Array.isArray(layer)
          ? 'Sequential takes the modules as separate arguments, as in PyTorch: new Sequential(a, b), or new Sequential(...list) for an array.'
          : `Sequential: argument ${i} is ${formatValue(layer)}, not a Module; pass layers such as new Linear(784, 256).`,
      );
    });
    this.layers = layers;
    layers.forEach((layer, i) => this.registerModule(String(i), layer));
  }

  /** Applies every layer in turn. */
  override forward(X: Tensor): Tensor {
    let h = X;
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i]!;
      if ((layer instanceof Linear || fusesRelu(layer)) && this.layers[i + 1] instanceof ReLU) {
        h = layer.forward(h, { relu: true });
        i++;
      } else {
        h = layer.forward(h);
      }
    }
    return h;
  }
}
