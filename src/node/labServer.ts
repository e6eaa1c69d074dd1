/**
 * The lab's small local web server (the `lab` command starts it) for the browser lab (src/web, built
 * by Vite into dist/web). It serves exactly two things and nothing else:
 * - the built app: every regular file under the app folder, listed once at startup into a whitelist
 *   (requests are looked up in that map, never joined onto a filesystem path, so `..`, encoded dots,
 *   absolute paths and symlinks cannot reach anything else);
 * - the four Fashion-MNIST files the CLI resolves (loadFashionMnistRaw: --data-dir, $DROPOUT_LAB_DATA,
 *   the cache, the system copy, a download), checked against their SHA-256 and served decompressed
 *   as IDX bytes under /data/<official name>; 404 when the data could not be found.
 * GET and HEAD only, short URLs, no request bodies, and headers for cross-origin isolation (COOP/COEP,
 * so SharedArrayBuffer works in the page) plus a strict Content-Security-Policy.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { isIP, type AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArgumentError } from '../errors.js';
import {
  FASHION_MNIST_FILES,
  loadFashionMnistRaw,
  type FashionMnistRaw,
  type LoadOptions,
} from './data/fashionMnistFiles.js';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from '../data/idx.js';

/** Longest request target accepted (longer ones get 414). */
export const MAX_URL_LENGTH = 2048;
/** Largest file the app folder may hold; bigger ones are not served (the app is a few hundred kB). */
const MAX_APP_FILE_BYTES = 16 * 2 ** 20;
/** Most files served from the app folder (a guard against pointing --app-dir at a huge tree). */
const MAX_APP_FILES = 512;

/** Content-Security-Policy of every response: same-origin everything, wasm compilation allowed. */
export const LAB_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  // blob: for the wasm backend's helper thread (src/backend/wasm/web-host.ts).
  "worker-src 'self' blob:",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy': LAB_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** URL path of each data file: /data/ + the official file name (served decompressed). */
export const LAB_DATA_PATHS: Readonly<Record<keyof typeof FASHION_MNIST_FILES, string>> = {
  trainImages: `/data/${FASHION_MNIST_FILES.trainImages}`,
  trainLabels: `/data/${FASHION_MNIST_FILES.trainLabels}`,
  testImages: `/data/${FASHION_MNIST_FILES.testImages}`,
  testLabels: `/data/${FASHION_MNIST_FILES.testLabels}`,
};

/** Options of startLabServer. */
export interface LabServerOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number | undefined;
  /** Address to bind; default 127.0.0.1 (loopback only). */
  host?: string | undefined;
  /** Folder with the four Fashion-MNIST files (as `--data-dir` of the CLI). */
  dataDir?: string | undefined;
  /** Folder of the built app; default dist/web of this package. */
  appDir?: string | undefined;
  /**
   * The data to serve instead of resolving it: arrays, `null` for "no data" (every /data URL is
   * 404), or undefined (default) to resolve it like the CLI does. Tests pass their own.
   */
  data?: FashionMnistRaw | null | undefined;
  /** Extra options of loadFashionMnistRaw (tests turn downloads off). */
  load?: Omit<LoadOptions, 'dataDir'> | undefined;
  /** Called with one-line notices (data found or missing, app missing). */
  log?: ((line: string) => void) | undefined;
  /** Required to bind an address other than loopback (the lab has no authentication). */
  allowRemote?: boolean | undefined;
  /** Extra host names the Host header may carry (e.g. the machine's DNS name with --allow-remote). */
  allowedHosts?: readonly string[] | undefined;
  /** Seconds a client may take to send its request headers before it gets 408 (default 5). */
  requestTimeoutSeconds?: number | undefined;
}

/** A running lab server. */
export interface LabServer {
  /** Base URL, e.g. http://127.0.0.1:5173/ */
  readonly url: string;
  /** Resolves once the data is resolved: true when /data/* will be served. */
  readonly dataReady: Promise<boolean>;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly cache: string;
}

