/**
 * The progress bar of a batch of runs (the local pool and the Redis queue's coordinator draw the same
 * one): epochs done over all runs' epochs, with the finished-run count beside it. Drawn on stderr, and
 * only on a terminal, so JSON on stdout and piped logs stay clean.
 */
import cliProgress from 'cli-progress';

/** A runs/epochs progress bar on stderr when `enabled` and stderr is a TTY, else null. */
export function runsProgressBar(enabled: boolean): cliProgress.SingleBar | null {
  if (!enabled || !process.stderr.isTTY) return null;
  return new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'runs {runs} |{bar}| {value}/{total} epochs  {eta_formatted} left',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
}
