/**
 * nn.Module: parameters, child modules, the training-mode flag and state dicts, as in PyTorch
 * (torch/nn/modules/module.py). `training` is the only mode flag; `train()`/`eval()` set it
 * recursively and return `this`. Modules start in training mode.
 */
import { ArgumentError, ShapeError, formatShape } from '../errors.js';
import { keep } from '../tensor/engine.js';
import { sameShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** A serialisable snapshot of a module's parameters and buffers: name → shape and float32 values. */
export type StateDict = Record<string, { shape: number[]; data: Float32Array }>;

/** Base class of every layer and model. */
export abstract class Module {
  /** True in training mode (dropout active), false in evaluation mode. */
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** The computation of this module. */
  abstract forward(X: Tensor): Tensor;

  /** Registers (or replaces) a parameter; it is kept out of every tidy scope. Null marks a lazy slot. */
  protected registerParameter(name: string, value: Tensor | null): Tensor | null {
    const previous = this.params.get(name);
    if (previous && previous !== value) previous.dispose();
    if (value !== null) {
      keep(value);
      value.requiresGrad = true;
    }
    this.params.set(name, value);
    return value;
  }

  /**
   * Registers (or replaces) a buffer: state that is saved and loaded with the parameters but not
   * trained (BatchNorm's running statistics, as PyTorch's register_buffer); kept out of every tidy scope.
   */
  protected registerBuffer(name: string, value: Tensor): Tensor {
    const previous = this.buffers.get(name);
    if (previous && previous !== value) previous.dispose();
    keep(value);
    value.requiresGrad = false;
    this.buffers.set(name, value);
    return value;
  }

  /** Registers a child module under `name` (its parameters appear as `name.param`). */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.children.set(name, module);
    return module;
  }

  /** Sets training mode on this module and every descendant; returns this. */
  train(mode = true): this {
    this.training = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  /** Evaluation mode (dropout off); same as train(false). */
  eval(): this {
    return this.train(false);
  }

  /** Direct children with their names. */
  namedChildren(): [string, Module][] {
    return [...this.children.entries()];
  }

  /** All parameters with dotted names, e.g. `net.1.weight`, in registration order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, p] of this.params) if (p !== null) out.push([prefix + name, p]);
    for (const [name, child] of this.children) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  /** All buffers with dotted names, e.g. `net.2.running_mean`, in registration order. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, b] of this.buffers) out.push([prefix + name, b]);
    for (const [name, child] of this.children) out.push(...child.namedBuffers(`${prefix}${name}.`));
    return out;
  }

  /**
   * Everything a state dict holds: each module's parameters, then its buffers, then its children's,
   * in PyTorch's state_dict order (a model without buffers lists exactly its parameters).
   */
  namedState(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, p] of this.params) if (p !== null) out.push([prefix + name, p]);
    for (const [name, b] of this.buffers) out.push([prefix + name, b]);
    for (const [name, child] of this.children) out.push(...child.namedState(`${prefix}${name}.`));
    return out;
  }

  /** All parameters (for optimisers). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** True while some lazy layer has not yet seen an input (its parameters do not exist yet). */
  hasUninitializedParameters(): boolean {
    if ([...this.params.values()].some((p) => p === null)) return true;
    return [...this.children.values()].some((c) => c.hasUninitializedParameters());
  }

  /** Resets every parameter's gradient to null (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** A copy of all parameter and buffer values by name (synchronous; CPU backends). */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [name, p] of this.namedState()) out[name] = { shape: [...p.shape], data: p.dataSync() };
    return out;
  }

  /** Loads values saved by `stateDict` (parameters and buffers); names and shapes must match exactly. */
  loadStateDict(state: StateDict): void {
    const own = new Map(this.namedState());
    const missing = [...own.keys()].filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !own.has(k));
    if (missing.length > 0 || unexpected.length > 0) {
      throw new ArgumentError(
        `loadStateDict: missing keys [${missing.join(', ')}], unexpected keys [${unexpected.join(', ')}]; ` +
          `load a state dict saved from the same model (run one forward pass first for lazy layers).`,
      );
    }
    for (const [name, p] of own) {
      const entry = state[name]!;
      if (!sameShape(entry.shape, p.shape) || entry.data.length !== p.size) {
        throw new ShapeError(
          `loadStateDict: ${name} has shape ${formatShape(entry.shape)} in the state dict but ${formatShape(p.shape)} in the model.`,
        );
      }
      p.backend.write(p.id, entry.data);
    }
  }
}