/** dist/web next to the compiled CLI, or the repo's dist/web when running from source (tsx). */
export function defaultAppDir(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? '../../dist/web/' : '../web/', import.meta.url));
}

/** Reads every regular file under `root` (no symlinks, no dotfiles) into a URL-path → asset map. */
async function loadApp(root: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  const walk = async (dir: string, prefix: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.') || !/^[\w.@-]+$/.test(entry.name)) continue;
      const path = join(dir, entry.name);
      const urlPath = `${prefix}/${entry.name}`;
      if (entry.isDirectory()) {
        await walk(path, urlPath);
      } else if (entry.isFile() && assets.size < MAX_APP_FILES) {
        const info = await lstat(path);
        if (!info.isFile() || info.size > MAX_APP_FILE_BYTES) continue;
        const type = MIME[extname(entry.name).toLowerCase()] ?? 'application/octet-stream';
        // Vite names built assets by content hash: they never change. HTML must be revalidated.
        const cache = urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
        assets.set(urlPath, { body: await readFile(path), type, cache });
      }
    }
  };
  await walk(root, '');
  const index = assets.get('/index.html');
  if (index !== undefined) assets.set('/', index);
  return assets;
}

/** IDX bytes (header + elements) of a uint8 array with `dims`, as the official files hold them. */
function idxBytes(magic: number, dims: readonly number[], data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + 4 * dims.length + data.length);
  out.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function dataAssets(raw: FashionMnistRaw): Map<string, Asset> {
  const images = (data: Uint8Array): Buffer => idxBytes(IDX_IMAGES_MAGIC, [data.length / 784, 28, 28], data);
  const labels = (data: Uint8Array): Buffer => idxBytes(IDX_LABELS_MAGIC, [data.length], data);
  const asset = (body: Buffer): Asset => ({ body, type: 'application/octet-stream', cache: 'no-cache' });
  return new Map([
    [LAB_DATA_PATHS.trainImages, asset(images(raw.trainImages))],
    [LAB_DATA_PATHS.trainLabels, asset(labels(raw.trainLabels))],
    [LAB_DATA_PATHS.testImages, asset(images(raw.testImages))],
    [LAB_DATA_PATHS.testLabels, asset(labels(raw.testLabels))],
  ]);
}

/**
 * The request path as a whitelist key, or undefined when it is malformed or tries to escape:
 * only `/` followed by [A-Za-z0-9_.@-] segments, no empty/`.`/`..` segments, no query tricks.
 */
