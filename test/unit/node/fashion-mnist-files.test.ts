import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError } from '../../../src/errors.js';
import { decodeIdxFile, gunzipIfNeeded } from '../../../src/node/data/gunzip.js';
import { encodeIdx, MAX_IDX_BYTES, parseIdx } from '../../../src/data/idx.js';
import {
  DATA_DIR_ENV,
  defaultCacheDir,
  type DownloadProgress,
  FASHION_MNIST_FILE_NAMES,
  FASHION_MNIST_FILES,
  FASHION_MNIST_SHA256,
  loadFashionMnistRaw,
  SYSTEM_DATA_DIR,
} from '../../../src/node/data/fashionMnistFiles.js';
import { requires } from '../../helpers/environment.js';

// Tests must not pick up a developer's data dir.
delete process.env[DATA_DIR_ENV];

let root = '';
let counter = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'dropout-lab-data-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh, not yet created, directory under the test root. */
function freshDir(label: string): string {
  counter += 1;
  return join(root, `${label}-${counter}`);
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

interface Fixture {
  files: Record<string, Uint8Array>; // decompressed IDX bytes by file name
  checksums: Record<string, string>;
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
}

/** A tiny Fashion-MNIST look-alike: `nTrain` and `nTrain / 2` deterministic 28x28 images. */
function makeFixture(nTrain = 10, seed = 0): Fixture {
  const nTest = Math.max(1, nTrain / 2);
  const images = (n: number, salt: number): Uint8Array =>
    Uint8Array.from({ length: n * 784 }, (_, i) => (i * 7 + salt + seed) % 256);
  const labels = (n: number, salt: number): Uint8Array =>
    Uint8Array.from({ length: n }, (_, i) => (i + salt + seed) % 10);
  const trainImages = images(nTrain, 1);
  const trainLabels = labels(nTrain, 2);
  const files: Record<string, Uint8Array> = {
    [FASHION_MNIST_FILES.trainImages]: encodeIdx([nTrain, 28, 28], trainImages),
    [FASHION_MNIST_FILES.trainLabels]: encodeIdx([nTrain], trainLabels),
    [FASHION_MNIST_FILES.testImages]: encodeIdx([nTest, 28, 28], images(nTest, 3)),
    [FASHION_MNIST_FILES.testLabels]: encodeIdx([nTest], labels(nTest, 4)),
  };
  const checksums = Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, sha256(bytes)]));
  return { files, checksums, trainImages, trainLabels };
}

async function writeFixture(dir: string, fixture: Fixture, gzip = true): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(fixture.files)) {
    await writeFile(join(dir, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  }
}

/** Asserts a one-line DataError whose message matches every pattern. */
function isDataError(...patterns: RegExp[]): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), `message is not one line: ${err.message}`);
    for (const pattern of patterns) assert.match(err.message, pattern);
    return true;
  };
}

const fixture = makeFixture();
const imagesIdx = fixture.files[FASHION_MNIST_FILES.trainImages]!;
const labelsIdx = fixture.files[FASHION_MNIST_FILES.trainLabels]!;

// ---- IDX parsing ----

test('parseIdx reads 3-D images and 1-D labels into plain, independent Uint8Arrays', () => {
  const images = parseIdx(imagesIdx, 'images');
  assert.deepEqual(images.dims, [10, 28, 28]);
  assert.deepEqual(images.data, fixture.trainImages);
  assert.equal(images.data.byteOffset, 0);
  const labels = parseIdx(Buffer.from(labelsIdx), 'labels');
  assert.deepEqual(labels.dims, [10]);
  assert.equal(Object.getPrototypeOf(labels.data), Uint8Array.prototype);
  assert.deepEqual([...labels.data], [...fixture.trainLabels]);
});

test('decodeIdxFile reads gzip and raw bytes alike', () => {
  const fromGz = decodeIdxFile(gzipSync(imagesIdx), 'images.gz');
  const fromRaw = decodeIdxFile(imagesIdx, 'images');
  assert.deepEqual(fromGz, fromRaw);
  assert.equal(gunzipIfNeeded(imagesIdx, 'raw'), imagesIdx);
});

/** Copy of `bytes` with big-endian uint32 `value` written at `offset`. */
function patch32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(offset, value);
  return copy;
}

