/**
 * Finds, downloads and checks the four Fashion-MNIST files (Xiao, Rasul & Vollgraf 2017,
 * https://github.com/zalandoresearch/fashion-mnist). Node-only. Where the files come from, in order:
 * 1. `dataDir`, else $DROPOUT_LAB_DATA: must hold the files; no silent fall-through when it does not;
 * 2. the user cache dir; 3. /usr/share/datasets/fashion-mnist or $DROPOUT_LAB_SYSTEM_DATA (Debian's
 * dataset-fashion-mnist); 4. a download from the official mirrors into the cache dir; 5. Debian's
 * dataset-fashion-mnist .deb from the mirror apt uses, unpacked into the cache dir (debianSource.ts).
 * Each file may be stored gzip-compressed (NAME.gz) or raw (NAME); checksums cover the decompressed bytes.
 */
import { randomUUID } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { mkdirs } from '../mkdirs.js';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ArgumentError, DataError, InterruptedError, formatShape } from '../../errors.js';
import { type DebianSourceOptions, fetchFromDebian } from './debianSource.js';
import { gunzipIfNeeded, readIdxBytes } from './gunzip.js';
import { type IdxArray, isGzip, parseIdx } from '../../data/idx.js';
import { sha256Hex } from '../../data/sha256.js';

/** The four Fashion-MNIST files, by role; the names are those of the official distribution. */
export const FASHION_MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** A role in the data set: train or test, images or labels. */
export type FashionMnistRole = keyof typeof FASHION_MNIST_FILES;

/** One of the four official file names (without `.gz`). */
export type FashionMnistFileName = (typeof FASHION_MNIST_FILES)[FashionMnistRole];

/** The four file names in a fixed order: train images, train labels, test images, test labels. */
export const FASHION_MNIST_FILE_NAMES: readonly FashionMnistFileName[] = Object.values(FASHION_MNIST_FILES);

/** SHA-256 of each file's decompressed bytes, as published upstream. */
export const FASHION_MNIST_SHA256: Readonly<Record<FashionMnistFileName, string>> = {
  'train-images-idx3-ubyte': 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
  'train-labels-idx1-ubyte': 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
  't10k-images-idx3-ubyte': '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
  't10k-labels-idx1-ubyte': '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
};

/** Official mirrors, tried in order; each serves NAME.gz. Plain HTTP is safe: every file is SHA-256 checked. */
export const DEFAULT_MIRRORS: readonly string[] = [
  'https://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
  'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
];

/** Where Debian's `dataset-fashion-mnist` package installs the .gz files. */
export const SYSTEM_DATA_DIR = '/usr/share/datasets/fashion-mnist';

/** Environment variable that replaces SYSTEM_DATA_DIR (e.g. a nonexistent path, to test a bare machine). */
export const SYSTEM_DATA_ENV = 'DROPOUT_LAB_SYSTEM_DATA';

/** Environment variable replacing DEFAULT_MIRRORS: comma-separated base URLs (e.g. a local mirror; tests). */
export const MIRRORS_ENV = 'DROPOUT_LAB_MIRRORS';

/** Environment variable naming a directory that holds the files (same as `dataDir`). */
export const DATA_DIR_ENV = 'DROPOUT_LAB_DATA';

/** Side of a Fashion-MNIST image in pixels; each image is 28 × 28 = 784 uint8 pixels. */
export const IMAGE_SIDE = 28;

/** Number of classes; labels are 0..9. */
export const NUM_CLASSES = 10;

/** The raw data set: uint8 pixels (n × 784, row-major) and uint8 labels, plus the directory it came from. */
export interface FashionMnistRaw {
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages: Uint8Array;
  testLabels: Uint8Array;
  source: string;
}

/** Download progress of one file; `total` is undefined when the server sends no usable Content-Length. */
export interface DownloadProgress {
  file: string;
  received: number;
  total: number | undefined;
}

