/** The package's version, for `dropout-lab --version`. */
import { readFileSync } from 'node:fs';

/** Reads `version` from package.json, which sits two folders up from both src/cli and dist/cli. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