const corruptions: [string, Uint8Array, RegExp][] = [
  ['empty file', new Uint8Array(0), /truncated/],
  ['bad magic', patch32(imagesIdx, 0, 0x12345678), /not an IDX file.*0x12345678.*0x00000803/],
  ['wrong dtype (float32)', patch32(imagesIdx, 0, 0x00000d03), /dtype code 0x0d \(float32\).*only uint8/],
  ['unknown dtype', patch32(imagesIdx, 0, 0x00000703), /dtype code 0x07 \(an unknown type\)/],
  ['2-D uint8', patch32(imagesIdx, 0, 0x00000802), /has 2 dims/],
  ['truncated header', imagesIdx.subarray(0, 10), /truncated.*header/],
  ['truncated data', imagesIdx.subarray(0, imagesIdx.length - 1), /truncated.*7840 data bytes.*7839/],
  ['trailing bytes', Uint8Array.from([...labelsIdx, 0, 0, 0]), /3 trailing bytes/],
  ['zero dims', patch32(imagesIdx, 8, 0), /zero-length dimension.*\[10, 0, 28\]/],
  ['huge dims', patch32(patch32(imagesIdx, 4, 0xffffffff), 8, 0xffffffff), /limit; its header is corrupt/],
  ['huge count', patch32(labelsIdx, 4, MAX_IDX_BYTES + 1), /limit/],
  ['bad gzip (truncated)', gzipSync(imagesIdx).subarray(0, 40), /not a valid gzip file/],
  [
    'bad gzip (garbage)',
    Uint8Array.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    /not a valid gzip file/,
  ],
];

for (const [label, bytes, pattern] of corruptions) {
  test(`decodeIdxFile rejects ${label} with a one-line DataError naming file, problem and fix`, () => {
    assert.throws(
      () => decodeIdxFile(bytes, 'some/file-idx3-ubyte.gz'),
      isDataError(
        /^some\/file-idx3-ubyte\.gz /,
        pattern,
        /Fix: delete it and run again to re-download, or pass --data-dir\.$/,
      ),
    );
  });
}

test('parseIdx refuses gzip bytes and says how to decompress', () => {
  assert.throws(
    () => parseIdx(gzipSync(imagesIdx), 'x.gz', 'do this'),
    isDataError(/gzip-compressed.*decodeIdxFile.*Fix: do this\.$/),
  );
});

// ---- resolution order ----

test('defaultCacheDir honours an absolute XDG_CACHE_HOME and falls back to ~/.cache', () => {
  assert.equal(
    defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' }),
    join('/x/cache', 'dropout-lab', 'fashion-mnist'),
  );
  assert.match(defaultCacheDir({ XDG_CACHE_HOME: 'relative' }), /\.cache[/\\]dropout-lab[/\\]fashion-mnist$/);
  assert.match(defaultCacheDir({}), /\.cache[/\\]dropout-lab[/\\]fashion-mnist$/);
});

test('the checksum table has the four official names and 64-hex digests', () => {
  assert.deepEqual(Object.keys(FASHION_MNIST_SHA256).sort(), [...FASHION_MNIST_FILE_NAMES].sort());
  for (const hash of Object.values(FASHION_MNIST_SHA256)) assert.match(hash, /^[0-9a-f]{64}$/);
});

test('dataDir with .gz files loads and is reported as the source', async () => {
  const dir = freshDir('explicit-gz');
  await writeFixture(dir, fixture);
  const data = await loadFashionMnistRaw({ dataDir: dir, checksums: fixture.checksums, download: false });
  assert.equal(data.source, dir);
  assert.deepEqual(data.trainImages, fixture.trainImages);
  assert.deepEqual(data.trainLabels, fixture.trainLabels);
  assert.equal(data.testImages.length, 5 * 784);
  assert.equal(data.testLabels.length, 5);
});

test('dataDir with raw files loads too', async () => {
  const dir = freshDir('explicit-raw');
  await writeFixture(dir, fixture, false);
  const data = await loadFashionMnistRaw({ dataDir: dir, checksums: fixture.checksums });
  assert.deepEqual(data.trainImages, fixture.trainImages);
});

