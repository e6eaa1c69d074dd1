/**
 * The flops of a Backend call that is a product (2 per multiply-add), for the bench's and the
 * profile's share of the SIMD peak: matmul and batchMatmul, the unfolded convolution's products and
 * attention's. The sparse path skips zeros but counts as the dense product it stands for.
 */

/** Backend methods whose calls are products, in the order `productFlops` knows them. */
export const PRODUCT_METHODS = [
  'matmul',
  'batchMatmul',
  'conv2dUnfolded',
  'conv2dUnfoldedBackward',
  'attention',
  'attentionBackward',
] as const;

/** Flops of one call of Backend method `name` with `args` (0 for a method that is not a product). */
export function productFlops(name: string, args: readonly unknown[]): number {
  const num = (i: number): number => args[i] as number;
  switch (name) {
    case 'matmul':
      return 2 * num(3) * num(4) * num(5);
    case 'batchMatmul':
      return 2 * num(3) * num(4) * num(5) * num(6);
    case 'conv2dUnfolded':
    case 'conv2dUnfoldedBackward': {
      // 2·N·OH·OW·OC·C·KH·KW per product: the forward, or dx and dW as asked (-1: skipped).
      const g = args[3] as Record<string, number>;
      const one =
        2 * g['batch']! * g['outH']! * g['outW']! * num(4) * g['channels']! * g['kernelH']! * g['kernelW']!;
      if (name === 'conv2dUnfolded') return one;
      return ((num(5) >= 0 ? 1 : 0) + (num(6) >= 0 ? 1 : 0)) * one;
    }
    case 'attention':
    case 'attentionBackward': {
      // Per (example, head) block: q·kᵀ and P·v forward; dP, dq, dk and dv backward.
      const a = args[name === 'attention' ? 3 : 5] as Record<string, number>;
      const pairs = 2 * a['batch']! * a['heads']! * a['queries']! * a['keys']!;
      return (name === 'attention' ? 1 : 2) * pairs * (a['dim']! + a['valueDim']!);
    }
    default:
      return 0;
  }
}
