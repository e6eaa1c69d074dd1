/**
 * Loading the embedded kernel binaries: base64 decoding, relaxed-SIMD feature detection, and
 * rewriting the shared-memory import for hosts that cannot share memory. Browser-safe (no Node APIs).
 * Each variant is its own module, imported only when needed, so bundlers split them into separate
 * chunks and a browser fetches only the one it runs.
 */
import { RELAXED_PROBE_WASM } from './kernels.generated.js';

/** Which build of the kernels runs: plain 128-bit SIMD, or relaxed SIMD (fused multiply-add). */
export type KernelVariant = 'simd' | 'relaxed';

/** Decodes base64 with `atob`, which both browsers and Node (>= 16) provide. */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/** The kernel binary of a variant, loaded on demand (a separate chunk in a browser bundle). */
export async function kernelBytes(variant: KernelVariant): Promise<Uint8Array<ArrayBuffer>> {
  const { WASM } =
    variant === 'relaxed'
      ? await import('./kernels-relaxed.generated.js')
      : await import('./kernels-simd.generated.js');
  return decodeBase64(WASM);
}

/**
 * The kernel binary of a variant, synchronously; Node only (it loads the variant's module with
 * `require`, which Node >= 20.19 offers for ES modules), for the backend chosen on first use.
 */
export function kernelBytesSync(variant: KernelVariant): Uint8Array<ArrayBuffer> {
  const { createRequire } = process.getBuiltinModule('node:module');
  const load = createRequire(import.meta.url);
  const { WASM } = load(
    variant === 'relaxed' ? './kernels-relaxed.generated.js' : './kernels-simd.generated.js',
  ) as { WASM: string };
  return decodeBase64(WASM);
}

/** True when this engine validates a module that uses f32x4.relaxed_madd. */
export function relaxedSimdSupported(): boolean {
  try {
    return WebAssembly.validate(decodeBase64(RELAXED_PROBE_WASM));
  } catch {
    return false;
  }
}

function readLeb(bytes: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++]!;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [value, pos];
  }
}

/**
 * Returns a copy of `bytes` whose imported memory is declared unshared. The kernels are built with a
 * shared memory so worker threads can use it, but browsers only create shared memories when the page
 * is cross-origin isolated; single-threaded use must not depend on that. The limits flag byte is
 * 0x03 (shared, with maximum) and becomes 0x01 (with maximum), so no offsets move.
 */
export function unsharedMemoryVariant(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const out = bytes.slice();
  let pos = 8; // magic + version
  while (pos < out.length) {
    const id = out[pos++]!;
    const [size, body] = readLeb(out, pos);
    if (id === 2) {
      const [count, first] = readLeb(out, body);
      let p = first;
      for (let i = 0; i < count; i++) {
        for (let s = 0; s < 2; s++) {
          let len: number;
          [len, p] = readLeb(out, p); // module name, then field name
          p += len;
        }
        const kind = out[p++]!;
        if (kind === 2) {
          if (out[p] === 0x03) out[p] = 0x01;
          return out;
        }
        // Skip the other import kinds: func (type index), table (reftype + limits), global (type + mut).
        if (kind === 0) [, p] = readLeb(out, p);
        else if (kind === 1) {
          const flags = out[++p]!;
          [, p] = readLeb(out, p + 1);
          if (flags & 1) [, p] = readLeb(out, p);
        } else p += 2;
      }
      return out;
    }
    pos = body + size;
  }
  return out;
}
