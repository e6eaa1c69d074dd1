// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/**
 * Convolution as unfold + GEMM, a block of images at a time (the conv2dUnfolded primitive: patches
 * too large for the direct kernel, LeNet's second layer). The whole-batch route unfolded every image
 * into patch rows (15 MB for LeNet's conv2 at batch 256), read them back from memory for the product
 * and permuted the product to NCHW, and its backward wrote the patch gradients out whole for col2im.
 * Here `block` images at a time are unfolded into the thread's workspace and multiplied while they
 * are in cache; the product is stored NCHW, and dy's NCHW planes are read into rows there.
 *
 * Every element is the same chain of multiply-adds as in the whole-batch product, since a chain
 * depends on k's blocking alone (gemm.ts): the forward and dx equal the route's bit for bit, for any
 * split of the images between threads. The weight gradient sums over every image: each of a fixed
 * number of image groups (a function of the shape, convUnfoldedGroups) accumulates its images in
 * order into its own partial (gemmInto), and the host sums the partials in group order.
 */
import { gemmInto, gemmWorkspace, min, transpose4To } from './gemm';
import { addRun, endInside, firstInside, im2col, storeRounded } from './conv';

@inline function arg(args: usize, i: i32): i32 {
  return load<i32>(args + (<usize>i << 2));
}

@inline function max(a: i32, b: i32): i32 {
  return a > b ? a : b;
}

@inline function up16(bytes: i32): i32 {
  return (bytes + 15) & ~15;
}

/** Bytes of a block's patch rows (block·OH·OW × C·KH·KW floats). */
@inline function colsBytes(args: usize, block: i32): i32 {
  return up16(block * arg(args, 10) * arg(args, 11) * arg(args, 1) * arg(args, 4) * arg(args, 5) * 4);
}

/** Bytes of a block's product or gradient rows: block·OH·OW × max(OC, C·KH·KW) floats. */
@inline function rowsBytes(args: usize, oc: i32, block: i32): i32 {
  const patch = arg(args, 1) * arg(args, 4) * arg(args, 5);
  return up16(block * arg(args, 10) * arg(args, 11) * max(oc, patch) * 4);
}

/** Bytes of the GEMM's packing for any of the three products of a block (each side at most `most`). */
@inline function gemmBytes(args: usize, oc: i32, block: i32): i32 {
  const patch = arg(args, 1) * arg(args, 4) * arg(args, 5);
  const most = max(max(block * arg(args, 10) * arg(args, 11), patch), oc);
  return up16(gemmWorkspace(most, most, most));
}

/**
 * Workspace bytes one thread needs for blocks of `block` images (geometry at `args` as for im2col,
 * `oc` out channels), in this order: patch rows, two blocks of rows (the product, or dy's rows and the
 * patch gradients), the GEMM's packing, col2im's float64 image.
 */
export function convUnfoldedWorkspace(args: usize, oc: i32, block: i32): i32 {
  const image = arg(args, 1) * arg(args, 2) * arg(args, 3);
  return colsBytes(args, block) + 2 * rowsBytes(args, oc, block) + gemmBytes(args, oc, block) + image * 8;
}

/** Where the GEMM's packing starts in the workspace (see convUnfoldedWorkspace). */
@inline function gemmAt(work: usize, args: usize, oc: i32, block: i32): usize {
  return work + <usize>(colsBytes(args, block) + 2 * rowsBytes(args, oc, block));
}

/** dy's planes [n0, n0 + nb) × OC × P (NCHW) as rows [(n, p)][o] at `rows` (4×4 blocks transposed in registers). */
function dyRows(dy: usize, rows: usize, n0: i32, nb: i32, oc: i32, positions: i32): void {
  const ldr = <usize>oc << 2;
  const plane = <usize>positions << 2;
  const oc4 = oc & ~3;
  const p4 = positions & ~3;
  for (let i = 0; i < nb; i++) {
    const image = dy + (<usize>((n0 + i) * oc * positions) << 2);
    const dst = rows + (<usize>(i * positions * oc) << 2);
    for (let o = 0; o < oc4; o += 4) {
      const src = image + <usize>o * plane;
      for (let p = 0; p < p4; p += 4) transpose4To(src + (<usize>p << 2), plane, dst + <usize>p * ldr + (<usize>o << 2), ldr);
    }
    for (let o = oc4; o < oc; o++) {
      for (let p = 0; p < p4; p++) store<f32>(dst + <usize>p * ldr + (<usize>o << 2), load<f32>(image + <usize>o * plane + (<usize>p << 2)));
    }
    for (let o = 0; o < oc; o++) {
      for (let p = p4; p < positions; p++) store<f32>(dst + <usize>p * ldr + (<usize>o << 2), load<f32>(image + <usize>o * plane + (<usize>p << 2)));
    }
  }
}

/**
 * out [N, OC, OH, OW] for the images [imageFrom, imageTo) = relu?(unfold(x)·Wᵀ + bias), W [OC, patch]
 * (`bias` 0: none; `relu` 0/1), `block` images per product.
 */
export function convUnfolded(
  x: usize,
  w: usize,
  bias: usize,
  out: usize,
  args: usize,
  oc: i32,
  block: i32,
  relu: i32,
  imageFrom: i32,
  imageTo: i32,
  work: usize,
): void {
  const positions = arg(args, 10) * arg(args, 11);
  const patch = arg(args, 1) * arg(args, 4) * arg(args, 5);
  const cols = work;
  const prod = cols + <usize>colsBytes(args, block);
  const gw = gemmAt(work, args, oc, block);
  const rowBytes = <usize>patch << 2;
  for (let n0 = imageFrom; n0 < imageTo; n0 += block) {
    const nb = min(block, imageTo - n0);
    const rows = nb * positions;
    const r0 = n0 * positions;
    // im2col writes row r at out + r·rowBytes: offset so the block's first row lands at `cols`.
    im2col(x, cols - <usize>r0 * rowBytes, args, 0, r0, r0 + rows);
    gemmInto(cols, w, prod, rows, oc, patch, false, true, 0, rows, 0, oc, gw, bias, relu != 0, false);
    rowsToPlanes(prod, out, n0, nb, oc, positions);
  }
}

/**
 * The product's rows [(n, p)][o] of the images [n0, n0 + nb) stored as out's NCHW planes [n][o][p]:
 * 4×4 blocks transposed in registers, a scalar copy for the edges when OC or OH·OW is not a multiple of 4.
 */
function rowsToPlanes(prod: usize, out: usize, n0: i32, nb: i32, oc: i32, positions: i32): void {
  const ldp = <usize>oc << 2;
  const plane = <usize>positions << 2;
  const oc4 = oc & ~3;
  const p4 = positions & ~3;
  for (let i = 0; i < nb; i++) {
    const rows = prod + (<usize>(i * positions * oc) << 2);
    const image = out + (<usize>((n0 + i) * oc * positions) << 2);
    for (let p = 0; p < p4; p += 4) {
      const src = rows + <usize>p * ldp;
      const dst = image + (<usize>p << 2);
      for (let o = 0; o < oc4; o += 4) transpose4To(src + (<usize>o << 2), ldp, dst + <usize>o * plane, plane);
    }
    for (let o = oc4; o < oc; o++) {
      for (let p = 0; p < p4; p++) store<f32>(image + <usize>o * plane + (<usize>p << 2), load<f32>(rows + <usize>p * ldp + (<usize>o << 2)));
    }
    for (let o = 0; o < oc; o++) {
      for (let p = p4; p < positions; p++) store<f32>(image + <usize>o * plane + (<usize>p << 2), load<f32>(rows + <usize>p * ldp + (<usize>o << 2)));
    }
  }
}

/**
 * Image n's patch gradients stored tap-major (colsT [C·KH·KW][OH·OW], tap rows `ld` floats apart: a
 * block's images side by side) summed into dx[n], the adjoint of
 * im2col with col2im's sums: each element's taps in ascending (kh, kw) order in float64, rounded once.
 * Taps t = (c, kh, kw) go in ascending order, each adding its output rows to the rows of the image it
 * reads; at stride 1 a row is one contiguous run (addRun's float64x2 lanes), not col2im's runs of KW.
 */
function col2imTaps(colsT: usize, ld: i32, dx: usize, args: usize, n: i32, acc: usize): void {
  const channels = arg(args, 1);
  const height = arg(args, 2);
  const width = arg(args, 3);
  const kernelH = arg(args, 4);
  const kernelW = arg(args, 5);
  const strideH = arg(args, 6);
  const strideW = arg(args, 7);
  const padH = arg(args, 8);
  const padW = arg(args, 9);
  const outH = arg(args, 10);
  const outW = arg(args, 11);
  const imageSize = channels * height * width;
  memory.fill(acc, 0, <usize>imageSize << 3);
  let src = colsT;
  for (let c = 0; c < channels; c++) {
    for (let kh = 0; kh < kernelH; kh++) {
      const ohLo = firstInside(padH - kh, strideH);
      const ohHi = endInside(height + padH - kh, strideH, outH);
      for (let kw = 0; kw < kernelW; kw++) {
        const owLo = firstInside(padW - kw, strideW);
        const owHi = endInside(width + padW - kw, strideW, outW);
        for (let oh = ohLo; oh < ohHi; oh++) {
          const h = oh * strideH - padH + kh;
          const s = src + (<usize>(oh * outW) << 2);
          const row = acc + (<usize>((c * height + h) * width) << 3);
          if (strideW == 1) {
            addRun(row + (<usize>(owLo - padW + kw) << 3), s + (<usize>owLo << 2), owHi - owLo);
          } else {
            for (let ow = owLo; ow < owHi; ow++) {
              const a = row + (<usize>(ow * strideW - padW + kw) << 3);
              store<f64>(a, load<f64>(a) + <f64>load<f32>(s + (<usize>ow << 2)));
            }
          }
        }
        src += <usize>ld << 2;
      }
    }
  }
  storeRounded(acc, dx + (<usize>(n * imageSize) << 2), imageSize);
}

/**
 * dx [N, C, H, W] for the images [imageFrom, imageTo) = col2im(rows(dy)·W), dy [N, OC, OH, OW]: per
 * block of images, the patch gradients tap-major, Wᵀ·dyB (W read in place as op(A); dyB [OC][(n, p)]
 * the block's dy planes side by side, so a product's columns are whole 8-wide panels but for the
 * block's last (LeNet's 100 positions an image left a partial panel per image); each element the same
 * chain over the out channels as rows(dy)·W, the factors of each product swapped), then col2imTaps
 * image by image.
 */
export function convUnfoldedDx(
  dy: usize,
  w: usize,
  dx: usize,
  args: usize,
  oc: i32,
  block: i32,
  imageFrom: i32,
  imageTo: i32,
  work: usize,
): void {
  const positions = arg(args, 10) * arg(args, 11);
  const patch = arg(args, 1) * arg(args, 4) * arg(args, 5);
  const colsT = work + <usize>colsBytes(args, block);
  const dyB = colsT + <usize>rowsBytes(args, oc, block);
  const gw = gemmAt(work, args, oc, block);
  const acc = gw + <usize>gemmBytes(args, oc, block);
  const plane = <usize>positions << 2;
  for (let n0 = imageFrom; n0 < imageTo; n0 += block) {
    const nb = min(block, imageTo - n0);
    const cols = nb * positions;
    let b = dy + (<usize>(n0 * oc * positions) << 2);
    if (nb > 1) {
      for (let i = 0; i < nb; i++) {
        for (let o = 0; o < oc; o++) {
          const src = dy + (<usize>((n0 + i) * oc + o) * plane);
          memory.copy(dyB + (<usize>(o * cols + i * positions) << 2), src, plane);
        }
      }
      b = dyB;
    }
    gemmInto(w, b, colsT, patch, cols, oc, true, false, 0, patch, 0, cols, gw, 0, false, false);
    for (let i = 0; i < nb; i++) col2imTaps(colsT + (<usize>(i * positions) << 2), cols, dx, args, n0 + i, acc);
  }
}

/**
 * The weight gradient's partials of the image groups [groupFrom, groupTo), transposed: group g (images
 * [g·groupImages, (g+1)·groupImages) ∩ [0, N)) writes Σ unfold(x)ᵀ·rows(dy) over its images, in
 * order, to dwPart + g·patch·OC floats ([patch][OC]; the host transposes their sum). Each element is
 * the chain of rows(dy)ᵀ·unfold(x)'s, the factors of each product swapped; this way round the product
 * is patch × OC (LeNet's 150 × 16: 25 × 2 whole 6×8 tiles) rather than OC × patch (16 × 150: 3 × 19
 * tiles, 21 of them partial, each copied in and out of a padded tile at every block).
 */
export function convUnfoldedDw(
  x: usize,
  dy: usize,
  dwPart: usize,
  args: usize,
  oc: i32,
  block: i32,
  groupImages: i32,
  groupFrom: i32,
  groupTo: i32,
  work: usize,
): void {
  const batch = arg(args, 0);
  const positions = arg(args, 10) * arg(args, 11);
  const patch = arg(args, 1) * arg(args, 4) * arg(args, 5);
  const cols = work;
  const rowsY = cols + <usize>colsBytes(args, block);
  const gw = gemmAt(work, args, oc, block);
  const rowBytes = <usize>patch << 2;
  for (let g = groupFrom; g < groupTo; g++) {
    const part = dwPart + (<usize>(g * oc * patch) << 2);
    const end = min(batch, (g + 1) * groupImages);
    for (let n0 = g * groupImages; n0 < end; n0 += block) {
      const nb = min(block, end - n0);
      const rows = nb * positions;
      const r0 = n0 * positions;
      im2col(x, cols - <usize>r0 * rowBytes, args, 0, r0, r0 + rows);
      dyRows(dy, rowsY, n0, nb, oc, positions);
      gemmInto(cols, rowsY, part, patch, oc, rows, true, false, 0, patch, 0, oc, gw, 0, false, n0 > g * groupImages);
    }
  }
}
