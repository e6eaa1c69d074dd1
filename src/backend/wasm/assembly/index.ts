// @ts-nocheck -- AssemblyScript, compiled by scripts/build-wasm.mjs, not by tsc.
/** Entry point of the wasm kernels: everything the host calls. Memory is imported from the host. */
export {
  fill,
  unary,
  unaryRange,
  binary,
  binaryRange,
  where,
  whereRange,
  reduce, argmax, softmaxCrossEntropy, sgdStep, sgdStepRange } from './elementwise';
export { softmax, softmaxBackward } from './softmax';
export { attention, attentionBackward } from './attention';
export { randomUniform, randomNormal, dropout, dropoutMasked } from './random';
export { gemm, gemmBatch, gemmWorkspace, gemmKc } from './gemm';
export { im2col, col2im } from './conv';
export { directConv2d, directConv2dWeightGrad } from './directConv';
export { convUnfolded, convUnfoldedDx, convUnfoldedDw, convUnfoldedWorkspace } from './convUnfolded';
export { maxPool2d, maxPool2dBackward } from './pool';
export { layerNorm, layerNormBackward } from './normalization';
export { sampleDensity, spmm, spmmWorkspace } from './sparse';

/** First byte past the module's static data; the host allocator starts above it. */
export function heapBase(): usize {
  return __heap_base;
}
