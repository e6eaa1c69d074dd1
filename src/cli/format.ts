/** Text formatting for the terminal: tensors as PyTorch prints them, and aligned tables. */
import type { NestedArray } from '../tensor/tensor.js';

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return `${v}.`;
  return String(Number(v.toFixed(4)));
}

/** Formats nested values like `tensor([[ 0.,  2., …]])`, as PyTorch does for small float tensors. */
export function formatTensor(values: NestedArray): string {
  const flat: number[] = [];
  const collect = (v: NestedArray): void => {
    if (Array.isArray(v)) v.forEach(collect);
    else flat.push(v);
  };
  collect(values);
  const width = Math.max(...flat.map((v) => formatNumber(v).length));
  const render = (v: NestedArray, depth: number): string => {
    if (!Array.isArray(v)) return formatNumber(v).padStart(width);
    const inner = v.map((item) => render(item, depth + 1));
    const separator = Array.isArray(v[0]) ? ',\n' + ' '.repeat(8 + depth) : ', ';
    return `[${inner.join(separator)}]`;
  };
  return `tensor(${render(values, 0)})`;
}

/** Renders rows as a left/right-aligned text table with a header rule. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
