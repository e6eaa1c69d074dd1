/**
 * Fashion-MNIST from the Debian archive, for machines that can install packages but reach nothing else:
 * downloads Debian's `dataset-fashion-mnist` .deb from the mirror apt already uses (or
 * $DROPOUT_LAB_DEBIAN_MIRROR), checks its size and SHA-256, extracts the four .gz files in-process (no
 * dpkg, no root), checks each file's decompressed SHA-256, and only then moves them into the cache, each
 * by an atomic rename. Node-only.
 */
import { createHash, randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEBIAN_MIRROR_ENV, debianMirror } from './aptSources.js';
import { extractDebFiles } from './debArchive.js';
import { gunzipIfNeeded } from './gunzip.js';
import { sha256Hex } from '../../data/sha256.js';
import { mkdirs } from '../mkdirs.js';

/** A pinned Debian package that holds the data files: where it sits in the pool and what it must hash to. */
export interface DebianPackage {
  /** Path under the archive's base URL, e.g. `pool/main/d/…_all.deb`. */
  poolPath: string;
  size: number;
  sha256: string;
  /** Directory inside the package that holds the NAME.gz files. */
  dataDir: string;
}

/** Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1: the four official .gz files, 30.9 MB. */
export const FASHION_MNIST_DEB: DebianPackage = {
  poolPath: 'pool/main/d/dataset-fashion-mnist/dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb',
  size: 30_900_652,
  sha256: '39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0',
  dataDir: 'usr/share/datasets/fashion-mnist',
};

/** Where to get the package; every field is optional (tests pass a local server and a small package). */
export interface DebianSourceOptions {
  /** Archive base URL; default: $DROPOUT_LAB_DEBIAN_MIRROR, else the first Debian main entry of apt's sources. */
  mirror?: string | undefined;
  /** The package to fetch; default FASHION_MNIST_DEB. */
  package?: DebianPackage | undefined;
  /** Directory holding apt's configuration; default /etc/apt. */
  aptDir?: string | undefined;
  /** Stops the download when aborted (Ctrl-C); nothing is written to the cache then. */
  signal?: AbortSignal | undefined;
}

/** Download progress, as fashionMnistFiles reports it. */
type OnProgress =
  ((event: { file: string; received: number; total: number | undefined }) => void) | undefined;

// Abort a download that sends nothing for this long; a total timeout would fail slow but working links.
const STALL_MS = 30_000;

