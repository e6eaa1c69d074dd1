/** The WebGPU backend; see webgpu-backend.ts (the ops) and create.ts (finding a device). */
export { createWebGPUBackend, type WebGPUBackendOptions } from './create.js';
export { WebGPUBackend, type WebGPUStats } from './webgpu-backend.js';
export { bufferSize } from './pool.js';
