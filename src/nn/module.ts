/**
 * nn.Module: parameters, child modules, the training-mode flag and state dicts, as in PyTorch
 * (torch/nn/modules/module.py). `training` is the only mode flag; `train()`/`eval()` set it
 * recursively and return `this`. Modules start in training mode.
 */
import { ArgumentError, ShapeError, formatShape, formatValue } from '../errors.js';
import { keep } from '../tensor/engine.js';
import { sameShape, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** A serialisable snapshot of a module's parameters: name → shape and float32 values. */
export type StateDict = Record<string, { shape: number[]; data: Float32Array }>;

/** What loadStateDict accepts per name: `{ shape, data }` as stateDict() returns it, or a Tensor (PyTorch's form). */
export type StateDictEntry = { readonly shape: readonly number[]; readonly data: ArrayLike<number> } | Tensor;

/** Reads one entry as shape + values, or says what is wrong with it (one line, quoting what it got). */
function readEntry(name: string, entry: unknown): { shape: readonly number[]; data: ArrayLike<number> } {
  if (entry instanceof Tensor) return { shape: entry.shape, data: entry.dataSync() };
  const e = entry as { shape?: unknown; data?: unknown } | null;
  const shapeOk =
    typeof e === 'object' &&
    e !== null &&
    Array.isArray(e.shape) &&
    e.shape.every((d) => Number.isSafeInteger(d) && d >= 0);
  const dataOk = shapeOk && (ArrayBuffer.isView(e.data) || Array.isArray(e.data));
  if (!dataOk) {
    throw new ArgumentError(
      `loadStateDict: ${name} must be a Tensor or { shape, data } with data a Float32Array, got ${formatValue(entry)}.`,
    );
  }
  return e as { shape: readonly number[]; data: ArrayLike<number> };
}

/** Base class of every layer and model. */
export abstract class Module {
  /** True in training mode (dropout active), false in evaluation mode. */
  training = true;
  private readonly params = new Map<string, Tensor | null>();
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

  /** A copy of all parameter values by name (synchronous; CPU backends). */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [name, p] of this.namedParameters()) out[name] = { shape: [...p.shape], data: p.dataSync() };
    return out;
  }

  /** Loads values saved by `stateDict` (or tensors by name, as in PyTorch); names and shapes must match exactly. */
  loadStateDict(state: Readonly<Record<string, StateDictEntry>>): void {
    const own = new Map(this.namedParameters());
    const missing = [...own.keys()].filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !own.has(k));
    if (missing.length > 0 || unexpected.length > 0) {
      throw new ArgumentError(
        `loadStateDict: missing keys [${missing.join(', ')}], unexpected keys [${unexpected.join(', ')}]; ` +
          `load a state dict saved from the same model (run one forward pass first for lazy layers).`,
      );
    }
    // Check every entry before writing any, so a bad state dict leaves the model as it was.
    const entries = [...own].map(([name, p]) => {
      const entry = readEntry(name, state[name]);
      if (!sameShape(entry.shape, p.shape)) {
        throw new ShapeError(
          `loadStateDict: ${name} has shape ${formatShape(entry.shape)} in the state dict but ${formatShape(p.shape)} in the model.`,
        );
      }
      if (entry.data.length !== sizeOf(entry.shape)) {
        throw new ShapeError(
          `loadStateDict: ${name} has shape ${formatShape(entry.shape)} (${sizeOf(entry.shape)} values) but holds ${entry.data.length} values.`,
        );
      }
      return [p, entry.data] as const;
    });
    for (const [p, data] of entries) p.backend.write(p.id, data);
  }
}