/** Downloads `url` into memory, checking the length and SHA-256 as it arrives. */
async function download(
  url: string,
  pkg: DebianPackage,
  file: string,
  onProgress: OnProgress,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(new Error(`stopped by ${String(signal?.reason)}`));
  if (signal?.aborted === true) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no data for ${STALL_MS / 1000} s`)), STALL_MS);
  };
  try {
    arm();
    const response = await fetch(url, { signal: controller.signal });
    if (!response.ok || response.body === null) {
      await response.body?.cancel().catch(() => undefined);
      throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
    }
    // The .deb is itself compressed; its pinned size both sizes the buffer and caps what we accept.
    const bytes = new Uint8Array(pkg.size);
    const hash = createHash('sha256');
    let received = 0;
    onProgress?.({ file, received, total: pkg.size });
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        arm();
        if (received + value.length > pkg.size) {
          throw new Error(`the server sent more than the expected ${pkg.size} bytes`);
        }
        bytes.set(value, received);
        hash.update(value);
        received += value.length;
        onProgress?.({ file, received, total: pkg.size });
      }
    } catch (err) {
      await reader.cancel().catch(() => undefined);
      throw err;
    }
    if (received !== pkg.size) throw new Error(`truncated download: ${received} of ${pkg.size} bytes`);
    const actual = hash.digest('hex');
    if (actual !== pkg.sha256.toLowerCase()) {
      throw new Error(
        `${file} fails its checksum: SHA-256 is ${actual.slice(0, 12)}…, expected ${pkg.sha256.slice(0, 12)}…`,
      );
    }
    return bytes;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Writes `bytes` to a new temp file in `dir` and syncs it; returns the temp path. */
async function writeTemp(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const tmp = join(dir, `.${name}.${randomUUID()}.part`);
  const handle = await open(tmp, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return tmp;
}

/**
 * Fetches `names` (files stored as NAME.gz in the package) into `cacheDir` from the Debian archive.
 * Returns undefined on success, else one line saying why it failed (the caller folds it into its own
 * error with the fixes). Nothing is left in the cache unless every file was fetched and verified.
 */
export async function fetchFromDebian(
  cacheDir: string,
  names: readonly string[],
  checksums: Readonly<Record<string, string>> | undefined,
  onProgress: OnProgress,
  opts: DebianSourceOptions = {},
): Promise<string | undefined> {
  const pkg = opts.package ?? FASHION_MNIST_DEB;
  const mirror = opts.mirror ?? (await debianMirror(process.env, opts.aptDir));
  if (mirror === undefined) {
    return `no Debian archive is configured (no Debian main entry in apt's sources, and $${DEBIAN_MIRROR_ENV} is unset)`;
  }
  const base = mirror.endsWith('/') ? mirror : `${mirror}/`;
  let url: string;
  try {
    url = new URL(pkg.poolPath, base).href;
  } catch {
    return `the Debian archive URL "${mirror}" is not a valid URL`;
  }
  const file = pkg.poolPath.slice(pkg.poolPath.lastIndexOf('/') + 1);
  const describe = (err: unknown): string => {
    let text = err instanceof Error ? err.message : String(err);
    if (err instanceof Error && err.cause instanceof Error && !text.includes(err.cause.message)) {
      text += ` (${err.cause.message})`;
    }
    return `${url}: ${text.replace(/\s+/g, ' ').trim()}`;
  };

  let members: Map<string, Uint8Array>;
  try {
    const deb = await download(url, pkg, file, onProgress, opts.signal);
    const paths = names.map((name) => `${pkg.dataDir}/${name}.gz`);
    members = await extractDebFiles(deb, paths);
    const missing = paths.filter((path) => !members.has(path));
    if (missing.length > 0) throw new Error(`${file} lacks ${missing.join(', ')}`);
  } catch (err) {
    return describe(err);
  }

  // Check everything before writing anything, so a bad member leaves the cache untouched.
  const verified: Array<[string, Uint8Array]> = [];
  for (const name of names) {
    const gz = members.get(`${pkg.dataDir}/${name}.gz`)!;
    const expected = checksums?.[name];
    if (checksums !== undefined && expected === undefined) return `no SHA-256 checksum is known for ${name}`;
    if (expected !== undefined) {
      let raw: Uint8Array;
      try {
        raw = gunzipIfNeeded(gz, `${name}.gz in ${file}`, '');
      } catch (err) {
        return describe(err);
      }
      const actual = sha256Hex(raw);
      if (actual !== expected.toLowerCase()) {
        return describe(
          `${name}.gz in ${file} fails its checksum: SHA-256 of the decompressed bytes is ${actual.slice(0, 12)}…, ` +
            `expected ${expected.slice(0, 12)}…`,
        );
      }
    }
    verified.push([`${name}.gz`, gz]);
  }

  if (opts.signal?.aborted === true) return `stopped by ${String(opts.signal.reason)}`;
  const temps: string[] = [];
  try {
    // Never Node's recursive mkdir: it spins for ever on paths such as /proc/… (see mkdirs.ts).
    await mkdirs(cacheDir);
    for (const [name, bytes] of verified) temps.push(await writeTemp(cacheDir, name, bytes));
    // Each rename is atomic; the cache counts as complete only once all four are there.
    for (const [i, [name]] of verified.entries()) {
      await rename(temps[i]!, join(cacheDir, name));
      temps[i] = '';
    }
  } catch (err) {
    return `cannot write into the cache dir ${cacheDir} (${err instanceof Error ? err.message : String(err)})`;
  } finally {
    await Promise.all(
      temps.filter((t) => t !== '').map((t) => rm(t, { force: true }).catch(() => undefined)),
    );
  }
  return undefined;
}
