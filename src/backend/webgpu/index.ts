/** The WebGPU backend; see webgpu-backend.ts. */
export {
  createWebGPUBackend,
  WebGPUBackend,
  sizeClass,
  type WebGPUBackendOptions,
  type WebGPUStats,
} from './webgpu-backend.js';
export { collapseDims } from '../strides.js';
