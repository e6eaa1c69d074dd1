/**
 * The unfolded convolution (Backend.conv2dUnfolded and its backward) composed from a backend's own
 * im2col, matmul, copyStrided and col2im over the whole batch: the reference and WebGPU backends run
 * it as is, and it states what the wasm backend's blocked kernels (assembly/convUnfolded.ts) compute.
 */
import type { Backend, Im2colGeometry, StorageId } from './backend.js';

/** Rows of the unfolded input (N·OH·OW) and taps per patch (C·KH·KW). */
function sizes(g: Im2colGeometry): { rows: number; patch: number; positions: number } {
  const positions = g.outH * g.outW;
  return { rows: g.batch * positions, patch: g.channels * g.kernelH * g.kernelW, positions };
}

/** Runs `body` with temporary storages of the given sizes, freed however it ends. */
function withTemps(be: Backend, temps: readonly number[], body: (ids: StorageId[]) => void): void {
  const ids: StorageId[] = [];
  try {
    for (const size of temps) ids.push(be.alloc(size));
    body(ids);
  } finally {
    for (const id of ids) be.free(id);
  }
}

/** out [N, OC, OH, OW] = relu?(im2col(x)·Wᵀ + bias) permuted to NCHW (`bias` -1: none). */
export function conv2dUnfoldedComposed(
  be: Backend,
  x: StorageId,
  weight: StorageId,
  bias: StorageId,
  geom: Im2colGeometry,
  outChannels: number,
  relu: boolean,
  out: StorageId,
): void {
  const { rows, patch, positions } = sizes(geom);
  if (rows * outChannels === 0) return;
  withTemps(be, [rows * patch, rows * outChannels], ([cols, prod]) => {
    be.im2col(x, cols!, geom, 0);
    be.matmul(cols!, weight, prod!, rows, outChannels, patch, false, true, { bias, relu });
    // prod [N, P, OC] → out [N, OC, P].
    const shape = [geom.batch, outChannels, positions];
    be.copyStrided(
      prod!,
      0,
      [positions * outChannels, 1, outChannels],
      out,
      0,
      [outChannels * positions, positions, 1],
      shape,
    );
  });
}

/** dx = col2im(rows(dy)·W) and dweight = rows(dy)ᵀ·im2col(x), either -1 to skip it. */
export function conv2dUnfoldedBackwardComposed(
  be: Backend,
  x: StorageId,
  dy: StorageId,
  weight: StorageId,
  geom: Im2colGeometry,
  outChannels: number,
  dx: StorageId,
  dweight: StorageId,
): void {
  const { rows, patch, positions } = sizes(geom);
  if (rows === 0) {
    if (dx >= 0) be.fill(dx, geom.batch * geom.channels * geom.height * geom.width, 0);
    if (dweight >= 0) be.fill(dweight, outChannels * patch, 0);
    return;
  }
  withTemps(be, [rows * outChannels, rows * patch], ([dyRows, cols]) => {
    // dy [N, OC, P] → rows [N, P, OC].
    const shape = [geom.batch, positions, outChannels];
    be.copyStrided(
      dy,
      0,
      [outChannels * positions, 1, positions],
      dyRows!,
      0,
      [positions * outChannels, outChannels, 1],
      shape,
    );
    if (dx >= 0) {
      be.matmul(dyRows!, weight, cols!, rows, patch, outChannels, false, false);
      be.col2im(cols!, dx, geom);
    }
    if (dweight >= 0) {
      be.im2col(x, cols!, geom, 0);
      be.matmul(dyRows!, cols!, dweight, outChannels, patch, rows, true, false);
    }
  });
}
