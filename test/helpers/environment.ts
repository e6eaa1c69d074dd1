/**
 * Test gates for environment pieces (the dataset, Chromium, a WebGPU adapter, a built dist/). Locally
 * a missing piece skips the tests that need it, with the reason printed; with CI=true it is a
 * failure instead, so CI cannot pass by skipping. The only skips allowed under CI are in
 * ALLOWED_CI_SKIPS, each with its reason.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

/** True when the suite runs in CI (`CI=true bash .ci/run`). */
export const CI = process.env['CI'] === 'true';

/** The documented skips that remain under CI=true, by test file (its path under test/). */
export const ALLOWED_CI_SKIPS: Readonly<Record<string, string>> = {
  'unit/node/plot.test.ts':
    'a permission test is skipped when running as root (root ignores permission bits)',
  'cli/safety.test.ts': 'the full-disk test is skipped where a small tmpfs cannot be mounted (needs root)',
};

/**
 * Options for tests that need `what`: `{ skip: false }` when present; otherwise a skip with the
 * reason, or under CI=true a failing test named after the missing piece.
 */
export function requires(present: boolean, what: string): { skip: string | false } {
  if (present) return { skip: false };
  if (!CI) {
    process.stdout.write(`# skipped: ${what}\n`);
    return { skip: what };
  }
  test(`environment: ${what}`, () => {
    assert.fail(`CI=true, so a missing test dependency is a failure, not a skip: ${what}`);
  });
  return { skip: what };
}