/** Options of loadFashionMnistRaw; every field is optional. */
export interface LoadOptions {
  /** Directory that must hold the files; overrides $DROPOUT_LAB_DATA and disables every fallback. */
  dataDir?: string | undefined;
  /** Cache directory; default: $XDG_CACHE_HOME/dropout-lab/fashion-mnist or ~/.cache/dropout-lab/fashion-mnist. */
  cacheDir?: string | undefined;
  /** System-wide data directory; default: $DROPOUT_LAB_SYSTEM_DATA, else /usr/share/datasets/fashion-mnist. */
  systemDir?: string | undefined;
  /** Mirror base URLs, tried in order; default: $DROPOUT_LAB_MIRRORS (comma-separated), else DEFAULT_MIRRORS. */
  mirrors?: readonly string[] | undefined;
  /** Whether to download when no directory has the files; default true. */
  download?: boolean | undefined;
  /** Whether to check SHA-256 of the decompressed bytes; default true. */
  verify?: boolean | undefined;
  /** SHA-256 per file name (without .gz); default: FASHION_MNIST_SHA256. Tests pass their own. */
  checksums?: Readonly<Record<string, string>> | undefined;
  /**
   * The Debian-archive source tried after the mirrors; false turns it off. Default: on (apt's mirror, the
   * pinned package) when `mirrors` is left at its default, off when the caller names its own mirrors.
   */
  debian?: DebianSourceOptions | false | undefined;
  /** Called as download bytes arrive. */
  onProgress?: ((event: DownloadProgress) => void) | undefined;
  /**
   * Stops a download or load when aborted (Ctrl-C): the partial download is removed and the call
   * rejects with an InterruptedError whose signal is the abort reason ('SIGINT' or 'SIGTERM').
   */
  signal?: AbortSignal | undefined;
}

/** Rejects with an InterruptedError once `signal` is aborted. */
function checkStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) {
    const sig = String(signal.reason);
    throw new InterruptedError(`stopped by ${sig} while loading Fashion-MNIST`, sig);
  }
}

/** An AbortController that also aborts with `outer` (e.g. a stall timer plus Ctrl-C); `dispose` unlinks it. */
function linkedController(outer: AbortSignal | undefined): { controller: AbortController; dispose(): void } {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(new Error(`stopped by ${String(outer?.reason)}`));
  if (outer?.aborted === true) onAbort();
  else outer?.addEventListener('abort', onAbort, { once: true });
  return { controller, dispose: () => outer?.removeEventListener('abort', onAbort) };
}

/** The default cache directory: $XDG_CACHE_HOME (or %LOCALAPPDATA% on Windows, or ~/.cache)/dropout-lab/fashion-mnist. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_CACHE_HOME'];
  const local = env['LOCALAPPDATA'];
  const base =
    xdg !== undefined && isAbsolute(xdg)
      ? xdg
      : process.platform === 'win32' && local !== undefined && local !== ''
        ? local
        : join(homedir(), '.cache');
  return join(base, 'dropout-lab', 'fashion-mnist');
}

const PROJECT_URL = 'https://github.com/zalandoresearch/fashion-mnist';
const CACHE_FIX = 'delete it and run again to re-download, or pass --data-dir';
const SYSTEM_FIX =
  'reinstall it with `sudo apt-get install --reinstall dataset-fashion-mnist`, or pass --data-dir';
const EXPLICIT_FIX = `replace it with an intact copy of the official file (${PROJECT_URL})`;
const NOTHING_WORKED_FIX =
  `pass --data-dir DIR (or set ${DATA_DIR_ENV}=DIR) naming a folder that holds the four files, ` +
  'run `sudo apt-get install dataset-fashion-mnist`, or allow network access so they can be downloaded';
// Abort a download that sends nothing for this long; a total timeout would fail slow but working links.
const STALL_MS = 30_000;

/** The mirrors $DROPOUT_LAB_MIRRORS lists, or undefined when it is unset or empty. */
function mirrorsFromEnv(): string[] | undefined {
  const list = (process.env[MIRRORS_ENV] ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
  return list.length === 0 ? undefined : list;
}

/** Collapses whitespace so every message stays on one line, and unwraps fetch's `cause`. */
function describe(err: unknown): string {
  let text = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && err.cause instanceof Error) text += ` (${err.cause.message})`;
  return text.replace(/\s+/g, ' ').trim();
}

function hashPrefix(hash: string): string {
  return `${hash.slice(0, 12)}…`;
}

