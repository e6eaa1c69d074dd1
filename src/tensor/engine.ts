/**
 * Engine state: the active backend, memory scopes and the gradient-recording switch.
 *
 * Memory is released deterministically, with no reliance on the JS garbage collector's timing
 * (a FinalizationRegistry callback never runs inside a synchronous training loop). Three rules:
 *
 * 1. Scopes (tfjs's `tidy`): every tensor created inside `tidy(fn)` is disposed when fn returns or
 *    throws, except the tensors it returns and those passed to `keep`. The Trainer runs each step in one.
 * 2. Graphs (PyTorch's semantics): `backward()` frees the graph's saved intermediates and the constants
 *    the library made for it (unless `{ retainGraph: true }`); a second backward through a released
 *    graph is an error. Tensors with autograd history created outside every scope (the outputs of a
 *    forward pass, the loss) live one step longer: each `backward()` releases those that existed before
 *    the previous `backward()` call, except the graph it differentiates. So the naive loop
 *    (forward → loss → zeroGrad → backward → step → loss.item()) stays flat, and a loss or logits can
 *    still be read after `step()`. To hold such a tensor longer, `keep(t)` it or take `t.detach()`.
 * 3. Everything else created outside a scope (your data, parameters, detached copies) is yours:
 *    `dispose()` it, or `using t = …`; a FinalizationRegistry frees unreachable ones as a safety net.
 *    Batches from a DataLoader are freed when the loader moves on to the next batch, and a view made
 *    without a tape (`X.reshape(…)` of a batch) is freed with the tensor it views (keep(view) to hold it).
 */
// Kept in the .d.ts (preserve): consumers on lib ES2022 without esnext.disposable still know Symbol.dispose.
/// <reference lib="esnext.disposable" preserve="true" />
import type { Backend, StorageId } from '../backend/backend.js';
import { defaultBackend } from '../backend/auto.js';
import { ArgumentError } from '../errors.js';

/** The engine's view of a tape entry: what it must free when the graph is released. */
export interface GraphNode {
  readonly inputs: readonly Disposable[];
  /** Intermediates the backward rule needs; emptied when the graph is released. */
  saved: readonly Disposable[];
  /** True once backward() (without retainGraph) or a sweep released this node. */
  released: boolean;
}

/** Anything a tensor can be disposed through: the minimal view of a Tensor the engine needs. */
export interface Disposable {
  /** Frees the storage now (idempotent). */
  dispose(): void;
  readonly isDisposed: boolean;
  readonly backend: Backend;
  readonly id: StorageId;
  readonly node: GraphNode | null;
}

