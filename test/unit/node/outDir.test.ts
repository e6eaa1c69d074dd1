/**
 * The --out lock names its process by PID, host and start time (issue 29, finding 3): a lock whose PID
 * was reused by an unrelated process is stale, a live holder or one on another host is refused, and
 * temp files of dead writers are removed when the folder is taken.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentError } from '../../../src/errors.js';
import { tempOwner } from '../../../src/node/atomicWrite.js';
import { LOCK_FILE, prepareOutDir } from '../../../src/node/outDir.js';
import { identityState, ownIdentity, processStartTime } from '../../../src/node/pids.js';

/** The PID of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  return new Promise((resolve) => child.on('exit', () => resolve(child.pid!)));
}

test('a process is told from a later one with the same PID by its start time', async () => {
  const me = ownIdentity();
  assert.equal(identityState(me), 'alive');
  if (processStartTime(process.pid) !== undefined) {
    assert.equal(identityState({ ...me, start: '1' }), 'reused');
  }
  assert.equal(identityState({ pid: await deadPid() }), 'gone');
  assert.equal(identityState({ ...me, host: `not-${hostname()}` }), 'elsewhere');
});

test('the lock: our identity written; reused PID and dead PID taken over with a note; live holders refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dropout-lab-lock-'));
  try {
    const lock = join(dir, LOCK_FILE);
    const notes: string[] = [];
    const log = (line: string): void => void notes.push(line);

    const first = await prepareOutDir(dir, { log });
    assert.equal((await readFile(lock, 'utf8')).split('\n')[0], String(process.pid));
    // A second holder while we hold it: our PID is alive and started when the lock says.
    await assert.rejects(
      prepareOutDir(dir),
      (e: unknown) => e instanceof ArgumentError && /is in use by process/.test(e.message),
    );
    first.release();
    assert.equal(existsSync(lock), false);

    if (processStartTime(process.pid) !== undefined) {
      await writeFile(lock, `${process.pid}\n${hostname()} 1\n`);
      (await prepareOutDir(dir, { log })).release();
      assert.match(
        notes.at(-1)!,
        new RegExp(
          `stale lock .* of process ${process.pid}, which is gone \\(PID ${process.pid} now belongs to another process\\)`,
        ),
      );
    }

    const dead = await deadPid();
    await writeFile(lock, `${dead}\n`);
    await writeFile(join(dir, `.summary.md.${dead}.0123456789ab.tmp`), 'partial');
    (await prepareOutDir(dir, { log })).release();
    assert.ok(
      notes.some((n) => new RegExp(`stale lock .* of process ${dead}, which is gone$`).test(n)),
      notes.join('\n'),
    );
    assert.ok(
      notes.some((n) => /removed 1 temp file/.test(n)),
      notes.join('\n'),
    );
    assert.equal(existsSync(join(dir, `.summary.md.${dead}.0123456789ab.tmp`)), false);

    await writeFile(lock, `${process.pid}\nnot-${hostname()} 1\n`);
    await assert.rejects(
      prepareOutDir(dir),
      (e: unknown) => e instanceof ArgumentError && /on not-/.test(e.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('temp file names carry their writer', () => {
  assert.equal(tempOwner('.run.jsonl.4242.0123456789ab.tmp'), 4242);
  assert.equal(tempOwner('run.jsonl'), undefined);
  assert.equal(tempOwner('.run.jsonl.4242.tmp'), undefined);
});