export function normalizeRequestPath(target: string): string | undefined {
  if (!target.startsWith('/') || target.startsWith('//')) return undefined;
  const q = target.search(/[?#]/);
  const rawPath = q === -1 ? target : target.slice(0, q);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  if (path === '/') return path;
  const segments = path.slice(1).split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..' || !/^[\w.@-]+$/.test(s)) return undefined;
  }
  return path;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** How many Host headers a request carries (Node keeps only the first in `req.headers`). */
function hostHeaderCount(req: IncomingMessage): number {
  let n = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'host') n++;
  return n;
}

/** Starts the lab server; resolves once it listens. */
export async function startLabServer(opts: LabServerOptions = {}): Promise<LabServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ArgumentError(`--port must be an integer in 0..65535, got ${port}.`);
  }
  if (!isLoopback(host) && opts.allowRemote !== true) {
    throw new ArgumentError(
      `--host ${host} would expose the lab (which has no authentication) beyond this machine; add --allow-remote if you mean it, or drop --host to stay on 127.0.0.1.`,
    );
  }
  const log = opts.log ?? ((): void => undefined);
  if (!isLoopback(host)) {
    log(
      `warning: serving on ${host}, reachable from other machines; anyone who can reach it can use the lab. Only the Host names ${host}${(opts.allowedHosts ?? []).map((h) => ', ' + h).join('')} are answered.`,
    );
  }
  const appDir = opts.appDir ?? defaultAppDir();
  const app = await loadApp(appDir);
  if (!app.has('/')) {
    log(`note: the app is not built (no ${join(appDir, 'index.html')}); run \`npm run build:web\`.`);
  }

  let data = new Map<string, Asset>();
  const dataReady: Promise<boolean> = (async () => {
    if (opts.data === null) return false;
    try {
      const raw = opts.data ?? (await loadFashionMnistRaw({ ...opts.load, dataDir: opts.dataDir }));
      data = dataAssets(raw);
      log(`data: Fashion-MNIST from ${raw.source}`);
      return true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log(`data: not available, the lab will say so (${message})`);
      return false;
    }
  })();

  let boundPort = port;
  const allowedHosts = (): Set<string> => {
    const hostPart = isIP(host) === 6 ? `[${host}]` : host;
    const names = [hostPart, ...(opts.allowedHosts ?? [])];
    if (isLoopback(host)) names.push('127.0.0.1', 'localhost', '[::1]');
    return new Set(names.map((n) => `${n.toLowerCase()}:${boundPort}`));
  };

  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: Buffer | string,
    headers: Record<string, string> = {},
  ): void => {
    const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(payload.length),
      ...headers,
    });
    if (req.method === 'HEAD') res.end();
    else res.end(payload);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = req.url ?? '';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(req, res, 405, 'Method Not Allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    if (target.length > MAX_URL_LENGTH) {
      send(req, res, 414, 'URI Too Long\n');
      return;
    }
    const length = req.headers['content-length'];
    if ((length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined) {
      send(req, res, 413, 'Request bodies are not accepted\n', { Connection: 'close' });
      return;
    }
    // Two Host headers are ambiguous (a proxy and the server may read different ones): refuse.
    if (hostHeaderCount(req) > 1) {
      send(req, res, 400, 'Bad Request: more than one Host header\n', { Connection: 'close' });
      return;
    }
    // Against DNS rebinding: the server answers only to the names it serves under, also with
    // --allow-remote (the bound address and the names the user allowed).
    if (!allowedHosts().has((req.headers.host ?? '').toLowerCase())) {
      send(req, res, 421, 'Misdirected Request\n');
      return;
    }
    const path = normalizeRequestPath(target);
    if (path === undefined) {
      send(req, res, 400, 'Bad Request\n');
      return;
    }
    let asset: Asset | undefined;
    if (path.startsWith('/data/')) {
      await dataReady;
      asset = data.get(path);
    } else {
      asset = app.get(path);
    }
    if (asset === undefined) {
      send(req, res, 404, 'Not Found\n');
      return;
    }
    send(req, res, 200, asset.body, { 'Content-Type': asset.type, 'Cache-Control': asset.cache });
  };

  // A slow client (headers or request trickling in) gets 408 within a few seconds; Node checks the
  // timeouts every connectionsCheckingInterval, 30 s by default, hence the short interval.
  const timeoutMs = Math.round((opts.requestTimeoutSeconds ?? 5) * 1000);
  const server = createServer(
    {
      maxHeaderSize: 8192,
      requestTimeout: timeoutMs,
      headersTimeout: timeoutMs,
      connectionsCheckingInterval: Math.min(1000, timeoutMs),
    },
    (req, res) => {
      handle(req, res).catch(() => {
        if (!res.headersSent) send(req, res, 500, 'Internal Server Error\n');
        else res.destroy();
      });
    },
  );
  // Malformed requests (bad request line, headers over maxHeaderSize) get a bare 400/431, slow ones
  // 408, and a close.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return;
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new ArgumentError(
            `port ${port} on ${host} is in use; choose another --port, or --port 0 for any free port.`,
          ),
        );
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES') {
        reject(
          new ArgumentError(
            `cannot listen on ${host}:${port} (${err.code}); choose another --host or --port.`,
          ),
        );
      } else reject(err);
    });
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  boundPort = (server.address() as AddressInfo).port;
  const urlHost = isIP(host) === 6 ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${boundPort}/`,
    dataReady,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
