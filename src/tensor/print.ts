/**
 * How a tensor prints: PyTorch's repr (torch/_tensor_str.py), the first thing a user looks at.
 * `tensor([[1., 2., 3.],\n        [4., 5., 6.]])`: whole floats with a trailing dot (an int32 tensor's
 * values plainly, as torch prints its integer tensors: `tensor([1, 2])`), otherwise four
 * decimals, scientific notation when the magnitudes span more than 10^3 (or leave [10^-4, 10^8]),
 * every element padded to one width, rows wrapped at 80 columns, and more than 1,000 elements
 * summarised to the 3 first and last of each axis with `...` (then the shape is appended, as
 * the elided data no longer shows it). Works on values already read; reads nothing itself.
 */

/** Elements beyond which a tensor prints summarised (torch.set_printoptions' threshold). */
export const PRINT_THRESHOLD = 1000;
/** Items kept at each end of a summarised axis. */
const EDGE = 3;
const LINE_WIDTH = 80;

/** One number as PyTorch's formatter writes it, before padding (an integer dtype's plainly: `tensor([1, 2])`). */
function formatter(values: ArrayLike<number>, integer: boolean): (v: number) => string {
  if (integer) return (v) => v.toFixed(0);
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) finite.push(values[i]!);
  const special = (v: number): string | null =>
    Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : null;
  const intMode = finite.every((v) => Number.isInteger(v));
  const magnitudes = finite.map(Math.abs).filter((v) => v > 0);
  const max = magnitudes.length > 0 ? Math.max(...magnitudes) : 0;
  const min = magnitudes.length > 0 ? Math.min(...magnitudes) : 0;
  const spread = min > 0 && max / min > 1000;
  const scientific = intMode ? max > 1e8 || spread : max > 1e8 || min < 1e-4 || spread;
  if (scientific) {
    // Two exponent digits at least, as C's printf (and so PyTorch) writes them: 1.0000e-05.
    return (v) =>
      special(v) ??
      v.toExponential(4).replace(/e([+-])(\d)$/, (_, sign: string, d: string) => `e${sign}0${d}`);
  }
  if (intMode) return (v) => special(v) ?? `${Object.is(v, -0) ? '-0' : v.toFixed(0)}.`;
  return (v) => special(v) ?? v.toFixed(4);
}

/** The index ranges shown along an axis of length n (two when summarised). */
function shownRanges(n: number, summarise: boolean): [number, number][] {
  return summarise && n > 2 * EDGE
    ? [
        [0, EDGE],
        [n - EDGE, n],
      ]
    : [[0, n]];
}

/**
 * PyTorch's repr of a tensor's values: `tensor([...])`, with `extras` (e.g. `requiresGrad=true`)
 * after them. `values` null prints a placeholder (a disposed tensor, or one on an asynchronous backend).
 */
export function formatTensor(
  values: ArrayLike<number> | null,
  shape: readonly number[],
  extras: readonly string[] = [],
  placeholder = '…',
  dtype: 'float32' | 'int32' = 'float32',
): string {
  const integer = dtype === 'int32';
  const size = shape.reduce((a, b) => a * b, 1);
  const summarise = size > PRINT_THRESHOLD;
  const tail = [...extras];
  if (values === null || size === 0 || summarise) tail.unshift(`shape=[${shape.join(', ')}]`);
  const suffix = tail.length > 0 ? `, ${tail.join(', ')}` : '';
  const prefix = 'tensor(';
  if (values === null) return `${prefix}${placeholder}${suffix})`;
  if (shape.length === 0) return `${prefix}${formatter(values, integer)(values[0]!)}${suffix})`;

  // Format the elements shown, then pad them to one width.
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const shown: number[] = [];
  const collect = (d: number, offset: number): void => {
    for (const [lo, hi] of shownRanges(shape[d]!, summarise))
      for (let i = lo; i < hi; i++) {
        if (d === shape.length - 1) shown.push(values[offset + i]!);
        else collect(d + 1, offset + i * strides[d]!);
      }
  };
  collect(0, 0);
  const format = formatter(shown, integer);
  const width = Math.max(0, ...shown.map((v) => format(v).length));
  const cell = (v: number): string => format(v).padStart(width);

  const render = (d: number, offset: number, indent: number): string => {
    const ranges = shownRanges(shape[d]!, summarise);
    if (d === shape.length - 1) {
      const items: string[] = [];
      ranges.forEach(([lo, hi], r) => {
        if (r > 0) items.push(' ...');
        for (let i = lo; i < hi; i++) items.push(cell(values[offset + i]!));
      });
      // Wrap as PyTorch does: as many elements per line as fit in the line width.
      const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / (width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
      return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
    }
    const parts: string[] = [];
    ranges.forEach(([lo, hi], r) => {
      if (r > 0) parts.push('...');
      for (let i = lo; i < hi; i++) parts.push(render(d + 1, offset + i * strides[d]!, indent + 1));
    });
    const gap = `,${'\n'.repeat(shape.length - d - 1)}${' '.repeat(indent + 1)}`;
    return `[${parts.join(gap)}]`;
  };
  return `${prefix}${render(0, 0, prefix.length)}${suffix})`;
}
