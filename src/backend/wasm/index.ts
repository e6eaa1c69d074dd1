/** The WebAssembly SIMD backend; see wasm-backend.ts (the ops) and create.ts (creation per host). */
export { createWasmBackend, createWasmBackendSync, type WasmBackendOptions } from './create.js';
export { WasmBackend } from './wasm-backend.js';
export { relaxedSimdSupported, type KernelVariant } from './binary.js';
