// The lab server serves the built app and the four data files, and nothing else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { labCommand } from '../../../src/cli/lab.js';
import { normalizeRequestPath, startLabServer, type LabServer } from '../../../src/node/labServer.js';
import { parseIdx } from '../../../src/data/idx.js';
import type { FashionMnistRaw } from '../../../src/node/data/fashionMnistFiles.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw HTTP request: the path is sent exactly as given (fetch would normalise `..` away). */
function raw(
  base: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: opts.method ?? 'GET', headers: opts.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const SECRET = 'TOP-SECRET-OUTSIDE-THE-APP';
let root: string;
let server: LabServer;
let noData: LabServer;

const fakeData: FashionMnistRaw = {
  trainImages: new Uint8Array(2 * 784).map((_, i) => i % 256),
  trainLabels: Uint8Array.from([3, 7]),
  testImages: new Uint8Array(784).fill(9),
  testLabels: Uint8Array.from([5]),
  source: 'test',
};

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'lab-server-'));
  const app = join(root, 'app');
  await mkdir(join(app, 'assets'), { recursive: true });
  await writeFile(join(app, 'index.html'), '<!doctype html><title>lab</title>');
  await writeFile(join(app, 'assets', 'app-123.js'), 'export {};');
  await writeFile(join(app, '.env'), SECRET);
  await writeFile(join(root, 'secret.txt'), SECRET);
  await symlink(join(root, 'secret.txt'), join(app, 'assets', 'link.txt'));
  server = await startLabServer({ appDir: app, data: fakeData });
  noData = await startLabServer({ appDir: app, data: null });
});

after(async () => {
  await server.close();
  await noData.close();
  await rm(root, { recursive: true, force: true });
});

test('binds 127.0.0.1 on a free port by default and prints an http URL', async () => {
  const url = new URL(server.url);
  assert.equal(url.hostname, '127.0.0.1');
  assert.ok(Number(url.port) > 0);
  // Not reachable on another interface's address.
  const other = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal);
  if (other !== undefined) {
    await assert.rejects(
      new Promise<void>((resolve, reject) => {
        const s = connect(Number(url.port), other.address, () => {
          s.destroy();
          resolve();
        });
        s.on('error', reject);
      }),
    );
  }
});

test('serves the app with cross-origin isolation and CSP headers', async () => {
  const r = await raw(server.url, '/');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/html/);
  assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin');
  assert.equal(r.headers['cross-origin-embedder-policy'], 'require-corp');
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  const csp = String(r.headers['content-security-policy']);
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.match(r.body.toString(), /<title>lab<\/title>/);
  const js = await raw(server.url, '/assets/app-123.js');
  assert.equal(js.status, 200);
  assert.match(String(js.headers['content-type']), /^text\/javascript/);
  assert.equal(js.headers['cross-origin-embedder-policy'], 'require-corp');
  const head = await raw(server.url, '/index.html', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
});

test('serves the four data files as IDX bytes at fixed URLs', async () => {
  const images = await raw(server.url, '/data/train-images-idx3-ubyte');
  assert.equal(images.status, 200);
  assert.equal(images.headers['cross-origin-embedder-policy'], 'require-corp');
  const idx = parseIdx(new Uint8Array(images.body), 'train images');
  assert.deepEqual(idx.dims, [2, 28, 28]);
  assert.deepEqual(idx.data, fakeData.trainImages);
  const labels = parseIdx(new Uint8Array((await raw(server.url, '/data/train-labels-idx1-ubyte')).body), 'l');
  assert.deepEqual([...labels.data], [3, 7]);
  const test = parseIdx(new Uint8Array((await raw(server.url, '/data/t10k-images-idx3-ubyte')).body), 't');
  assert.deepEqual(test.dims, [1, 28, 28]);
  assert.equal((await raw(server.url, '/data/t10k-labels-idx1-ubyte')).status, 200);
  assert.equal((await raw(server.url, '/data/other-file')).status, 404);
  assert.equal((await raw(server.url, '/data/')).status, 400);
});

test('answers 404 for every data URL when the data is missing', async () => {
  assert.equal(await noData.dataReady, false);
  for (const name of ['train-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
    assert.equal((await raw(noData.url, `/data/${name}`)).status, 404);
  }
  assert.equal((await raw(noData.url, '/')).status, 200);
});

test('no traversal, no listings, no dotfiles, no symlinks out of the app', async () => {
  const attempts = [
    '/../package.json',
    '/../../../../etc/passwd',
    '/%2e%2e/package.json',
    '/%2E%2E%2Fpackage.json',
    '/assets/../../secret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/..%2f..%2fsecret.txt',
    '/..%5c..%5csecret.txt',
    '/assets/..\\..\\secret.txt',
    '//etc/passwd',
    '/etc/passwd',
    '/' + join(root, 'secret.txt'),
    '/C:/Windows/win.ini',
    'http://127.0.0.1/etc/passwd',
    '/index.html%00.js',
    '/%',
    '/assets',
    '/assets/',
    '/.env',
    '/assets/link.txt',
    '/secret.txt',
    '/./index.html',
  ];
  for (const path of attempts) {
    const r = await raw(server.url, path);
    assert.ok(r.status === 400 || r.status === 404, `${path} → ${r.status}`);
    assert.ok(!r.body.toString().includes(SECRET), `${path} leaked the secret`);
    assert.ok(!r.body.toString().includes('"name"'), `${path} leaked a JSON file`);
  }
  assert.equal(normalizeRequestPath('/a/./b'), undefined);
  assert.equal(normalizeRequestPath('/assets/app.js?v=1'), '/assets/app.js');
});

test('rejects other methods, long URLs, big headers, bodies and foreign Host headers', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE']) {
    const r = await raw(server.url, '/', { method });
    assert.equal(r.status, 405, method);
    assert.equal(r.headers['allow'], 'GET, HEAD');
  }
  assert.equal((await raw(server.url, '/' + 'a'.repeat(5000))).status, 414);
  assert.equal((await raw(server.url, '/', { headers: { 'x-big': 'b'.repeat(20000) } })).status, 431);
  const withBody = await raw(server.url, '/', {
    headers: { 'content-type': 'text/plain', 'content-length': '10' },
    body: 'x'.repeat(10),
  });
  assert.equal(withBody.status, 413);
  assert.equal((await raw(server.url, '/', { headers: { host: 'evil.example:80' } })).status, 421);
  const port = new URL(server.url).port;
  assert.equal((await raw(server.url, '/', { headers: { host: `localhost:${port}` } })).status, 200);
});

test('`lab` registers on the program with --port, --host and --data-dir', () => {
  const program = new Command('dropout-lab');
  labCommand(program);
  const lab = program.commands.find((c) => c.name() === 'lab');
  assert.ok(lab);
  const flags = lab.options.map((o) => o.long);
  for (const f of ['--port', '--host', '--data-dir']) assert.ok(flags.includes(f), f);
  assert.equal(lab.getOptionValue('host'), '127.0.0.1');
  assert.equal(lab.getOptionValue('port'), 0);
});
