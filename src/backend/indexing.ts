/**
 * The CPU loops behind views and indexing, over plain typed arrays: the strided copy that
 * materialises a view or writes into a region of a larger tensor (cat, pad), gather, and its adjoint
 * scatter-add. The reference backend runs them on its arrays, the wasm backend on its linear memory.
 */

type Floats = Float32Array | Float64Array;

/**
 * dst[dstOffset + Σ iₐ·dstStrides[a]] = src[srcOffset + Σ iₐ·srcStrides[a]] for every index i of
 * `shape` (an odometer walk: O(1) per element).
 */
export function copyStridedArrays(
  src: Floats,
  srcOffset: number,
  srcStrides: readonly number[],
  dst: Floats,
  dstOffset: number,
  dstStrides: readonly number[],
  shape: readonly number[],
): void {
  const rank = shape.length;
  let size = 1;
  for (const d of shape) size *= d;
  if (size === 0) return;
  const idx = new Int32Array(rank);
  let s = srcOffset;
  let o = dstOffset;
  for (let i = 0; i < size; i++) {
    dst[o] = src[s]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      s += srcStrides[d]!;
      o += dstStrides[d]!;
      if (idx[d]! < shape[d]!) break;
      s -= srcStrides[d]! * shape[d]!;
      o -= dstStrides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/**
 * Gather along `dim`: out[p] = x[Σ_{a≠dim} pₐ·xStrides[a] + index[p]·xStrides[dim]] over outShape
 * (out and index contiguous and of outShape; index holds in-range integers, checked by the caller).
 */
export function gatherArrays(
  x: Floats,
  xStrides: readonly number[],
  dim: number,
  index: Floats,
  out: Floats,
  outShape: readonly number[],
): void {
  const rank = outShape.length;
  let size = 1;
  for (const d of outShape) size *= d;
  const idx = new Int32Array(rank);
  let base = 0; // Σ_{a≠dim} pₐ·xStrides[a]
  for (let i = 0; i < size; i++) {
    out[i] = x[base + index[i]! * xStrides[dim]!]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      if (d !== dim) base += xStrides[d]!;
      if (idx[d]! < outShape[d]!) break;
      if (d !== dim) base -= xStrides[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
}

/**
 * The adjoint of gather: out (contiguous, of outShape, written whole) = zeros, then
 * out[p with p[dim] = index[p]] += g[p] for every p of indexShape in row-major order, so each output
 * element sums its contributions in ascending position along `dim` (the order the WebGPU kernel uses).
 */
export function scatterAddArrays(
  g: Floats,
  index: Floats,
  indexShape: readonly number[],
  dim: number,
  out: Floats,
  outShape: readonly number[],
): void {
  const rank = outShape.length;
  let outSize = 1;
  for (const d of outShape) outSize *= d;
  out.fill(0, 0, outSize);
  const outStrides = new Array<number>(rank);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    outStrides[d] = acc;
    acc *= outShape[d]!;
  }
  let size = 1;
  for (const d of indexShape) size *= d;
  const idx = new Int32Array(rank);
  let base = 0;
  for (let i = 0; i < size; i++) {
    out[base + index[i]! * outStrides[dim]!]! += g[i]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      if (d !== dim) base += outStrides[d]!;
      if (idx[d]! < indexShape[d]!) break;
      if (d !== dim) base -= outStrides[d]! * indexShape[d]!;
      idx[d] = 0;
    }
  }
}
