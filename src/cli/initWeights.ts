/** `train --init-weights` / `--save-weights`: loading safetensors into a fresh model, and failing early. */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ArgumentError, DropoutLabError } from '../errors.js';
import type { Module, StateDict } from '../nn/module.js';
import { zeros } from '../tensor/creation.js';
import { noGrad, tidy } from '../tensor/engine.js';

/**
 * Materialises the model's lazy layers (one eval-mode forward pass of a zero image, as the Trainer would,
 * drawing the same initial values so later dropout masks are unchanged) and loads `tensors` into it.
 */
export function loadInitWeights(model: Module, tensors: StateDict, file: string): void {
  checkFiniteWeights(tensors, file);
  if (model.hasUninitializedParameters()) {
    noGrad(() => tidy(() => model.eval().forward(zeros([1, 1, 28, 28]))));
    model.train();
  }
  try {
    model.loadStateDict(tensors);
  } catch (err) {
    if (err instanceof DropoutLabError) {
      throw new ArgumentError(
        `--init-weights ${file} does not fit this model: ${err.message.replace(/^loadStateDict: /, '')}`,
      );
    }
    throw err;
  }
}

/**
 * Refuses weights holding NaN or ±Infinity, as a checkpoint holding them is never written: training
 * from them would only print NaN losses (or, through ReLU, hide them) after spending the run.
 */
export function checkFiniteWeights(tensors: StateDict, file: string): void {
  for (const [name, { data }] of Object.entries(tensors)) {
    const i = data.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) {
      throw new ArgumentError(
        `--init-weights ${file}: tensor ${name} holds ${data[i]} at element ${i}; save weights from a run that did not diverge.`,
      );
    }
  }
}

/** Throws a one-line error unless `file`'s folder exists (checked before training, not after). */
export async function checkWritableDir(file: string, flag: string): Promise<void> {
  const dir = dirname(resolve(file));
  const ok = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!ok) throw new ArgumentError(`${flag} ${file}: the folder ${dir} does not exist; create it first.`);
}