/** `Symbol.dispose` where the runtime has it (Node ≥ 20, current browsers), else the well-known fallback key. */
export const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ??
  (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

// Chosen on first use (backend/auto.ts), so importing the library starts nothing.
let activeBackend: Backend | undefined;
const scopes: Set<Disposable>[] = [];
let gradEnabled = true;

/** Graph tensors created outside every scope since the last backward() (rule 2). */
let youngGraph = new Set<Disposable>();
/** Graph tensors that existed before the last backward(): released by the next one. */
let oldGraph = new Set<Disposable>();
/** Graph tensors a backward({ retainGraph: true }) exempted from sweeps until a final backward. */
const retained = new Set<Disposable>();
/** Leaves the library made for a graph (lifted constants, masks): freed with the graph. */
const graphOwned = new WeakSet<Disposable>();
/** Views made without a tape outside every scope (e.g. a flattened batch), freed with the tensor they view. */
const viewsOf = new WeakMap<Disposable, Set<Disposable>>();
const baseOf = new WeakMap<Disposable, Disposable>();

/**
 * Extra owners of shared storage (a reshape shares its input's storage instead of copying it).
 * Storage absent from the map has exactly one owner.
 */
const sharedOwners = new WeakMap<Backend, Map<StorageId, number>>();

/** Records one more tensor owning `id` (a zero-copy view such as a reshape). */
export function retainStorage(backend: Backend, id: StorageId): void {
  let owners = sharedOwners.get(backend);
  if (owners === undefined) sharedOwners.set(backend, (owners = new Map()));
  owners.set(id, (owners.get(id) ?? 1) + 1);
}

/** Drops one owner of `id`; the storage is freed when the last owner lets go. */
export function releaseStorage(backend: Backend, id: StorageId): void {
  const owners = sharedOwners.get(backend);
  const count = owners?.get(id);
  if (count === undefined) {
    backend.free(id);
    return;
  }
  if (count > 2) owners!.set(id, count - 1);
  else owners!.delete(id);
}

const finalizer = new FinalizationRegistry<{ backend: Backend; id: StorageId }>(({ backend, id }) => {
  releaseStorage(backend, id);
});

/** The backend new tensors are created on. */
export function getBackend(): Backend {
  return (activeBackend ??= defaultBackend());
}

/**
 * Makes `backend` the one new tensors are created on. Without a call, the first use picks one by
 * the rule in backend/auto.ts (wasm in Node); `setBackend(new ReferenceBackend())` picks the oracle.
 */
export function setBackend(backend: Backend): void {
  activeBackend = backend;
}

/** Called by the Tensor constructor: tracks the tensor in the innermost scope, or registers a GC fallback. */
export function track(t: Disposable): void {
  const scope = scopes[scopes.length - 1];
  if (scope !== undefined) scope.add(t);
  else finalizer.register(t, { backend: t.backend, id: t.id }, t);
}

function forget(t: Disposable): void {
  youngGraph.delete(t);
  oldGraph.delete(t);
  retained.delete(t);
  const base = baseOf.get(t);
  if (base !== undefined) {
    baseOf.delete(t);
    viewsOf.get(base)?.delete(t);
  }
}

/** Called by Tensor.dispose: the GC fallback must not free storage a second time; views go with it. */
export function untrack(t: Disposable): void {
  finalizer.unregister(t);
  for (const s of scopes) s.delete(t);
  forget(t);
  const views = viewsOf.get(t);
  if (views !== undefined) {
    viewsOf.delete(t);
    for (const v of views) v.dispose();
  }
}

/**
 * Ties a view made without a tape outside every scope (say `X.reshape([n, -1])` of a batch) to the
 * tensor it views: disposing the base (the data loader moving on) disposes the view too.
 */
export function addDependentView(base: Disposable, view: Disposable): void {
  if (scopes.length > 0) return;
  let views = viewsOf.get(base);
  if (views === undefined) viewsOf.set(base, (views = new Set()));
  views.add(view);
  baseOf.set(view, base);
}

/** Removes a tensor from every scope and sweep so it outlives them (parameters, optimiser state, values you hold). */
export function keep<T extends Disposable>(t: T): T {
  let wasScoped = false;
  for (const s of scopes) wasScoped = s.delete(t) || wasScoped;
  forget(t);
  if (wasScoped) finalizer.register(t, { backend: t.backend, id: t.id }, t);
  return t;
}

/** Called when an op records a tape entry: a graph tensor outside every scope joins the step sweep. */
export function adoptGraphTensor(t: Disposable): void {
  if (scopes.length === 0) youngGraph.add(t);
}

/** Marks a leaf the library made for one graph (a lifted constant, a mask): it is freed with that graph. */
export function markGraphOwned(t: Disposable): void {
  graphOwned.add(t);
}

/** Constants lifted from numbers for the one op about to consume them (`x.mul(2)`). */
const lifted = new WeakSet<Disposable>();

/** Marks a constant the library made from a number for the next op that takes it. */
export function markLifted(t: Disposable): void {
  lifted.add(t);
}

/** Called by an op on its inputs: a lifted constant is freed with the op's graph, or now when none is recorded. */
export function consumeLifted(t: Disposable, recorded: boolean): void {
  if (!lifted.delete(t)) return;
  if (recorded) graphOwned.add(t);
  else t.dispose();
}

/** Frees a node's saved intermediates and library-made inputs, and marks it released. */
export function releaseNode(node: GraphNode): void {
  for (const s of node.saved) s.dispose();
  node.saved = [];
  node.released = true;
  for (const input of node.inputs) if (graphOwned.has(input)) input.dispose();
}

function releaseGraphTensor(t: Disposable): void {
  if (t.node !== null) releaseNode(t.node);
  t.dispose();
}

/**
 * The step boundary of rule 2, run at the start of every backward(): releases the graph tensors that
 * existed before the previous backward(), except `current` (the graph being differentiated).
 */
export function sweepGraphs(current: ReadonlySet<Disposable>): void {
  const old = oldGraph;
  oldGraph = youngGraph;
  youngGraph = new Set();
  for (const t of old) {
    if (current.has(t)) oldGraph.add(t);
    else releaseGraphTensor(t);
  }
}

/**
 * After a backward pass over `graph`: with retainGraph its tensors are exempt from sweeps; without,
 * tensors a retained pass exempted rejoin the sweep.
 */
export function afterBackward(graph: readonly Disposable[], retainGraph: boolean): void {
  for (const t of graph) {
    if (t.node === null) continue;
    if (retainGraph) {
      if (youngGraph.delete(t) || oldGraph.delete(t)) retained.add(t);
    } else if (retained.delete(t)) {
      youngGraph.add(t);
    }
  }
}

/** Buffers held by the step sweep and retained graphs (for tests of rule 2). */
export function graphTensorCount(): number {
  return youngGraph.size + oldGraph.size + retained.size;
}

function collect(value: unknown, into: Set<Disposable>): void {
  if (value === null || typeof value !== 'object') return;
  if ('dispose' in value && 'isDisposed' in value) {
    into.add(value as Disposable);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, into);
  else if (Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value)) collect(v, into);
}

