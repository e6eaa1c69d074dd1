/**
 * The host's side of the direct convolution kernels (assembly/directConv.ts): the padded image each
 * thread builds in its workspace, and the argument words after the im2col geometry.
 */
import type { Im2colGeometry } from '../backend.js';

/** The padded image's rows and row stride, and the workspace bytes one thread needs. */
export interface DirectConvLayout {
  /** Rows per channel: the image plus padding above and below. */
  readonly paddedH: number;
  /**
   * Floats per row: the image plus padding, widened so a row's last (partial) 4-lane vector reads
   * inside the row: (⌈OW/4⌉·4 − 1)·strideW + KW.
   */
  readonly paddedW: number;
  /**
   * Image, tap offsets, a 4-float tail and two dy planes (OH·OW floats each: the weight gradient masks
   * two out channels' at a time), each rounded up to 16 bytes.
   */
  readonly workBytes: number;
}

/** See DirectConvLayout. */
export function directConvLayout(g: Im2colGeometry): DirectConvLayout {
  const paddedH = g.height + 2 * g.padH;
  const paddedW = Math.max(g.width + 2 * g.padW, (4 * Math.ceil(g.outW / 4) - 1) * g.strideW + g.kernelW);
  const up16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;
  const patch = g.channels * g.kernelH * g.kernelW;
  const workBytes =
    up16(4 * g.channels * paddedH * paddedW) + up16(4 * patch) + 16 + 2 * up16(4 * g.outH * g.outW);
  return { paddedH, paddedW, workBytes };
}
