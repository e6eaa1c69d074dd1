/**
 * nn.Module: parameters, child modules, the training-mode flag and state dicts, as in PyTorch
 * (torch/nn/modules/module.py). `training` is the only mode flag; `train()`/`eval()` set it
 * recursively and return `this`. Modules start in training mode.
 *
 * A module finds its children and parameters in its own fields, in declaration order, as PyTorch's
 * `__setattr__` registers them: `class Net extends nn.Module { fc = new nn.Linear(4, 2) }` has `fc.weight`
 * and `fc.bias`. A field holding a Module, a parameter (a tensor with requiresGrad and no autograd
 * history) or an array of them counts; JavaScript has no attribute hook, so the fields are read each time
 * the tree is walked. `registerModule`/`registerParameter` remain for dynamic names and lazy slots; what
 * they registered comes first, and one module or tensor is counted once.
 */
import { ArgumentError, ShapeError, formatShape, formatValue } from '../errors.js';
import { zeros } from '../tensor/creation.js';
import { keep } from '../tensor/engine.js';
import { sameShape, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** Node's util.inspect hook, by its registry name so that browser-safe code imports nothing of Node. */
const inspectSymbol: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;

/** A value as Python's repr writes it in PyTorch's module reprs (True, 1e-05, (5, 5)). */
export function pyRepr(value: unknown): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null || value === undefined) return 'None';
  if (Array.isArray(value)) return `(${value.map(pyRepr).join(', ')}${value.length === 1 ? ',' : ''})`;
  if (typeof value === 'number') {
    if (value !== 0 && Math.abs(value) < 1e-4) return value.toExponential().replace(/e-(\d)$/, 'e-0$1');
    return String(value);
  }
  return typeof value === 'string' ? `'${value}'` : String(value);
}

function isParameter(value: unknown): value is Tensor {
  return value instanceof Tensor && value.requiresGrad && value.node === null && !value.isDisposed;
}

