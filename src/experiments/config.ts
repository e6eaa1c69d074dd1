/**
 * One experiment run, as plain data: a RunConfig (src/run/) plus what the experiment measures after
 * training (`kind`, `mcSamples`). A stable hash of its canonical form names the run's file, so a
 * restart skips finished runs and two spellings of the same run are trained once.
 */
import { createHash } from 'node:crypto';
import { ArgumentError } from '../errors.js';
import type { RunConfig } from '../run/config.js';
import { canonicalConfig, checkRun, DEFAULT_CONFIG } from '../run/options.js';

/** A run of an experiment: the run itself and what is measured after it. */
export interface ExperimentConfig extends RunConfig {
  /** 'train': curves only; 'mc': also weight scaling vs MC dropout, calibration and certainty on the test set. */
  readonly kind: 'train' | 'mc';
  /** MC passes for kind 'mc'. */
  readonly mcSamples: number;
  /** Kind 'mc': the same T masks for every test image (BaaL's ConsistentDropout); default false. */
  readonly mcConsistent?: boolean | undefined;
}

/** The book's setup (src/run/options.ts), curves only. */
export const DEFAULT_EXPERIMENT: ExperimentConfig = { ...DEFAULT_CONFIG, kind: 'train', mcSamples: 0 };

/** The RunConfig part of an experiment (what runOne trains). */
export function runPart(c: ExperimentConfig): RunConfig {
  const { kind: _kind, mcSamples: _mcSamples, mcConsistent: _mcConsistent, ...run } = c;
  return run;
}

/**
 * The canonical form: the run's (src/run/options.ts canonicalConfig), and a dropout MLP with no noise
 * at all is the plain MLP (Dropout(0) is the identity and draws nothing), so both spellings share one run.
 */
export function canonicalRun(c: ExperimentConfig): ExperimentConfig {
  const noNoise = c.model === 'dropout-mlp' && c.dropout1 === 0 && c.dropout2 === 0 && c.dropConnect === 0;
  const run = canonicalConfig({ ...runPart(c), ...(noNoise ? { model: 'mlp' as const } : {}) });
  // Recorded only when set, so the ids of runs made before the option existed still match.
  return {
    ...run,
    kind: c.kind,
    mcSamples: c.mcSamples,
    ...(c.mcConsistent === true ? { mcConsistent: true } : {}),
  };
}

/** A short stable id of a run: 16 hex digits of SHA-256 over its canonical JSON. */
export function runId(c: ExperimentConfig): string {
  return createHash('sha256')
    .update(JSON.stringify(canonicalRun(c)))
    .digest('hex')
    .slice(0, 16);
}

/** Checks an experiment once, before any process starts: the run's fields, then the measurement's. */
export function checkExperiment(c: ExperimentConfig): void {
  checkRun(runPart(c));
  if (c.kind !== 'train' && c.kind !== 'mc')
    throw new ArgumentError(`run config: kind must be 'train' or 'mc'.`);
  if (!(Number.isSafeInteger(c.mcSamples) && c.mcSamples >= 0)) {
    throw new ArgumentError(`run config: mcSamples must be an integer ≥ 0, got ${c.mcSamples}.`);
  }
  if (c.mcConsistent !== undefined && typeof c.mcConsistent !== 'boolean') {
    throw new ArgumentError(`run config: mcConsistent must be true or false, got ${String(c.mcConsistent)}.`);
  }
}
