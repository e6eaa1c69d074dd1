/**
 * How a run is recorded: config.json's snake_case record and the checkpoint's identity (with the
 * upgrade of an identity written before some of the table's rows existed).
 */
import type { RunConfig } from './config.js';
import { RUN_OPTIONS } from './optionTable.js';
import { canonicalConfig } from './runForms.js';

/** snake_case of a camelCase key (config.json's and the JSON events' spelling). */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

/** config.json's record of a run: every option in table order, snake_case; an unset limit is null. */
export function configRecord(c: RunConfig): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const o of RUN_OPTIONS) {
    const v = c[o.key];
    out[snakeCase(o.key)] = o.kind !== 'choice' && o.zeroMeans === 'all' && v === 0 ? null : v;
  }
  return out;
}

/**
 * The identity a checkpoint written before some of the table's rows existed would have now: each
 * missing field takes the table's default, which is how every run trained before the row was added
 * (a new row's default is the old behaviour: SGD at a constant rate, no R-Drop).
 */
export function upgradeIdentity(
  config: Readonly<Record<string, string | number | boolean | null>>,
): Record<string, string | number | boolean | null> {
  const out = { ...config };
  for (const o of RUN_OPTIONS) if (o.key !== 'epochs' && !(o.key in out)) out[o.key] = o.default;
  return out;
}

/**
 * A checkpoint's identity: the fields a resumed run must share with the one that saved it. Every
 * option but `epochs` (a resumed run may train longer); the Trainer refuses a checkpoint whose
 * identity differs and names the field.
 */
export function checkpointIdentity(c: RunConfig): Record<string, string | number> {
  const canon = canonicalConfig(c);
  return Object.fromEntries(RUN_OPTIONS.filter((o) => o.key !== 'epochs').map((o) => [o.key, canon[o.key]]));
}
