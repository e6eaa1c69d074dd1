/**
 * WebGPU flag values, spelled out so the backend does not depend on the GPUBufferUsage, GPUMapMode
 * and GPUShaderStage globals (Dawn in Node installs them only on request).
 */

/** GPUBufferUsage.MAP_READ. */
export const USAGE_MAP_READ = 0x1;
/** GPUBufferUsage.COPY_SRC. */
export const USAGE_COPY_SRC = 0x4;
/** GPUBufferUsage.COPY_DST. */
export const USAGE_COPY_DST = 0x8;
/** GPUBufferUsage.UNIFORM. */
export const USAGE_UNIFORM = 0x40;
/** GPUBufferUsage.STORAGE. */
export const USAGE_STORAGE = 0x80;
/** GPUMapMode.READ. */
export const MAP_MODE_READ = 0x1;
/** GPUShaderStage.COMPUTE. */
export const STAGE_COMPUTE = 0x4;
