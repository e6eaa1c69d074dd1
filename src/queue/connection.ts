/**
 * The Redis connection of a queued sweep: `--queue redis://[user:password@]HOST:PORT[/db]` (or
 * `rediss://` for TLS), a password from a file or the environment instead of the URL, and a CA file
 * for a private TLS certificate. Every problem is one ArgumentError line naming the flag to fix.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Redis, RedisOptions } from 'ioredis';
import { ArgumentError, DataError } from '../errors.js';

/** Environment variable read for the Redis password when the URL and --queue-password-file give none. */
export const PASSWORD_ENV = 'DROPOUT_LAB_REDIS_PASSWORD';

/** Where and how to reach Redis. */
export interface QueueConnection {
  /** redis:// or rediss:// URL. */
  readonly url: string;
  /** A file whose first line is the password (keeps it out of `ps` and shell history). */
  readonly passwordFile?: string | undefined;
  /** PEM file of the CA that signed the server's TLS certificate (rediss:// only). */
  readonly caFile?: string | undefined;
}

const EXAMPLE = 'e.g. --queue redis://127.0.0.1:6379 or rediss://user:password@host:6380/0';

/** Validated ioredis options for `conn`, with `label`: the URL without its password, for messages. */
export function redisOptions(conn: QueueConnection): { options: RedisOptions; label: string } {
  let u: URL;
  try {
    u = new URL(conn.url);
  } catch {
    throw new ArgumentError(`--queue ${conn.url} is not a URL; ${EXAMPLE}.`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ArgumentError(`--queue must be a redis:// or rediss:// URL, got ${u.protocol}//…; ${EXAMPLE}.`);
  }
  if (u.hostname === '') throw new ArgumentError(`--queue ${conn.url} names no host; ${EXAMPLE}.`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) {
    throw new ArgumentError(
      `--queue: the path must be a database number (/0, /1, …), got /${db}; ${EXAMPLE}.`,
    );
  }
  const tls = u.protocol === 'rediss:';
  if (conn.caFile !== undefined && !tls) {
    throw new ArgumentError('--queue-ca only applies to TLS: use a rediss:// URL.');
  }
  let password = u.password === '' ? undefined : decodeURIComponent(u.password);
  if (conn.passwordFile !== undefined) {
    if (password !== undefined) {
      throw new ArgumentError('--queue-password-file and a password in the --queue URL: give only one.');
    }
    password = readSmallFile(conn.passwordFile, '--queue-password-file').split(/\r?\n/)[0]!;
    // An empty first line would connect with no password and fail later with Redis' own NOAUTH text.
    if (password === '') {
      throw new ArgumentError(
        `--queue-password-file ${conn.passwordFile} is empty; write the Redis password on its first line.`,
      );
    }
  }
  password ??= process.env[PASSWORD_ENV] || undefined;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const options: RedisOptions = {
    host,
    port: u.port === '' ? 6379 : Number(u.port),
    ...(u.username === '' ? {} : { username: decodeURIComponent(u.username) }),
    ...(password === undefined ? {} : { password }),
    ...(db === '' ? {} : { db: Number(db) }),
    ...(tls
      ? {
          tls: {
            // SNI takes host names only; an IP address is checked against the certificate without it.
            ...(isIP(host) === 0 ? { servername: host } : {}),
            ...(conn.caFile === undefined ? {} : { ca: readSmallFile(conn.caFile, '--queue-ca') }),
          },
        }
      : {}),
    // BullMQ's blocking commands must wait as long as they need; reconnects are ioredis's job.
    maxRetriesPerRequest: null,
  };
  const label = `${u.protocol}//${u.username === '' ? '' : `${u.username}@`}${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  return { options, label };
}

function readSmallFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const reason = e instanceof Error ? e.message.replace(/^[A-Z]+: /, '') : String(e);
    throw new ArgumentError(`${flag} ${path} cannot be read (${reason}); check the path.`);
  }
}

/**
 * Opens a connection and waits until Redis answers (at most `timeoutMs`), so an unreachable or
 * misconfigured server is one clear line rather than a silent wait; later drops are retried forever.
 */
export async function connectRedis(conn: QueueConnection, timeoutMs = 10_000): Promise<Redis> {
  const { options, label } = redisOptions(conn);
  // ioredis is loaded here, not at the top: it is the CLI's optional queue extra, and the flags above
  // (and this module's PASSWORD_ENV) are read by commands that never connect.
  const { Redis: RedisClient } = await import('ioredis');
  // No retries while connecting, so a wrong address fails at once; after that, reconnect forever.
  const redis = new RedisClient({
    ...options,
    lazyConnect: true,
    replyMapping: 'legacy',
    retryStrategy: () => null,
  });
  let lastError = '';
  const onError = (e: Error): void => {
    lastError = e.message;
  };
  redis.on('error', onError);
  const timer = new Promise<never>((_, reject) => {
    const t = setTimeout(
      () => reject(new Error(lastError || `no answer in ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    t.unref();
  });
  try {
    await Promise.race([redis.connect(), timer]);
    await Promise.race([redis.ping(), timer]);
  } catch (e) {
    redis.disconnect();
    const reason = lastError || (e instanceof Error ? e.message : String(e));
    if (/NOAUTH/.test(reason)) {
      throw new DataError(
        `Redis at ${label} wants a password and got none. Fix: --queue-password-file FILE, ${PASSWORD_ENV}, or redis://:PASSWORD@HOST in --queue.`,
      );
    }
    throw new DataError(
      `cannot reach Redis at ${label} (${reason}). Fix: start redis-server there, or correct --queue / the password / --queue-ca.`,
    );
  }
  if (options.db !== undefined) {
    // ioredis selects the database while connecting but only reports a failure as an event, and then
    // works in database 0: select it again here so that a bad index stops us before any work.
    try {
      await Promise.race([redis.select(options.db), timer]);
    } catch (e) {
      redis.disconnect();
      const reason = e instanceof Error ? e.message : String(e);
      throw new ArgumentError(
        `--queue ${label}: Redis refuses database ${options.db} (${reason}); use one of its databases, e.g. /0.`,
      );
    }
  }
  redis.options.retryStrategy = (times) => Math.min(times * 500, 5000);
  return redis;
}
