/**
 * Redis going away, told once: ioredis retries a lost connection every few seconds and every retry,
 * on every connection and every BullMQ object, raises an error. A coordinator or worker prints one
 * line when Redis becomes unreachable and one when it answers again, instead of a stack per retry.
 */

/** Errors that mean "the server is not there" rather than "the command was wrong". */
const CONNECTION_ERROR =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|Connection is closed|Stream isn't writeable|LOADING/;

/** What `watchOutages` returns: listeners to attach to Redis connections and BullMQ objects. */
export interface OutageWatch {
  /** An 'error' listener: a connection error starts an outage (one line); other errors print once each. */
  readonly error: (e: Error) => void;
  /** A 'ready' listener: the end of an outage (one line). */
  readonly ready: () => void;
  /** Whether Redis is unreachable now. */
  readonly down: () => boolean;
}

/** One-line outage reports for Redis at `label` (no password in it), prefixed with `who`. */
export function watchOutages(label: string, who: string, log: (line: string) => void): OutageWatch {
  let down = false;
  let since = 0;
  // Other errors (a vanished job's key, a script error) are worth a line, but not one per retry.
  const seen = new Set<string>();
  return {
    error(e) {
      const message = e.message.split('\n')[0]!;
      if (CONNECTION_ERROR.test(message) || CONNECTION_ERROR.test(String((e as { code?: unknown }).code))) {
        if (down) return;
        down = true;
        since = Date.now();
        log(`${who}Redis at ${label} is unreachable (${message}); retrying until it answers…`);
        return;
      }
      if (seen.has(message)) return;
      seen.add(message);
      log(`${who}queue error: ${message}`);
    },
    ready() {
      if (!down) return;
      down = false;
      log(`${who}Redis at ${label} answers again after ${Math.round((Date.now() - since) / 1000)} s`);
    },
    down: () => down,
  };
}
