/**
 * Where queued runs keep their per-epoch checkpoint, reachable by every worker: Redis itself (the
 * default; these models are a few MB) or a shared directory (`--store DIR`). A stored value is one
 * blob, written in one step, holding both the run's events so far and the Trainer's checkpoint, so
 * the two can never disagree.
 *
 * Blob layout: magic "DLQRUN01", uint32 LE length L of the events' JSON, L bytes of UTF-8 JSON, then
 * the checkpoint file's bytes (src/train/checkpoint.ts).
 */
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { writeFileAtomic } from '../node/atomicWrite.js';
import { mkdirs } from '../node/mkdirs.js';
import { DataError } from '../errors.js';
import { decodeCheckpoint, encodeCheckpoint, type TrainingCheckpoint } from '../train/checkpoint.js';

/** A run's state at the end of an epoch: its events so far and the Trainer's checkpoint. */
export interface RunState {
  readonly events: readonly Record<string, unknown>[];
  readonly checkpoint: TrainingCheckpoint;
}

/** A place every worker reaches, keyed by job id. */
export interface CheckpointStore {
  /** Human-readable location, for log lines. */
  readonly where: string;
  load(jobId: string): Promise<RunState | null>;
  save(jobId: string, state: RunState): Promise<void>;
  remove(jobId: string): Promise<void>;
}

const MAGIC = Buffer.from('DLQRUN01', 'latin1');

/** One blob of a run state. */
export function encodeRunState(state: RunState): Buffer {
  const json = Buffer.from(JSON.stringify(state.events), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  return Buffer.concat([MAGIC, len, json, encodeCheckpoint(state.checkpoint)]);
}

/** Reads a blob written by encodeRunState; a damaged one is a DataError naming `name`. */
export function decodeRunState(blob: Buffer, name: string): RunState {
  const bad = (why: string): never => {
    throw new DataError(`queue checkpoint ${name} is damaged (${why}); delete it to restart that run.`);
  };
  if (blob.length < 12 || !blob.subarray(0, 8).equals(MAGIC)) bad('wrong magic');
  const n = blob.readUInt32LE(8);
  if (12 + n > blob.length) bad('truncated');
  let events: unknown;
  try {
    events = JSON.parse(blob.subarray(12, 12 + n).toString('utf8'));
  } catch {
    bad('events are not JSON');
  }
  if (!Array.isArray(events)) bad('events are not a list');
  const rest = blob.subarray(12 + n);
  const checkpoint = decodeCheckpoint(new Uint8Array(rest.buffer, rest.byteOffset, rest.byteLength), name);
  return { events: events as Record<string, unknown>[], checkpoint };
}

/** Checkpoints in Redis under `<prefix>:<queue>:checkpoint:<jobId>`, expiring after `ttlSeconds`. */
export function redisStore(redis: Redis, keyPrefix: string, ttlSeconds = 7 * 24 * 3600): CheckpointStore {
  const key = (id: string): string => `${keyPrefix}:checkpoint:${id}`;
  return {
    where: 'Redis',
    async load(id) {
      const blob = await redis.getBuffer(key(id));
      return blob === null ? null : decodeRunState(blob, key(id));
    },
    async save(id, state) {
      await redis.set(key(id), encodeRunState(state), 'EX', ttlSeconds);
    },
    async remove(id) {
      await redis.del(key(id));
    },
  };
}

/** Checkpoints as `<dir>/<jobId>.dlqrun`, written atomically (a shared file system every worker mounts). */
export function dirStore(dir: string): CheckpointStore {
  const root = resolve(dir);
  const file = (id: string): string => join(root, `${id}.dlqrun`);
  return {
    where: root,
    async load(id) {
      const blob = await readFile(file(id)).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return null;
        throw new DataError(`cannot read ${file(id)} (${e.message}); check --store.`);
      });
      return blob === null ? null : decodeRunState(blob, file(id));
    },
    async save(id, state) {
      await mkdirs(root);
      await writeFileAtomic(file(id), encodeRunState(state));
    },
    async remove(id) {
      await rm(file(id), { force: true });
    },
  };
}
