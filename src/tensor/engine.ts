/**
 * Engine state: the active backend, memory scopes and the gradient-recording switch.
 *
 * Memory is released deterministically with scopes (as tfjs's `tidy`): every tensor created inside
 * `tidy(fn)` is disposed when fn returns, except the tensors it returns and those passed to `keep`.
 * The trainer runs each step in a scope, so memory after epoch 20 equals memory after epoch 2.
 * A FinalizationRegistry frees storage of unreachable tensors created outside any scope, as a safety net.
 */
import type { Backend, StorageId } from '../backend/backend.js';
import { defaultBackend } from '../backend/auto.js';

/** Anything a tensor can be disposed through: the minimal view of a Tensor the engine needs. */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
  readonly backend: Backend;
  readonly id: StorageId;
}

// Chosen on first use (backend/auto.ts), so importing the library starts nothing.
let activeBackend: Backend | undefined;
const scopes: Set<Disposable>[] = [];
let gradEnabled = true;

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

/** Called by Tensor.dispose: the GC fallback must not free storage a second time. */
export function untrack(t: Disposable): void {
  finalizer.unregister(t);
  for (const s of scopes) s.delete(t);
}

/** Removes a tensor from every scope so it outlives them (parameters, gradients, optimiser state). */
export function keep<T extends Disposable>(t: T): T {
  let wasScoped = false;
  for (const s of scopes) wasScoped = s.delete(t) || wasScoped;
  if (wasScoped) finalizer.register(t, { backend: t.backend, id: t.id }, t);
  return t;
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

/**
 * Runs fn and disposes every tensor it created except those it returns (in an array or plain object
 * too) and those passed to `keep`; returned tensors move to the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const survivors = new Set<Disposable>();
  collect(result, survivors);
  for (const t of scope) if (!survivors.has(t)) t.dispose();
  const parent = scopes[scopes.length - 1];
  for (const t of survivors) {
    if (!scope.has(t)) continue;
    if (parent !== undefined) parent.add(t);
    else finalizer.register(t, { backend: t.backend, id: t.id }, t);
  }
  return result;
}

/** Whether operations currently record the autograd tape. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording the tape (like torch.no_grad); used for evaluation and optimiser steps. */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}
