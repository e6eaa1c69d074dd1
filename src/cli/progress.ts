/** A per-epoch progress bar on stderr, shown only on a terminal and never with --json. */
import cliProgress from 'cli-progress';
import type { StepInfo } from '../train/trainer.js';

/** Progress reporting the trainer calls into; a no-op when bars are off. */
export interface Progress {
  step(model: string, info: StepInfo): void;
  stop(): void;
}

/** Creates a progress bar when `enabled` and stderr is a TTY; otherwise a silent reporter. */
export function createProgress(enabled: boolean, maxEpochs: number): Progress {
  if (!enabled || !process.stderr.isTTY) return { step: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format:
        '{model} epoch {epoch}/{epochs} |{bar}| {value}/{total} steps  loss {loss}  {eta_formatted} left',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let active = false;
  let current = '';
  return {
    step(model, info) {
      const key = `${model}/${info.epoch}`;
      const payload = { model, epoch: info.epoch, epochs: maxEpochs, loss: info.loss.toFixed(4) };
      if (!active || key !== current) {
        if (active) bar.stop();
        bar.start(info.stepsPerEpoch, info.step, payload);
        active = true;
        current = key;
      } else {
        bar.update(info.step, payload);
      }
    },
    stop() {
      if (active) bar.stop();
      active = false;
    },
  };
}