/** Path of NAME.gz or NAME in `dir`, whichever exists first, or undefined. */
async function findFile(dir: string, name: string): Promise<string | undefined> {
  for (const candidate of [`${name}.gz`, name]) {
    const path = join(dir, candidate);
    try {
      if ((await stat(path)).isFile()) return path;
    } catch {
      // Missing or unreadable: try the other spelling, then report the file as missing.
    }
  }
  return undefined;
}

interface DirScan {
  paths: Map<FashionMnistFileName, string>;
  missing: FashionMnistFileName[];
}

async function scanDir(dir: string): Promise<DirScan> {
  const found = await Promise.all(FASHION_MNIST_FILE_NAMES.map((name) => findFile(dir, name)));
  const paths = new Map<FashionMnistFileName, string>();
  const missing: FashionMnistFileName[] = [];
  FASHION_MNIST_FILE_NAMES.forEach((name, i) => {
    const path = found[i];
    if (path === undefined) missing.push(name);
    else paths.set(name, path);
  });
  return { paths, missing };
}

/** Reads, decompresses, parses and (with `expected`) checksums one file; problems name `fix`. */
async function readIdx(
  path: string,
  expected: string | undefined,
  fix: string,
  signal?: AbortSignal,
): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readIdxBytes(path, fix);
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`Cannot read ${path} (${describe(err)}). Fix: ${fix}.`);
  }
  // Between the read and the (synchronous) gunzip: the one point where a Ctrl-C can stop a load.
  checkStopped(signal);
  const raw = gunzipIfNeeded(bytes, path, fix);
  const idx = parseIdx(raw, path, fix);
  if (expected !== undefined) {
    const actual = sha256Hex(raw);
    if (actual !== expected.toLowerCase()) {
      throw new DataError(
        `${path} fails its checksum: SHA-256 of the decompressed bytes is ${hashPrefix(actual)}, ` +
          `expected ${hashPrefix(expected)}. Fix: ${fix}.`,
      );
    }
  }
  return idx;
}

/** Loads all four files from `dir` and checks that they fit together as images [n, 28, 28] and labels [n]. */
async function loadDir(
  dir: string,
  paths: Map<FashionMnistFileName, string>,
  checksums: Readonly<Record<string, string>> | undefined,
  fix: string,
  signal?: AbortSignal,
): Promise<FashionMnistRaw> {
  const load = (name: FashionMnistFileName): Promise<IdxArray> => {
    const expected = checksums === undefined ? undefined : checksums[name];
    if (checksums !== undefined && expected === undefined) {
      throw new DataError(`No SHA-256 checksum is known for ${name}. Fix: add it to the checksums table.`);
    }
    return readIdx(paths.get(name)!, expected, fix, signal);
  };
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(
    FASHION_MNIST_FILE_NAMES.map((name) => load(name)),
  );
  const split = (
    imagesName: FashionMnistFileName,
    images: IdxArray,
    labelsName: FashionMnistFileName,
    labels: IdxArray,
  ): void => {
    const imagesPath = paths.get(imagesName)!;
    const labelsPath = paths.get(labelsName)!;
    const [, rows, cols] = images.dims;
    if (images.dims.length !== 3 || rows !== IMAGE_SIDE || cols !== IMAGE_SIDE) {
      throw new DataError(
        `${imagesPath} holds an array of shape ${formatShape(images.dims)}, expected images [n, ${IMAGE_SIDE}, ${IMAGE_SIDE}]. Fix: ${fix}.`,
      );
    }
    if (labels.dims.length !== 1) {
      throw new DataError(
        `${labelsPath} holds an array of shape ${formatShape(labels.dims)}, expected labels [n]. Fix: ${fix}.`,
      );
    }
    if (labels.dims[0] !== images.dims[0]) {
      throw new DataError(
        `${labelsPath} holds ${labels.dims[0]} labels but ${imagesPath} holds ${images.dims[0]} images. Fix: ${fix}.`,
      );
    }
    const bad = labels.data.findIndex((label) => label >= NUM_CLASSES);
    if (bad >= 0) {
      throw new DataError(
        `${labelsPath} has label ${labels.data[bad]} at index ${bad}, outside 0..${NUM_CLASSES - 1}. Fix: ${fix}.`,
      );
    }
  };
  split(FASHION_MNIST_FILES.trainImages, trainImages!, FASHION_MNIST_FILES.trainLabels, trainLabels!);
  split(FASHION_MNIST_FILES.testImages, testImages!, FASHION_MNIST_FILES.testLabels, testLabels!);
  return {
    trainImages: trainImages!.data,
    trainLabels: trainLabels!.data,
    testImages: testImages!.data,
    testLabels: testLabels!.data,
    source: dir,
  };
}

