/**
 * The lab server against a hostile network: binding beyond loopback needs --allow-remote (with a
 * warning) and keeps the Host check for the allowed names; two Host headers get 400; a port in use is
 * one line; a client that trickles its headers gets 408 within seconds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentError } from '../../../src/errors.js';
import { startLabServer } from '../../../src/node/labServer.js';

async function appDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dropout-lab-app-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>lab</title>');
  return dir;
}

/** Sends raw bytes and resolves with the whole response (the server closes or `ms` pass). */
function rawRequest(port: number, text: string, ms = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(got);
    }, ms);
    socket.on('data', (d) => (got += d.toString()));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    socket.on('error', reject);
    socket.write(text);
  });
}

test('a host other than loopback needs --allow-remote; with it a warning and the Host check stay', async () => {
  const dir = await appDir();
  await assert.rejects(
    startLabServer({ host: '0.0.0.0', appDir: dir, data: null }),
    (e: unknown) => e instanceof ArgumentError && /--allow-remote/.test(e.message),
  );
  const notes: string[] = [];
  const server = await startLabServer({
    host: '0.0.0.0',
    allowRemote: true,
    allowedHosts: ['lab.example'],
    appDir: dir,
    data: null,
    log: (l) => notes.push(l),
  });
  try {
    assert.match(notes.join('\n'), /warning: serving on 0\.0\.0\.0, reachable from other machines/);
    const port = Number(new URL(server.url).port);
    const get = (host: string): Promise<string> =>
      rawRequest(port, `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    assert.match(await get(`lab.example:${port}`), /^HTTP\/1\.1 200/);
    assert.match(await get(`evil.example:${port}`), /^HTTP\/1\.1 421/);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('two Host headers get 400', async () => {
  const dir = await appDir();
  const server = await startLabServer({ appDir: dir, data: null });
  try {
    const port = Number(new URL(server.url).port);
    const r = await rawRequest(
      port,
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
    );
    assert.match(r, /^HTTP\/1\.1 400/);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a port in use is one line naming the port and the fix', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    await assert.rejects(
      startLabServer({ port, data: null }),
      (e: unknown) =>
        e instanceof ArgumentError &&
        e.message ===
          `port ${port} on 127.0.0.1 is in use; choose another --port, or --port 0 for any free port.`,
    );
  } finally {
    blocker.close();
  }
});

test('a client that never finishes its headers gets 408', { timeout: 30_000 }, async () => {
  const dir = await appDir();
  const server = await startLabServer({ appDir: dir, data: null, requestTimeoutSeconds: 1 });
  try {
    const port = Number(new URL(server.url).port);
    const r = await rawRequest(port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
    assert.match(r, /^HTTP\/1\.1 408/);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