test('a dataDir lacking files is an error, with no fall-through to a complete cache', async () => {
  const dir = freshDir('explicit-partial');
  const cacheDir = freshDir('cache-full');
  await writeFixture(cacheDir, fixture);
  await mkdir(dir);
  await writeFile(join(dir, `${FASHION_MNIST_FILES.trainImages}.gz`), gzipSync(imagesIdx));
  await assert.rejects(
    loadFashionMnistRaw({ dataDir: dir, cacheDir, checksums: fixture.checksums }),
    isDataError(
      /--data-dir .*explicit-partial.* lacks train-labels-idx1-ubyte\(\.gz\), t10k-images/,
      /Fix: put the four/,
    ),
  );
});

test(`$${DATA_DIR_ENV} is used when dataDir is absent, and dataDir beats it`, async (t) => {
  const envDir = freshDir('env');
  const optDir = freshDir('opt');
  const other = makeFixture(4, 1);
  await writeFixture(envDir, fixture);
  await writeFixture(optDir, other);
  const checksums = { ...fixture.checksums };
  process.env[DATA_DIR_ENV] = envDir;
  t.after(() => delete process.env[DATA_DIR_ENV]);
  const fromEnv = await loadFashionMnistRaw({ checksums, cacheDir: freshDir('unused'), download: false });
  assert.equal(fromEnv.source, envDir);
  const fromOpt = await loadFashionMnistRaw({ dataDir: optDir, checksums: other.checksums });
  assert.equal(fromOpt.source, optDir);
  process.env[DATA_DIR_ENV] = freshDir('env-missing');
  await assert.rejects(
    loadFashionMnistRaw({ checksums, cacheDir: freshDir('unused'), download: false }),
    isDataError(new RegExp(`\\$${DATA_DIR_ENV} .* lacks`)),
  );
});

test('a complete cache dir beats the system dir, which beats downloading', async () => {
  const cacheDir = freshDir('cache');
  const systemDir = freshDir('system');
  await writeFixture(cacheDir, fixture);
  await writeFixture(systemDir, fixture, false);
  const opts = { cacheDir, systemDir, checksums: fixture.checksums, mirrors: ['http://127.0.0.1:1/'] };
  assert.equal((await loadFashionMnistRaw(opts)).source, cacheDir);
  await rm(join(cacheDir, `${FASHION_MNIST_FILES.testLabels}.gz`));
  // The cache now lacks a file; the system copy wins and the unreachable mirror is never tried.
  assert.equal((await loadFashionMnistRaw(opts)).source, systemDir);
});

test('with nothing anywhere and downloads off, one DataError lists all three fixes', async () => {
  await assert.rejects(
    loadFashionMnistRaw({ cacheDir: freshDir('none'), systemDir: freshDir('none'), download: false }),
    isDataError(
      /downloading is turned off/,
      /--data-dir DIR/,
      new RegExp(DATA_DIR_ENV),
      /apt-get install dataset-fashion-mnist/,
      /allow network access/,
    ),
  );
});

test('a checksum mismatch names the file, both hash prefixes and the fix', async () => {
  const cacheDir = freshDir('cache-sum');
  await writeFixture(cacheDir, fixture);
  const name = FASHION_MNIST_FILES.trainLabels;
  const wrong = { ...fixture.checksums, [name]: 'ab'.repeat(32) };
  await assert.rejects(
    loadFashionMnistRaw({ cacheDir, checksums: wrong }),
    isDataError(
      new RegExp(`${name}\\.gz fails its checksum`),
      new RegExp(`is ${fixture.checksums[name]!.slice(0, 12)}…`),
      /expected abababababab…/,
      /delete it and run again to re-download/,
    ),
  );
  // verify: false skips the check.
  const data = await loadFashionMnistRaw({ cacheDir, checksums: wrong, verify: false });
  assert.equal(data.source, cacheDir);
});

test('the official checksums reject look-alike files', async () => {
  const dir = freshDir('official');
  await writeFixture(dir, fixture);
  await assert.rejects(
    loadFashionMnistRaw({ dataDir: dir }),
    isDataError(
      /fails its checksum.*expected c59f468a2f67…|expected bad3541b69d9…|expected 5b4141f0afba…|expected 0402a96d92fd…/,
      /Fix: replace it/,
    ),
  );
});

