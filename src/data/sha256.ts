/**
 * SHA-256 (FIPS 180-4) of bytes, for the dataset files' and the checkpoint container's checksums. It
 * is node:crypto's, reached through `process.getBuiltinModule` at call time rather than an `import`,
 * so that no `node:` import reaches a browser bundle that merely includes a caller; the hash itself
 * is needed only where files are read or written (Node, Deno and Bun provide node:crypto).
 */
import { DropoutLabError } from '../errors.js';

/** SHA-256 digest of `bytes` as 64 lowercase hex digits. */
export function sha256Hex(bytes: Uint8Array): string {
  // A browser has no synchronous SHA-256 (Web Crypto's digest is asynchronous), hence Node's.
  const getBuiltinModule = globalThis.process?.getBuiltinModule;
  if (typeof getBuiltinModule !== 'function') {
    throw new DropoutLabError(
      'SHA-256 checksums need node:crypto (Node 20.16 or later); read and write checkpoints and dataset files in Node.',
    );
  }
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(bytes).digest('hex');
}
