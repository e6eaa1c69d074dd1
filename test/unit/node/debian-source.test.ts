import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { packTar } from 'modern-tar';
import { DataError } from '../../../src/errors.js';
import { encodeIdx } from '../../../src/data/idx.js';
import {
  DEBIAN_MIRROR_ENV,
  debianMirror,
  isDebianMainArchive,
  parseDeb822Sources,
  parseSourcesList,
} from '../../../src/node/data/aptSources.js';
import { parseAr } from '../../../src/node/data/debArchive.js';
import { type DebianPackage, FASHION_MNIST_DEB } from '../../../src/node/data/debianSource.js';
import {
  DATA_DIR_ENV,
  type DownloadProgress,
  FASHION_MNIST_FILES,
  loadFashionMnistRaw,
} from '../../../src/node/data/fashionMnistFiles.js';

delete process.env[DATA_DIR_ENV];
delete process.env[DEBIAN_MIRROR_ENV];

let root = '';
let counter = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'dropout-lab-deb-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
const freshDir = (label: string): string => join(root, `${label}-${++counter}`);
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

// ---- apt configuration ----

test('apt sources: one-line and deb822 formats, Debian main archive chosen, third parties skipped', () => {
  const list = parseSourcesList(
    [
      '# comment',
      'deb-src http://src.example/debian bookworm main',
      'deb [arch=amd64 signed-by=/k.gpg] https://vendor.example/apt cloud-sdk main',
      'deb http://mirror.example/debian bookworm main contrib # trailing',
    ].join('\n'),
  );
  assert.deepEqual(list, [
    { uri: 'https://vendor.example/apt', suites: ['cloud-sdk'], components: ['main'] },
    { uri: 'http://mirror.example/debian', suites: ['bookworm'], components: ['main', 'contrib'] },
  ]);
  assert.deepEqual(list.map(isDebianMainArchive), [false, true]);

  const deb822 = parseDeb822Sources(
    [
      'Types: deb',
      '# http://snapshot.example/archive/debian/20250520T000000Z',
      'URIs: http://security.example/debian-security',
      'Suites: bookworm-security',
      'Components: main',
      '',
      'Types: deb deb-src',
      'URIs: http://a.example/debian',
      '  http://b.example/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      '',
      'Enabled: no',
      'Types: deb',
      'URIs: http://off.example/debian',
      'Suites: bookworm',
      'Components: main',
    ].join('\n'),
  );
  assert.deepEqual(
    deb822.map((s) => s.uri),
    ['http://security.example/debian-security', 'http://a.example/debian', 'http://b.example/debian'],
  );
  assert.deepEqual(deb822.map(isDebianMainArchive), [false, true, true]);
});

test('apt sources: sources.list first, then sources.list.d by name; the environment overrides', async () => {
  const apt = freshDir('apt');
  await mkdir(join(apt, 'sources.list.d'), { recursive: true });
  await writeFile(
    join(apt, 'sources.list.d', 'b.sources'),
    'Types: deb\nURIs: http://b.example/debian\nSuites: x\nComponents: main\n',
  );
  await writeFile(join(apt, 'sources.list.d', 'a.list'), 'deb http://a.example/debian x main\n');
  await writeFile(join(apt, 'sources.list.d', 'c.list.disabled'), 'deb http://c.example/debian x main\n');
  assert.equal(await debianMirror({}, apt), 'http://a.example/debian/');
  await writeFile(join(apt, 'sources.list'), 'deb http://main.example/debian/ x main\n');
  assert.equal(await debianMirror({}, apt), 'http://main.example/debian/');
  assert.equal(
    await debianMirror({ [DEBIAN_MIRROR_ENV]: 'http://env.example/d' }, apt),
    'http://env.example/d/',
  );
  assert.equal(await debianMirror({}, freshDir('no-apt')), undefined);
});

// ---- a small generated .deb on a local server ----

const DATA_DIR = FASHION_MNIST_DEB.dataDir;

