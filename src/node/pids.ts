/** Whether a process is still running, for stale temp files and stale --out locks. */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** True when a process with this PID exists (ours or someone else's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When process `pid` started, in clock ticks since boot (field 22 of Linux's /proc/PID/stat), or
 * undefined where that cannot be read (another OS, or no such process). A PID is reused once its
 * process is gone; the start time tells the new process from the old one.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command name) is in parentheses and may itself hold spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (the state), so field 22 is fields[19].
    const start = fields[19];
    return start !== undefined && /^\d+$/.test(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/** Who holds a lock: a process, told apart from a later one with the same PID by host and start time. */
export interface ProcessIdentity {
  readonly pid: number;
  /** Absent in locks written before the host was recorded. */
  readonly host?: string | undefined;
  /** Absent where the start time cannot be read (see processStartTime), and in old locks. */
  readonly start?: string | undefined;
}

/** This process's identity. */
export function ownIdentity(): ProcessIdentity {
  return { pid: process.pid, host: hostname(), start: processStartTime(process.pid) };
}

/**
 * Whether the process `id` names is still running: 'alive', 'gone', 'reused' (its PID now belongs
 * to a process that started at another time), or 'elsewhere' (another host: it cannot be checked).
 */
export function identityState(id: ProcessIdentity): 'alive' | 'gone' | 'reused' | 'elsewhere' {
  if (id.host !== undefined && id.host !== hostname()) return 'elsewhere';
  if (!isAlive(id.pid)) return 'gone';
  if (id.start === undefined) return 'alive';
  const now = processStartTime(id.pid);
  return now === undefined || now === id.start ? 'alive' : 'reused';
}
