/**
 * ModuleList and ModuleDict (torch.nn.ModuleList, ModuleDict): hold submodules so that their
 * parameters, training mode and state dict follow the parent's, without a forward of their own.
 */
import { ArgumentError, formatValue } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

function checkModule(value: unknown, where: string): Module {
  if (!(value instanceof Module)) {
    throw new ArgumentError(
      `${where}: ${formatValue(value)} is not a Module; pass layers such as new nn.Linear(4, 2).`,
    );
  }
  return value;
}

/** Submodules in a list, named 0, 1, … (torch.nn.ModuleList); iterate it in the parent's forward. */
export class ModuleList extends Module implements Iterable<Module> {
  private readonly items: Module[] = [];

  /** A list of `modules` (an array, as PyTorch's). */
  constructor(modules: Iterable<Module> = []) {
    super();
    if (
      modules instanceof Module ||
      typeof (modules as Partial<Iterable<Module>>)[Symbol.iterator] !== 'function'
    ) {
      throw new ArgumentError('ModuleList takes one array of modules: new ModuleList([a, b]).');
    }
    for (const m of modules) this.append(m);
  }

  /** Adds a module at the end; returns this. */
  append(module: Module): this {
    this.items.push(this.registerModule(String(this.items.length), checkModule(module, 'ModuleList.append')));
    return this;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): Module {
    const m = this.items.at(index);
    if (m === undefined) {
      throw new ArgumentError(`ModuleList.at(${index}): out of range for ${this.items.length} modules.`);
    }
    return m;
  }

  /** Number of modules. */
  get length(): number {
    return this.items.length;
  }

  /** The modules in order. */
  [Symbol.iterator](): Iterator<Module> {
    return this.items[Symbol.iterator]();
  }

  /** A container has no forward of its own (as in PyTorch); iterate it instead. */
  override forward(_X: Tensor): Tensor {
    throw new ArgumentError(
      'ModuleList has no forward; call its modules in your own forward (for (const m of list) …).',
    );
  }
}

/** Submodules by name (torch.nn.ModuleDict); the names become parameter prefixes (`encoder.weight`). */
export class ModuleDict extends Module {
  private readonly items = new Map<string, Module>();

  /** A dict of `modules` ({ name: module }). */
  constructor(modules: Readonly<Record<string, Module>> = {}) {
    super();
    if (modules instanceof Module || Array.isArray(modules) || typeof modules !== 'object') {
      throw new ArgumentError(
        'ModuleDict takes one object of modules: new ModuleDict({ encoder: a, head: b }).',
      );
    }
    for (const [name, m] of Object.entries(modules)) this.set(name, m);
  }

  /** Adds or replaces the module under `name`; returns this. */
  set(name: string, module: Module): this {
    this.items.set(name, this.registerModule(name, checkModule(module, `ModuleDict.set('${name}')`)));
    return this;
  }

  /** The module under `name`. */
  get(name: string): Module {
    const m = this.items.get(name);
    if (m === undefined) {
      throw new ArgumentError(
        `ModuleDict: no module '${name}'; it has ${[...this.items.keys()].join(', ') || 'none'}.`,
      );
    }
    return m;
  }

  /** Whether a module is stored under `name`. */
  has(name: string): boolean {
    return this.items.has(name);
  }

  /** The names, in insertion order. */
  keys(): string[] {
    return [...this.items.keys()];
  }

  /** [name, module] pairs, in insertion order. */
  entries(): [string, Module][] {
    return [...this.items.entries()];
  }

  /** A container has no forward of its own (as in PyTorch). */
  override forward(_X: Tensor): Tensor {
    throw new ArgumentError(
      "ModuleDict has no forward; call its modules in your own forward (dict.get('name')).",
    );
  }
}