/** Size from Content-Length, unless the body is transfer-decoded (then the header counts other bytes). */
function contentLength(headers: Headers): number | undefined {
  const encoding = headers.get('content-encoding');
  if (encoding !== null && encoding !== 'identity') return undefined;
  const length = Number(headers.get('content-length') ?? NaN);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

/**
 * Downloads `url` into a temp file in `cacheDir`, checks it, then renames it into place. The rename is
 * atomic, so the cache only ever holds whole, verified files; the temp file is removed on any failure.
 */
async function downloadFile(
  url: string,
  cacheDir: string,
  name: FashionMnistFileName,
  expected: string | undefined,
  onProgress: LoadOptions['onProgress'],
  signal: AbortSignal | undefined,
): Promise<void> {
  const file = `${name}.gz`;
  const tmp = join(cacheDir, `.${file}.${randomUUID()}.part`);
  const link = linkedController(signal);
  const { controller } = link;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no data for ${STALL_MS / 1000} s`)), STALL_MS);
  };
  let renamed = false;
  try {
    arm();
    const response = await fetch(url, { signal: controller.signal });
    if (!response.ok || response.body === null) {
      await response.body?.cancel().catch(() => undefined);
      throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
    }
    const total = contentLength(response.headers);
    const reader = response.body.getReader();
    const handle = await open(tmp, 'wx');
    try {
      let received = 0;
      onProgress?.({ file, received, total });
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        arm();
        for (let offset = 0; offset < value.length;) {
          offset += (await handle.write(value, offset, value.length - offset)).bytesWritten;
        }
        received += value.length;
        onProgress?.({ file, received, total });
      }
      await handle.sync();
    } catch (err) {
      await reader.cancel().catch(() => undefined);
      throw err;
    } finally {
      await handle.close();
    }
    clearTimeout(timer);
    const bytes = await readFile(tmp);
    // An empty fix: the caller folds this message into one error that lists the fixes.
    const raw = gunzipIfNeeded(bytes, 'the download', '');
    parseIdx(raw, 'the download', '');
    if (expected !== undefined) {
      const actual = sha256Hex(raw);
      if (actual !== expected.toLowerCase()) {
        throw new Error(
          `${file} fails its checksum: SHA-256 of the decompressed bytes is ${hashPrefix(actual)}, expected ${hashPrefix(expected)}`,
        );
      }
    }
    // A server that sets Content-Encoding: gzip makes fetch hand back raw bytes; store them under NAME.
    await rename(tmp, join(cacheDir, isGzip(bytes) ? file : name));
    renamed = true;
  } finally {
    clearTimeout(timer);
    link.dispose();
    if (!renamed) await rm(tmp, { force: true }).catch(() => undefined);
  }
}

/** Downloads each missing file (into the existing `cacheDir`) from the first mirror that works; returns why it failed, or undefined. */
async function downloadMissing(
  cacheDir: string,
  missing: readonly FashionMnistFileName[],
  mirrors: readonly string[],
  checksums: Readonly<Record<string, string>> | undefined,
  onProgress: LoadOptions['onProgress'],
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  if (mirrors.length === 0) return 'no mirrors are configured';
  for (const name of missing) {
    const expected = checksums === undefined ? undefined : checksums[name];
    if (checksums !== undefined && expected === undefined) return `no SHA-256 checksum is known for ${name}`;
    const failures: string[] = [];
    let done = false;
    for (const mirror of mirrors) {
      const url = new URL(`${name}.gz`, mirror.endsWith('/') ? mirror : `${mirror}/`).href;
      try {
        await downloadFile(url, cacheDir, name, expected, onProgress, signal);
        done = true;
        break;
      } catch (err) {
        // A Ctrl-C is not a mirror failure: no other mirror, no Debian archive.
        checkStopped(signal);
        failures.push(`${url}: ${describe(err)}`);
      }
    }
    if (!done) return failures.join('; ');
  }
  return undefined;
}

/**
 * Loads the raw Fashion-MNIST arrays from the first place that has them: `dataDir` / $DROPOUT_LAB_DATA,
 * the cache dir, the system dir, or a fresh download into the cache dir. Every file is parsed and, unless
 * `verify` is false, SHA-256 checked. Every failure is a one-line DataError naming the problem and fix.
 */
export async function loadFashionMnistRaw(opts: LoadOptions = {}): Promise<FashionMnistRaw> {
  checkStopped(opts.signal);
  const checksums = (opts.verify ?? true) ? (opts.checksums ?? FASHION_MNIST_SHA256) : undefined;

  // An empty dataDir (an unset shell variable) would resolve to the current directory.
  if (opts.dataDir !== undefined && opts.dataDir.trim() === '') {
    throw new ArgumentError('--data-dir is empty; pass the folder that holds the four Fashion-MNIST files.');
  }
  const envDir = process.env[DATA_DIR_ENV];
  const explicit = opts.dataDir ?? (envDir?.trim() === '' ? undefined : envDir);
  if (explicit !== undefined) {
    const via = opts.dataDir !== undefined ? '--data-dir' : `$${DATA_DIR_ENV}`;
    const dir = resolve(explicit);
    const scan = await scanDir(dir);
    if (scan.missing.length > 0) {
      const missing = scan.missing.map((name) => `${name}(.gz)`).join(', ');
      throw new DataError(
        `${via} ${dir} lacks ${missing}. Fix: put the four Fashion-MNIST files there (raw or .gz, from ${PROJECT_URL}), ` +
          `or drop ${via} to use the cache, the system copy or a download.`,
      );
    }
    return loadDir(dir, scan.paths, checksums, `${EXPLICIT_FIX}, or point ${via} elsewhere`, opts.signal);
  }

  const cacheDir = resolve(opts.cacheDir ?? defaultCacheDir());
  const cached = await scanDir(cacheDir);
  if (cached.missing.length === 0) return loadDir(cacheDir, cached.paths, checksums, CACHE_FIX, opts.signal);

  const systemEnv = process.env[SYSTEM_DATA_ENV];
  const systemDir = resolve(
    opts.systemDir ?? (systemEnv === undefined || systemEnv === '' ? SYSTEM_DATA_DIR : systemEnv),
  );
  const system = await scanDir(systemDir);
  if (system.missing.length === 0)
    return loadDir(systemDir, system.paths, checksums, SYSTEM_FIX, opts.signal);

  let why = 'downloading is turned off';
  if (opts.download ?? true) {
    // The cache dir first: a download (30.9 MB from the Debian archive) is pointless when there is
    // nowhere to keep it, and this is the one place that finds out in milliseconds.
    try {
      await mkdirs(cacheDir);
    } catch (err) {
      throw new DataError(
        `Fashion-MNIST is neither in ${cacheDir} nor in ${systemDir}, and nothing was downloaded: cannot create the cache dir ${cacheDir} (${describe(err)}). ` +
          `Fix: set XDG_CACHE_HOME to a folder you can write to, or ${NOTHING_WORKED_FIX}.`,
      );
    }
    const mirrors = opts.mirrors ?? mirrorsFromEnv() ?? DEFAULT_MIRRORS;
    let failure = await downloadMissing(
      cacheDir,
      cached.missing,
      mirrors,
      checksums,
      opts.onProgress,
      opts.signal,
    );
    const debianOpts = opts.debian ?? (opts.mirrors === undefined ? {} : false);
    if (failure !== undefined && debianOpts !== false) {
      const debian = await fetchFromDebian(cacheDir, cached.missing, checksums, opts.onProgress, {
        ...debianOpts,
        signal: opts.signal,
      });
      checkStopped(opts.signal);
      failure = debian === undefined ? undefined : `${failure}; and from the Debian archive: ${debian}`;
    }
    if (failure === undefined) {
      const fresh = await scanDir(cacheDir);
      if (fresh.missing.length === 0)
        return loadDir(cacheDir, fresh.paths, checksums, CACHE_FIX, opts.signal);
      why = `the downloaded files vanished from ${cacheDir}`;
    } else {
      why = `the download failed: ${failure}`;
    }
  }
  throw new DataError(
    `Fashion-MNIST is neither in ${cacheDir} nor in ${systemDir}, and ${why}. Fix: ${NOTHING_WORKED_FIX}.`,
  );
}