/** A serialisable snapshot of a module's parameters and buffers: name → shape and float32 values. */
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
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** The computation of this module. */
  abstract forward(X: Tensor): Tensor;

  /** The text inside this module's parentheses when it prints (PyTorch's extra_repr), e.g. `p=0.5, inplace=False`. */
  extraRepr(): string {
    return '';
  }

  /** The module tree as PyTorch's repr(model) prints it: `Name(extra)`, or one `(name): child` line per child. */
  toString(): string {
    const name = this.constructor.name;
    const extra = this.extraRepr();
    const children = this.namedChildren();
    if (children.length === 0) return `${name}(${extra})`;
    // Children's own lines are indented two more, as torch's _addindent does.
    const lines = [...(extra === '' ? [] : extra.split('\n'))];
    for (const [key, child] of children) lines.push(`(${key}): ${String(child).split('\n').join('\n  ')}`);
    return `${name}(\n  ${lines.join('\n  ')}\n)`;
  }

  /** What Node's console.log and util.inspect show: the tree. */
  [inspectSymbol](): string {
    return this.toString();
  }

  /**
   * True when this module's `training` flag switches dropout on and nothing else (nn.Dropout and its
   * variants, a Linear with DropConnect, a model that drops its own activations when training and has
   * only deterministic children). Monte-Carlo dropout sets exactly these modules to training mode and
   * leaves the rest (e.g. BatchNorm) in eval mode; a subclass that qualifies overrides this getter.
   */
  get trainingOnlySwitchesDropout(): boolean {
    return false;
  }

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

  /** Registered parameters and lazy slots, then parameters found in fields (declaration order). */
  private ownParameters(): [string, Tensor | null][] {
    const out: [string, Tensor | null][] = [...this.params];
    const seen = new Set<Tensor | null>(this.params.values());
    const add = (name: string, value: unknown): void => {
      if (!isParameter(value) || seen.has(value)) return;
      seen.add(value);
      keep(value);
      out.push([name, value]);
    };
    for (const [name, value] of Object.entries(this)) {
      if (this.params.has(name)) continue;
      if (Array.isArray(value)) value.forEach((v, i) => add(`${name}.${i}`, v));
      else add(name, value);
    }
    return out;
  }

  /** Sets training mode on this module and every descendant; returns this. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** This module and every descendant, each once (depth-first, in registration/declaration order). */
  modules(): Module[] {
    const out: Module[] = [];
    const visit = (m: Module): void => {
      if (out.includes(m)) return;
      out.push(m);
      for (const [, child] of m.namedChildren()) visit(child);
    };
    visit(this);
    return out;
  }

  /** Evaluation mode (dropout off); same as train(false). */
  eval(): this {
    return this.train(false);
  }

  /** Direct children with their names: registered ones, then Module fields in declaration order. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [...this.children.entries()];
    const seen = new Set<Module>(this.children.values());
    const add = (name: string, value: unknown): void => {
      if (!(value instanceof Module) || value === this || seen.has(value)) return;
      seen.add(value);
      out.push([name, value]);
    };
    for (const [name, value] of Object.entries(this)) {
      if (this.children.has(name)) continue;
      if (Array.isArray(value)) value.forEach((v, i) => add(`${name}.${i}`, v));
      else add(name, value);
    }
    return out;
  }

  /** Every module below this one with its dotted name (this one is ''), each once. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, name: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([name, m]);
      for (const [n, child] of m.namedChildren()) visit(child, name === '' ? n : `${name}.${n}`);
    };
    visit(this, prefix.replace(/\.$/, ''));
    return out;
  }

  /** All parameters with dotted names, e.g. `net.1.weight`, in registration order; a shared tensor once. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [name, m] of this.namedModules(prefix)) {
      for (const [p, t] of m.ownParameters()) {
        if (t === null || seen.has(t)) continue;
        seen.add(t);
        out.push([name === '' ? p : `${name}.${p}`, t]);
      }
    }
    return out;
  }

  /** All buffers with dotted names, e.g. `net.2.running_mean`, in registration order. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, m] of this.namedModules(prefix)) {
      for (const [b, t] of m.buffers) out.push([name === '' ? b : `${name}.${b}`, t]);
    }
    return out;
  }

  /**
   * Everything a state dict holds: each module's parameters, then its buffers, module by module, in
   * PyTorch's state_dict order (a model without buffers lists exactly its parameters).
   */
  namedState(prefix = ''): [string, Tensor][] {
    const params = new Map<Tensor, string>(this.namedParameters(prefix).map(([n, t]) => [t, n]));
    const out: [string, Tensor][] = [];
    for (const [name, m] of this.namedModules(prefix)) {
      for (const [, t] of m.ownParameters()) {
        if (t !== null && params.has(t)) out.push([params.get(t)!, t]);
        if (t !== null) params.delete(t);
      }
      for (const [b, t] of m.buffers) out.push([name === '' ? b : `${name}.${b}`, t]);
    }
    return out;
  }

  /** All parameters (for optimisers). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** True while some lazy layer has not yet seen an input (its parameters do not exist yet). */
  hasUninitializedParameters(): boolean {
    return this.modules().some((m) => [...m.params.values()].some((p) => p === null));
  }

  /**
   * Creates a lazy parameter slot from the shape a state dict gives it, so weights load without a dummy
   * forward pass; values are written by loadStateDict. Layers with lazy slots override it to check the
   * shape and update their own fields (see LazyLinear); the default allocates zeros of that shape.
   */
  protected materializeParameter(name: string, shape: readonly number[]): Tensor {
    return this.registerParameter(name, zeros(shape))!;
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

  /** Loads parameters and buffers saved by `stateDict` (or tensors by name, as in PyTorch); names and shapes must match exactly. */
  loadStateDict(state: Readonly<Record<string, StateDictEntry>>): void {
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.params) {
        const key = prefix === '' ? name : `${prefix}.${name}`;
        const entry = state[key];
        if (p === null && entry !== undefined) m.materializeParameter(name, readEntry(key, entry).shape);
      }
    }
    const own = new Map(this.namedState());
    const missing = [...own.keys()].filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !own.has(k));
    if (missing.length > 0 || unexpected.length > 0) {
      throw new ArgumentError(
        `loadStateDict: missing keys [${missing.join(', ')}], unexpected keys [${unexpected.join(', ')}]; ` +
          `load a state dict saved from the same model.`,
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