test('a corrupt cached file says to delete it; mismatched splits are caught', async () => {
  const cacheDir = freshDir('cache-corrupt');
  await writeFixture(cacheDir, fixture);
  await writeFile(
    join(cacheDir, `${FASHION_MNIST_FILES.testImages}.gz`),
    gzipSync(imagesIdx.subarray(0, 500)),
  );
  await assert.rejects(
    loadFashionMnistRaw({ cacheDir, verify: false }),
    isDataError(/t10k-images-idx3-ubyte\.gz is truncated/, /Fix: delete it and run again/),
  );
  await writeFile(join(cacheDir, `${FASHION_MNIST_FILES.testImages}.gz`), gzipSync(imagesIdx));
  await assert.rejects(
    loadFashionMnistRaw({ cacheDir, verify: false }),
    isDataError(/holds 5 labels but .* holds 10 images/),
  );
  await writeFile(join(cacheDir, `${FASHION_MNIST_FILES.testImages}.gz`), gzipSync(labelsIdx));
  await assert.rejects(
    loadFashionMnistRaw({ cacheDir, verify: false }),
    isDataError(/shape \[10\], expected images \[n, 28, 28\]/),
  );
});

// ---- downloads from a local mirror ----

type Handler = (name: string, res: ServerResponse) => void;

/** Serves `handler` on 127.0.0.1 (port 0) and records requested paths; returns the mirror URL. */
async function serve(
  handler: Handler,
): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const name = (req.url ?? '/').slice(1);
    requests.push(name);
    handler(name, res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

const gzFiles = new Map(
  Object.entries(fixture.files).map(([name, bytes]) => [`${name}.gz`, gzipSync(bytes)]),
);

const serveFixture: Handler = (name, res) => {
  const body = gzFiles.get(name);
  if (body === undefined) {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/x-gzip', 'content-length': body.length });
  // Two writes, so progress has more than one step.
  res.write(body.subarray(0, body.length >> 1));
  res.end(body.subarray(body.length >> 1));
};

/** Files in `dir`, or [] when it does not exist. */
async function listDir(dir: string): Promise<string[]> {
  return existsSync(dir) ? (await readdir(dir)).sort() : [];
}

test('download: files land in the cache, progress fires, and a second load uses the cache', async () => {
  const server = await serve(serveFixture);
  const cacheDir = join(freshDir('dl'), 'nested', 'cache');
  const events: DownloadProgress[] = [];
  const opts = {
    cacheDir,
    systemDir: freshDir('no-system'),
    mirrors: [server.url],
    checksums: fixture.checksums,
    onProgress: (e: DownloadProgress) => events.push(e),
  };
  try {
    const data = await loadFashionMnistRaw(opts);
    assert.equal(data.source, cacheDir);
    assert.deepEqual(data.trainImages, fixture.trainImages);
    assert.deepEqual(await listDir(cacheDir), [...gzFiles.keys()].sort());
    for (const [file, body] of gzFiles) {
      const mine = events.filter((e) => e.file === file);
      assert.ok(mine.length >= 2, `progress for ${file}`);
      assert.deepEqual(mine[0], { file, received: 0, total: body.length });
      assert.deepEqual(mine.at(-1), { file, received: body.length, total: body.length });
    }
    assert.equal(server.requests.length, 4);
    await loadFashionMnistRaw(opts);
    assert.equal(server.requests.length, 4, 'the second load must not download');
  } finally {
    await server.close();
  }
});

test('download: only the files missing from the cache are fetched; a failing mirror falls back to the next', async () => {
  const dead = await serve((_name, res) => res.writeHead(503).end());
  const good = await serve(serveFixture);
  const cacheDir = freshDir('dl-partial');
  await mkdir(cacheDir);
  const labels = `${FASHION_MNIST_FILES.trainLabels}.gz`;
  await writeFile(join(cacheDir, labels), gzFiles.get(labels)!);
  try {
    const data = await loadFashionMnistRaw({
      cacheDir,
      systemDir: freshDir('no-system'),
      mirrors: [dead.url, good.url],
      checksums: fixture.checksums,
    });
    assert.deepEqual(data.trainLabels, fixture.trainLabels);
    assert.equal(good.requests.length, 3);
    assert.ok(!good.requests.includes(labels));
    assert.equal(dead.requests.length, 3);
  } finally {
    await dead.close();
    await good.close();
  }
});

const lookAlike = makeFixture(10, 5);

const badServers: [string, Handler, RegExp][] = [
  ['404', (_name, res) => res.writeHead(404, 'Not Found').end(), /HTTP 404 Not Found/],
  [
    'wrong bytes (checksum mismatch)',
    (name, res) => res.end(gzipSync(lookAlike.files[name.replace(/\.gz$/, '')]!)),
    /fails its checksum: SHA-256 of the decompressed bytes is [0-9a-f]{12}…, expected [0-9a-f]{12}…/,
  ],
  [
    'garbage gzip',
    (_name, res) => res.end(Buffer.from([0x1f, 0x8b, 0, 1, 2, 3, 4, 5])),
    /the download is not a valid gzip file/,
  ],
  ['not IDX at all', (_name, res) => res.end('<html>oops</html>'), /the download is not an IDX file/],
  [
    'connection dropped mid-body',
    (name, res) => {
      const body = gzFiles.get(name)!;
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, 100), () => res.destroy());
    },
    /terminated|other side closed|socket/i,
  ],
];

