/**
 * The two forms of a run's config: complete (every field, from what was given, the model's own
 * defaults and the table's) and canonical (the fields a model does not use at the values it fixes,
 * so two spellings of the same run are one).
 */
import { FULL_SIZES, type RunConfig } from './config.js';
import { modelEntry } from './models.js';
import { ADAMW_DEFAULTS, DEFAULT_CONFIG, RUN_OPTIONS } from './optionTable.js';

/**
 * A run's config from the fields given (explicit flags, a sweep's axes; undefined = not given): each
 * missing field takes the model's own default (its registry entry's `defaults`), else, in an AdamW
 * run, torch.optim.AdamW's (ADAMW_DEFAULTS), else the table's.
 */
export function completeConfig(given: Partial<RunConfig>): RunConfig {
  const explicit = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  const model = (explicit['model'] as RunConfig['model'] | undefined) ?? DEFAULT_CONFIG.model;
  const own = modelEntry(model).defaults ?? {};
  const optimizer = explicit['optimizer'] ?? own.optimizer ?? DEFAULT_CONFIG.optimizer;
  return {
    ...DEFAULT_CONFIG,
    ...(optimizer === 'adamw' ? ADAMW_DEFAULTS : {}),
    ...own,
    ...explicit,
  } as RunConfig;
}

/**
 * The canonical form of a run: the fields a model does not use take the values it fixes (the plain
 * MLP has no dropout), and limits at or above Fashion-MNIST's sizes are "all" (0). Two spellings of the
 * same run have the same canonical form.
 */
export function canonicalConfig(c: RunConfig): RunConfig {
  const fixed: Partial<Record<string, unknown>> = modelEntry(c.model).fixed;
  const out: Record<string, unknown> = {};
  for (const o of RUN_OPTIONS) out[o.key] = o.key in fixed ? fixed[o.key] : c[o.key];
  // Standard dropout has no schedule: its cutoff and ramp change nothing.
  if (out['dropMode'] === 'standard') Object.assign(out, { dropSchedule: 'constant', cutoffEpoch: 0 });
  // SGD has no betas or ε, a constant rate no warm-up.
  if (out['optimizer'] === 'sgd') {
    Object.assign(out, { beta1: DEFAULT_CONFIG.beta1, beta2: DEFAULT_CONFIG.beta2, eps: DEFAULT_CONFIG.eps });
  }
  if (out['lrSchedule'] === 'constant') out['warmupEpochs'] = 0;
  if (c.trainLimit >= FULL_SIZES.trainLimit) out['trainLimit'] = 0;
  if (c.valLimit >= FULL_SIZES.valLimit) out['valLimit'] = 0;
  return out as unknown as RunConfig;
}