/** Small IDX files that pass the loader's shape checks. */
const files: Record<string, Uint8Array> = {
  [FASHION_MNIST_FILES.trainImages]: encodeIdx(
    [4, 28, 28],
    Uint8Array.from({ length: 4 * 784 }, (_, i) => i % 251),
  ),
  [FASHION_MNIST_FILES.trainLabels]: encodeIdx([4], Uint8Array.from([1, 2, 3, 4])),
  [FASHION_MNIST_FILES.testImages]: encodeIdx(
    [2, 28, 28],
    Uint8Array.from({ length: 2 * 784 }, (_, i) => i % 13),
  ),
  [FASHION_MNIST_FILES.testLabels]: encodeIdx([2], Uint8Array.from([9, 0])),
};
const checksums = Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, sha256(bytes)]));

/** An ar archive as dpkg-deb writes it: magic, 60-byte headers, members padded to even offsets. */
function ar(members: Array<[string, Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [new TextEncoder().encode('!<arch>\n')];
  for (const [name, data] of members) {
    const header =
      name.padEnd(16) +
      '0'.padEnd(12) +
      '0'.padEnd(6) +
      '0'.padEnd(6) +
      '100644'.padEnd(8) +
      String(data.length).padEnd(10) +
      '`\n';
    parts.push(new TextEncoder().encode(header), data);
    if (data.length % 2 === 1) parts.push(new TextEncoder().encode('\n'));
  }
  return Buffer.concat(parts);
}

/** A .deb holding `contents` (file name → decompressed IDX bytes) as DATA_DIR/NAME.gz in data.tar.xz. */
async function makeDeb(contents: Record<string, Uint8Array>): Promise<Uint8Array> {
  const tar = await packTar([
    { header: { name: './usr/', type: 'directory', size: 0 } },
    ...Object.entries(contents).map(([name, bytes]) => {
      const body = gzipSync(bytes);
      return { header: { name: `./${DATA_DIR}/${name}.gz`, type: 'file' as const, size: body.length }, body };
    }),
  ]);
  // xz-utils is part of every Debian system (Priority: required); .ci/run installs it anyway.
  const xz = execFileSync('xz', ['-c', '--check=crc64'], { input: tar });
  const control = execFileSync('xz', ['-c'], { input: await packTar([]) });
  return ar([
    ['debian-binary', new TextEncoder().encode('2.0\n')],
    ['control.tar.xz', control],
    ['data.tar.xz', xz],
  ]);
}

const POOL = 'pool/main/t/test-data/test-data_1_all.deb';
const pkgFor = (deb: Uint8Array): DebianPackage => ({
  poolPath: POOL,
  size: deb.length,
  sha256: sha256(deb),
  dataDir: DATA_DIR,
});

/** Serves `body` at POOL on 127.0.0.1; `mode` shapes the response. */
async function serveDeb(
  body: Uint8Array,
  mode: 'ok' | 'truncated' = 'ok',
): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res: ServerResponse) => {
    const path = (req.url ?? '/').replace(/^\/debian\//, '');
    requests.push(path);
    if (decodeURIComponent(path) !== POOL) {
      res.writeHead(404).end();
      return;
    }
    if (mode === 'truncated') {
      // The connection drops after half the bytes, as a broken download does.
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    res.write(body.subarray(0, body.length >> 1));
    res.end(body.subarray(body.length >> 1));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/debian/`,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

async function listDir(dir: string): Promise<string[]> {
  return existsSync(dir) ? (await readdir(dir)).sort() : [];
}

/** Loads through the Debian source only (no official mirrors), with the system dir hidden. */
function loadVia(
  url: string,
  pkg: DebianPackage,
  cacheDir: string,
  sums = checksums,
  onProgress?: (e: DownloadProgress) => void,
) {
  return loadFashionMnistRaw({
    cacheDir,
    systemDir: freshDir('no-system'),
    mirrors: [],
    debian: { mirror: url, package: pkg },
    checksums: sums,
    onProgress,
  });
}

/** Asserts a one-line DataError matching every pattern. */
function isOneLineDataError(...patterns: RegExp[]) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  };
}

test('the generated .deb is a well-formed ar archive', async () => {
  const deb = await makeDeb(files);
  assert.deepEqual(
    parseAr(deb).map((m) => m.name),
    ['debian-binary', 'control.tar.xz', 'data.tar.xz'],
  );
  assert.throws(() => parseAr(deb.subarray(0, 100)), /truncated/);
  assert.throws(() => parseAr(new Uint8Array(10)), /not an ar archive/);
});

test('debian source: the four files land in the cache, verified, with progress; a second load does not download', async () => {
  const deb = await makeDeb(files);
  const server = await serveDeb(deb);
  const cacheDir = join(freshDir('cache'), 'nested');
  const events: DownloadProgress[] = [];
  try {
    const data = await loadVia(server.url, pkgFor(deb), cacheDir, checksums, (e) => events.push(e));
    assert.equal(data.source, cacheDir);
    assert.deepEqual([...data.trainLabels], [1, 2, 3, 4]);
    assert.deepEqual(
      await listDir(cacheDir),
      Object.keys(files)
        .map((n) => `${n}.gz`)
        .sort(),
    );
    assert.deepEqual(events[0], { file: 'test-data_1_all.deb', received: 0, total: deb.length });
    assert.deepEqual(events.at(-1), { file: 'test-data_1_all.deb', received: deb.length, total: deb.length });
    assert.deepEqual(server.requests, [POOL]);
    await loadVia(server.url, pkgFor(deb), cacheDir);
    assert.equal(server.requests.length, 1, 'the second load must come from the cache');
  } finally {
    await server.close();
  }
});

test('debian source: a wrong .deb checksum, a truncated download, a missing member and a bad member are one-line errors, and the cache stays empty', async () => {
  const good = await makeDeb(files);
  const { [FASHION_MNIST_FILES.testLabels]: _dropped, ...three } = files;
  const cases: Array<{
    what: string;
    body: Uint8Array;
    mode?: 'truncated';
    pkg?: DebianPackage;
    sums?: Record<string, string>;
    want: RegExp[];
  }> = [
    {
      what: 'wrong .deb checksum',
      body: good,
      pkg: { ...pkgFor(good), sha256: 'ab'.repeat(32) },
      want: [/test-data_1_all\.deb fails its checksum: SHA-256 is [0-9a-f]{12}…, expected abababababab…/],
    },
    {
      what: 'truncated download',
      body: good,
      mode: 'truncated',
      want: [/127\.0\.0\.1.*(terminated|truncated|other side closed)/],
    },
    {
      what: 'missing member',
      body: await makeDeb(three),
      want: [/lacks usr\/share\/datasets\/fashion-mnist\/t10k-labels-idx1-ubyte\.gz/],
    },
    {
      what: 'member failing SHA-256',
      body: good,
      sums: { ...checksums, [FASHION_MNIST_FILES.trainImages]: 'cd'.repeat(32) },
      want: [
        /train-images-idx3-ubyte\.gz in test-data_1_all\.deb fails its checksum: .* expected cdcdcdcdcdcd…/,
      ],
    },
  ];
  for (const c of cases) {
    const server = await serveDeb(c.body, c.mode);
    const cacheDir = freshDir('cache');
    try {
      await assert.rejects(
        loadVia(server.url, c.pkg ?? pkgFor(c.body), cacheDir, c.sums ?? checksums),
        isOneLineDataError(/from the Debian archive/, /Fix: /, ...c.want),
        c.what,
      );
      assert.deepEqual(await listDir(cacheDir), [], `${c.what}: nothing half-written in the cache`);
    } finally {
      await server.close();
    }
  }
});

test('debian source: no configured archive and an unreachable one are one-line errors', async () => {
  await assert.rejects(
    loadFashionMnistRaw({
      cacheDir: freshDir('cache'),
      systemDir: freshDir('no-system'),
      mirrors: [],
      debian: { aptDir: freshDir('no-apt') },
      checksums,
    }),
    isOneLineDataError(/no Debian archive is configured/, new RegExp(DEBIAN_MIRROR_ENV)),
  );
  await assert.rejects(
    loadVia('http://127.0.0.1:1/debian/', pkgFor(await makeDeb(files)), freshDir('cache')),
    isOneLineDataError(/127\.0\.0\.1:1\/debian\/pool\/main/),
  );
});
