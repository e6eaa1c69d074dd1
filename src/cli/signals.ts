/**
 * Ctrl-C and SIGTERM during `train`/`compare`: the first signal asks the Trainer to stop after the
 * current step (it saves a checkpoint of that step when checkpointing is on); a second one quits at
 * once, leaving the last good checkpoint (saves are atomic). Either way the terminal is restored: a
 * progress bar hides the cursor while it draws.
 */

/** Exit status of a process stopped by `signal`, as shells report it (128 + signal number). */
export function signalExitCode(signal: string): number {
  return signal === 'SIGTERM' ? 143 : 130;
}

/** What `watchSignals` hands the run. */
export interface SignalWatch {
  /** Aborted (with the signal's name as reason) at the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** Runs `fn` when the first signal arrives (e.g. to stop a progress bar). */
  onInterrupt(fn: () => void): void;
  /** Removes the handlers (Node's default behaviour returns). */
  dispose(): void;
}

/** Shows the cursor again if a progress bar hid it. */
export function restoreTerminal(): void {
  if (process.stderr.isTTY) process.stderr.write('\x1b[?25h');
}

/** Installs SIGINT/SIGTERM handlers for one run; `note` prints one line. */
export function watchSignals(note: (line: string) => void): SignalWatch {
  const controller = new AbortController();
  const callbacks: (() => void)[] = [];
  const handler = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      restoreTerminal();
      process.stderr.write(`\ndropout-lab: ${sig} again: quitting now; the last good checkpoint is kept.\n`);
      process.exit(signalExitCode(sig));
    }
    controller.abort(sig);
    for (const fn of callbacks) fn();
    restoreTerminal();
    note(`\n${sig}: stopping after the current step (press Ctrl-C again to quit at once)…`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    onInterrupt(fn) {
      callbacks.push(fn);
    },
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
