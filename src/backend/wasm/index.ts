/** The WebAssembly SIMD backend; see wasm-backend.ts. */
export {
  createWasmBackend,
  createWasmBackendSync,
  WasmBackend,
  type WasmBackendOptions,
} from './wasm-backend.js';
export { relaxedSimdSupported, type KernelVariant } from './binary.js';