for (const [label, handler, pattern] of badServers) {
  test(`download: a server sending ${label} leaves no files in the cache and gives one DataError`, async () => {
    const server = await serve(handler);
    const cacheDir = freshDir('dl-bad');
    try {
      await assert.rejects(
        loadFashionMnistRaw({
          cacheDir,
          systemDir: freshDir('no-system'),
          mirrors: [server.url],
          checksums: fixture.checksums,
        }),
        isDataError(
          /the download failed: http:\/\/127\.0\.0\.1:\d+\/train-images-idx3-ubyte\.gz: /,
          pattern,
          /Fix: pass --data-dir DIR .*apt-get install dataset-fashion-mnist.*allow network access/,
        ),
      );
      assert.deepEqual(await listDir(cacheDir), []);
    } finally {
      await server.close();
    }
  });
}

test('download: a bad later file leaves only verified files and no temp files', async () => {
  const bad = `${FASHION_MNIST_FILES.testImages}.gz`;
  const server = await serve((name, res) => (name === bad ? res.end('corrupt') : serveFixture(name, res)));
  const cacheDir = freshDir('dl-late');
  try {
    await assert.rejects(
      loadFashionMnistRaw({
        cacheDir,
        systemDir: freshDir('no-system'),
        mirrors: [server.url],
        checksums: fixture.checksums,
      }),
      isDataError(/t10k-images-idx3-ubyte\.gz: the download is not an IDX file/),
    );
    const left = await listDir(cacheDir);
    assert.deepEqual(
      left,
      [`${FASHION_MNIST_FILES.trainImages}.gz`, `${FASHION_MNIST_FILES.trainLabels}.gz`].sort(),
    );
  } finally {
    await server.close();
  }
});

test('download: an unreachable mirror gives the three-fix DataError', async () => {
  const server = await serve(serveFixture);
  await server.close(); // the port is now closed: connection refused
  const cacheDir = freshDir('dl-refused');
  await assert.rejects(
    loadFashionMnistRaw({
      cacheDir,
      systemDir: freshDir('no-system'),
      mirrors: [server.url],
      checksums: fixture.checksums,
    }),
    isDataError(/fetch failed/, /allow network access/),
  );
  assert.deepEqual(await listDir(cacheDir), []);
});

// ---- the real data set ----

const hasSystemData = FASHION_MNIST_FILE_NAMES.every((name) =>
  existsSync(join(SYSTEM_DATA_DIR, `${name}.gz`)),
);

test(
  'the real Fashion-MNIST in /usr/share/datasets loads and passes SHA-256 verification',
  requires(hasSystemData, `${SYSTEM_DATA_DIR} is absent (apt-get install dataset-fashion-mnist)`),
  async () => {
    const data = await loadFashionMnistRaw({ cacheDir: freshDir('real-cache'), download: false });
    assert.equal(data.source, SYSTEM_DATA_DIR);
    assert.equal(data.trainImages.length, 60000 * 784);
    assert.equal(data.trainLabels.length, 60000);
    assert.equal(data.testImages.length, 10000 * 784);
    assert.equal(data.testLabels.length, 10000);
    // Fashion-MNIST is balanced: 6000 train and 1000 test images per class.
    const counts = new Array<number>(10).fill(0);
    for (const label of data.trainLabels) counts[label]! += 1;
    assert.deepEqual(counts, new Array<number>(10).fill(6000));
  },
);
