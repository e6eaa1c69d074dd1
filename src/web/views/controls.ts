/**
 * The run controls: Start, Pause and Reset, and the settings, locked (with a note saying why) while
 * a run trains. When a run starts or stops, keyboard focus that would be stranded on a button just
 * disabled (or on the body) moves to Pause or Start.
 */
import type { LabState } from '../state.js';
import type { View } from './view.js';

/** The elements this view writes. */
export interface ControlElements {
  readonly start: HTMLButtonElement;
  readonly pause: HTMLButtonElement;
  readonly reset: HTMLButtonElement;
  readonly settings: HTMLFieldSetElement;
  readonly locked: HTMLElement;
}

/** The view of the run controls; `canPause` is false where the page is not cross-origin isolated. */
export function controlsView(el: ControlElements, canPause: boolean): View {
  let last: LabState | undefined;
  return (s) => {
    const running = s.currentId !== undefined;
    const wasRunning = last === undefined ? undefined : last.currentId !== undefined;
    if (running !== wasRunning || s.startBlocked !== last?.startBlocked) {
      const hadFocus = document.activeElement;
      el.start.disabled = running || s.startBlocked;
      el.pause.disabled = !running || !canPause;
      el.settings.disabled = running;
      el.locked.hidden = !running;
      el.locked.textContent = running
        ? `These are the settings of run #${s.currentId}; they are locked while it trains. Wait for the end, or Reset, to start the next run.`
        : '';
      el.reset.textContent = running ? 'Stop & reset' : 'Reset';
      // Do not strand keyboard focus on a button that just became disabled (or on the body).
      const lost =
        hadFocus === null || hadFocus === document.body || (hadFocus as HTMLButtonElement).disabled;
      if (wasRunning !== undefined && lost) (running && !el.pause.disabled ? el.pause : el.start).focus();
    }
    if (s.paused !== last?.paused) {
      el.pause.textContent = s.paused ? 'Resume' : 'Pause';
      el.pause.setAttribute('aria-pressed', String(s.paused));
    }
    last = s;
  };
}
