/**
 * WebGPU type declarations for the backend: the W3C `@webgpu/types` package (a dependency of the
 * `webgpu` package, so it is installed with it). TypeScript's lib.dom does not declare WebGPU yet.
 */
/// <reference types="@webgpu/types" />

/** The `webgpu` package's module shape (Dawn for Node), imported dynamically. */
export interface WebGPUNodeModule {
  create(options: string[]): GPU;
  globals: object;
}
