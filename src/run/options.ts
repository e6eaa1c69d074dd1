/**
 * The run's options, one import for the surfaces that read them: the table (./optionTable.ts), a
 * value's parse (./optionParse.ts), the check of a whole config (./checkRun.ts), its complete and
 * canonical forms (./runForms.ts) and its records (./records.ts).
 */
export {
  ADAMW_DEFAULTS,
  DEFAULT_CONFIG,
  optionOf,
  optionsFor,
  RUN_OPTIONS,
  type ChoiceOption,
  type LabField,
  type LabNumberField,
  type NumberOption,
  type RunOption,
  type Surface,
} from './optionTable.js';
export { describeLimits, parseOption, withinLimits, type Parsed } from './optionParse.js';
export { checkRun } from './checkRun.js';
export { canonicalConfig, completeConfig } from './runForms.js';
export { checkpointIdentity, configRecord, snakeCase, upgradeIdentity } from './records.js';
