/**
 * Ctrl-C and SIGTERM, one state for the whole process. Every long command (train, compare, sweep, mc,
 * compare --seeds, experiment, report) runs inside an interrupt scope; what the first signal does
 * depends on what is running:
 * - before training (download, data load, the experiment pool, a queue wait) it stops that work: the
 *   scope's AbortSignal aborts, the work removes its partial files and the command exits 130/143 with
 *   one line. Whatever does not stop within STOP_DEADLINE_MS is cut short by `process.exit` (its 'exit'
 *   handlers still release --out locks), so a Ctrl-C never waits on a stalled socket;
 * - during training (`train`/`compare`) the Trainer stops after the current step and saves a
 *   checkpoint of it when checkpointing is on.
 * A second signal quits at once. Either way the terminal is restored (a progress bar hides the cursor).
 */

/** Exit status of a process stopped by `signal`, as shells report it (128 + signal number). */
export function signalExitCode(signal: string): number {
  return signal === 'SIGTERM' ? 143 : 130;
}

/** How long the first signal's work may take to stop before the process exits anyway. */
export const STOP_DEADLINE_MS = 750;

/** What the first signal does: stop the running work now, or let training finish its current step. */
export type FirstSignal = 'stop-now' | 'after-step';

/** Options of an interrupt scope. */
export interface ScopeOptions {
  /** Where the "stopping…" line goes (stdout in text mode, stderr with --json). */
  readonly note: (line: string) => void;
  /** What the first signal does (default 'stop-now'); `setMode` changes it, e.g. when training starts. */
  readonly mode?: FirstSignal;
  /** The end of the line printed when the process is made to quit: what was kept and how to go on. */
  readonly quitLine: () => string;
}

/** A command's handle on the process's interrupt state. */
export interface InterruptScope {
  /** Aborted (with the signal's name as reason) at the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** Changes what the first signal does from now on. */
  setMode(mode: FirstSignal): void;
  /** Runs `fn` when the first signal arrives (e.g. to stop a progress bar). */
  onInterrupt(fn: () => void): void;
  /** Leaves the scope; the last one out removes the handlers (Node's default behaviour returns). */
  dispose(): void;
}

/** Shows the cursor again if a progress bar hid it. */
export function restoreTerminal(): void {
  if (process.stderr.isTTY) process.stderr.write('\x1b[?25h');
}

interface ScopeState {
  mode: FirstSignal;
  readonly opts: ScopeOptions;
  readonly callbacks: (() => void)[];
}

/** The one state: scopes nest (report → its experiments), the innermost says what a signal does. */
const scopes: ScopeState[] = [];
let controller = new AbortController();

function quit(sig: NodeJS.Signals, line: string): never {
  restoreTerminal();
  process.stderr.write(line);
  process.exit(signalExitCode(sig));
}

function onSignal(sig: NodeJS.Signals): void {
  const top = scopes.at(-1);
  if (top === undefined) return;
  if (controller.signal.aborted) {
    quit(sig, `\ndropout-lab: ${sig} again: quitting now; ${top.opts.quitLine()}\n`);
  }
  controller.abort(sig);
  for (const s of scopes) for (const fn of s.callbacks) fn();
  restoreTerminal();
  if (top.mode === 'after-step') {
    top.opts.note(`\n${sig}: stopping after the current step (press Ctrl-C again to quit at once)…`);
    return;
  }
  top.opts.note(`\n${sig}: stopping…`);
  // unref: a command that stops in time exits as usual, with its own line; the deadline only cuts
  // short work that keeps the process alive (a socket, a child), after the scope said what it keeps.
  setTimeout(() => {
    if (scopes.length === 0) process.exit(process.exitCode ?? signalExitCode(sig));
    quit(sig, `dropout-lab: stopped by ${sig}; ${top.opts.quitLine()}\n`);
  }, STOP_DEADLINE_MS).unref();
}

/** Enters an interrupt scope: the first one installs the SIGINT/SIGTERM handlers. */
export function interruptScope(opts: ScopeOptions): InterruptScope {
  if (scopes.length === 0) {
    controller = new AbortController();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const state: ScopeState = { mode: opts.mode ?? 'stop-now', opts, callbacks: [] };
  scopes.push(state);
  return {
    signal: controller.signal,
    setMode(mode) {
      state.mode = mode;
    },
    onInterrupt(fn) {
      state.callbacks.push(fn);
    },
    dispose() {
      const i = scopes.indexOf(state);
      if (i < 0) return;
      scopes.splice(i, 1);
      if (scopes.length > 0) return;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** The AbortSignal of the innermost scope, or undefined outside any (e.g. a library call). */
export function currentInterruptSignal(): AbortSignal | undefined {
  return scopes.length === 0 ? undefined : controller.signal;
}

/** Runs `fn` inside an interrupt scope that it leaves however `fn` ends. */
export async function interruptible<T>(
  opts: ScopeOptions,
  fn: (scope: InterruptScope) => Promise<T>,
): Promise<T> {
  const scope = interruptScope(opts);
  try {
    return await fn(scope);
  } finally {
    scope.dispose();
  }
}
