/**
 * What a view of the lab page is: a function that draws a state (state.ts) into its part of the DOM.
 * It is called after every action and remembers what it drew last, so it touches the DOM only where
 * its part of the state changed; `force` redraws anyway (a resize changes the width to draw at).
 */
import type { LabState } from '../state.js';

/** Draws `state` into one part of the page; see the file comment. */
export type View = (state: LabState, force?: boolean) => void;

/** True when two lists have the same length and `same` holds pairwise. */
export function sameList<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean {
  return a.length === b.length && a.every((x, i) => same(x, b[i]!));
}
