/** The WebGPU backend; see webgpu-backend.ts. */
export {
  createWebGPUBackend,
  WebGPUBackend,
  collapseDims,
  sizeClass,
  type WebGPUBackendOptions,
  type WebGPUStats,
} from './webgpu-backend.js';