function isAsyncFunction(fn: unknown): boolean {
  return (
    typeof fn === 'function' &&
    (fn as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'AsyncFunction'
  );
}

function isThenable(value: unknown): boolean {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

const ASYNC_TIDY =
  'tidy(fn) is synchronous, but fn is async (or returned a Promise): its tensors would be freed before ' +
  'the Promise settles. Await outside, and wrap only the synchronous tensor work in tidy (or use `using`).';

/** Moves scope survivors to the enclosing scope, or (at the top level) to the sweep or the GC fallback. */
function promote(t: Disposable): void {
  const parent = scopes[scopes.length - 1];
  if (parent !== undefined) parent.add(t);
  else {
    finalizer.register(t, { backend: t.backend, id: t.id }, t);
    if (t.node !== null) youngGraph.add(t);
  }
}

/**
 * Runs fn in a fresh scope and returns what it returned with every tensor it made; if fn throws, those
 * tensors are disposed before the error propagates. tidy, composite and noGrad's scope differ only in
 * which of them they keep.
 */
function runScoped<T>(fn: () => T): { result: T; scope: Set<Disposable> } {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  return { result, scope };
}

/**
 * Runs fn and disposes every tensor it created except those it returns (in an array or plain object
 * too) and those passed to `keep`; returned tensors move to the enclosing scope. If fn throws, every
 * tensor it created is disposed before the error propagates. fn must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  if (isAsyncFunction(fn)) throw new ArgumentError(ASYNC_TIDY, { code: 'ERR_ASYNC_TIDY' });
  const { result, scope } = runScoped(fn);
  if (isThenable(result)) {
    for (const t of scope) t.dispose();
    throw new ArgumentError(ASYNC_TIDY, { code: 'ERR_ASYNC_TIDY' });
  }
  const survivors = new Set<Disposable>();
  collect(result, survivors);
  for (const t of scope) if (!survivors.has(t)) t.dispose();
  for (const t of survivors) if (scope.has(t)) promote(t);
  return result;
}

/**
 * A library composite (relu, mean, softmax, dropoutLayer, …) as one scope: the temporaries fn makes are
 * freed at once, except what the result's recorded graph still reaches, whose leaves become owned by
 * that graph (freed when it is released). Without a tape (noGrad) only the result survives.
 */
export function composite<T extends Disposable>(fn: () => T): T {
  const { result, scope } = runScoped(fn);
  const reachable = new Set<Disposable>();
  const stack: Disposable[] = [result];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (reachable.has(t) || !scope.has(t)) continue;
    reachable.add(t);
    for (const input of t.node?.inputs ?? []) stack.push(input);
  }
  for (const t of scope) if (!reachable.has(t)) t.dispose();
  for (const t of reachable) {
    if (t !== result && t.node === null) graphOwned.add(t);
    if (t.node === null && t !== result) {
      const parent = scopes[scopes.length - 1];
      if (parent !== undefined) parent.add(t);
      else finalizer.register(t, { backend: t.backend, id: t.id }, t);
    } else promote(t);
  }
  return result;
}

/** Whether operations currently record the autograd tape. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs fn without recording the tape (like torch.no_grad); used for evaluation and optimiser steps.
 * Outside every scope it is one itself: what fn made is freed when it returns, except what it
 * returns, what was kept, and tensors created with requiresGrad (parameters made there), so that
 * `noGrad(() => F.accuracy(model.forward(X), y))` in a loop without tidy does not grow. Inside a
 * scope it only switches the tape off; the enclosing scope frees as before.
 */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return scopes.length === 0 ? freeingScope(fn) : fn();
  } finally {
    gradEnabled = previous;
  }
}

/** noGrad's scope at the top level: like tidy, but parameters made inside survive and async fn is left alone. */
function freeingScope<T>(fn: () => T): T {
  const { result, scope } = runScoped(fn);
  const survivors = new Set<Disposable>();
  // A Promise's tensors are still in use when fn returns: leave them to the GC fallback, as before.
  if (isThenable(result)) for (const t of scope) survivors.add(t);
  else collect(result, survivors);
  for (const t of scope) {
    const isLeafParameter = t.node === null && (t as { requiresGrad?: boolean }).requiresGrad === true;
    if (survivors.has(t) || isLeafParameter) promote(t);
    else t.dispose();
  }
  return result;
}

/**
 * Switches the tape off for fn and does nothing else: the per-op form apply.ts uses, whose results
 * are its caller's to keep. @internal
 */
export function withoutGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}
