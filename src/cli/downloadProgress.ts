/** Download progress for the data step: a byte bar on a terminal, one line per file otherwise. */
import cliProgress from 'cli-progress';
import type { DownloadProgress } from '../node/data/fashionMnistFiles.js';

/** Returns an onProgress callback; the bar (stderr, TTY only) closes itself when a file completes. */
export function downloadReporter(log: (line: string) => void): (e: DownloadProgress) => void {
  let lastFile = '';
  let bar: cliProgress.SingleBar | undefined;
  return (e) => {
    if (e.file !== lastFile) {
      bar?.stop();
      bar = undefined;
      lastFile = e.file;
      log(`downloading ${e.file}${e.total ? ` (${(e.total / 1e6).toFixed(1)} MB)` : ''}…`);
      // Without a known total a bar would only guess; the line above is all we can say.
      if (process.stderr.isTTY && e.total !== undefined && e.total > 0) {
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: '{bar} {percentage}% of {mb} MB  {eta_formatted} left',
            hideCursor: true,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(e.total, e.received, { mb: (e.total / 1e6).toFixed(1) });
      }
    }
    if (bar !== undefined) {
      bar.update(e.received);
      if (e.received >= (e.total ?? Infinity)) {
        bar.stop();
        bar = undefined;
      }
    }
  };
}
