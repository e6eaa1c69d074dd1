/**
 * Issue 24, finding "hang": with no data installed and a cache dir that cannot be created
 * (XDG_CACHE_HOME=/proc), `train` used to download Debian's 30.9 MB package and then spin at 100% CPU
 * for ever in Node's recursive mkdir. Now it fails with one line before downloading anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FASHION_MNIST_DEB } from '../../src/node/data/debianSource.js';
import { runCli } from '../helpers/cli.js';

/** Where apt keeps the package it installed; served when present, so the old code reaches its mkdir. */
const APT_DEB = '/var/cache/apt/archives/dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb';
/** A hang is a failure, not a stuck suite: the CLI is killed (and the test fails) after this long. */
const KILL_AFTER_MS = 30_000;

test('cache dir under /proc and no data: one line, no download, no hang', { timeout: 60_000 }, async () => {
  assert.ok(existsSync('/proc/self'), 'this test needs Linux /proc');
  const empty = await mkdtemp(join(tmpdir(), 'dropout-lab-no-data-'));
  const deb = existsSync(APT_DEB) ? readFileSync(APT_DEB) : undefined;
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (deb !== undefined && req.url === `/${FASHION_MNIST_DEB.poolPath}`) res.end(deb);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const started = performance.now();
    const { code, signal, stderr } = await runCli(['train', '--epochs', '1', '--threads', '1'], {
      env: {
        DROPOUT_LAB_SYSTEM_DATA: empty,
        DROPOUT_LAB_DEBIAN_MIRROR: `http://127.0.0.1:${port}/`,
        XDG_CACHE_HOME: '/proc',
      },
      timeoutMs: KILL_AFTER_MS,
    });
    const seconds = (performance.now() - started) / 1000;
    // A hang rejects runCli after KILL_AFTER_MS; a crash by signal fails here.
    assert.equal(signal, null, `died of ${signal} after ${seconds.toFixed(1)} s; stderr: ${stderr}`);
    assert.equal(code, 1, stderr);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, /cannot create the cache dir \/proc\/dropout-lab\/fashion-mnist \(.+\)\. Fix: /);
    assert.deepEqual(requests, [], 'nothing is downloaded when there is nowhere to keep it');
    process.stdout.write(`# failed in ${seconds.toFixed(1)} s\n`);
  } finally {
    server.close();
    await rm(empty, { recursive: true, force: true });
  }
});
