/** Tiny helpers for building SVG markup as strings (values are numbers or escaped text). */

/** Escapes text for use in markup. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Rounds a coordinate to 0.1 px for compact markup. */
export function px(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}
