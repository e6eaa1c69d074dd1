/** Stride arithmetic shared by the backends' strided kernels. */

/**
 * Collapses a strided view: drops size-1 axes and merges neighbours that are contiguous in every
 * input (the output is row-major contiguous), so most kernels run at rank 0–2.
 */
export function collapseDims(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, j) => outStrides[j]![last] === s[d]! * n)) {
      outShape[last]! *= n;
      strides.forEach((s, j) => (outStrides[j]![last] = s[d]!));
    } else {
      outShape.push(n);
      strides.forEach((s, j) => outStrides[j]!.push(s[d]!));
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** collapseDims padded to rank 1 (shape [1], stride 0): the wasm kernels index at least one dimension. */
export function collapseDimsMinRank1(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const c = collapseDims(shape, strides);
  if (c.shape.length === 0) {
    c.shape.push(1);
    c.strides.forEach((s) => s.push(0));
  }
  return c;
}
