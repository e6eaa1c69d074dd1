/**
 * Creating the WebGPU backend: finding navigator.gpu (the browser's, or in Node the optional `webgpu`
 * package's Dawn, imported on demand), an adapter and a device, each failure as one clear line.
 */
import { DropoutLabError } from '../../errors.js';
import type { WebGPUNodeModule } from './gpu-types.js';
import { WebGPUBackend } from './webgpu-backend.js';

/** Options of createWebGPUBackend. */
export interface WebGPUBackendOptions {
  /** Adapter to use; by default one is requested from navigator.gpu (or the `webgpu` package in Node). */
  readonly adapter?: GPUAdapter | undefined;
  /** Adapter preference when requesting one. */
  readonly powerPreference?: GPUPowerPreference | undefined;
}

/** Finds navigator.gpu: the browser's, or in Node the `webgpu` package's (Dawn), imported on demand. */
async function findGPU(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu !== undefined) return nav.gpu;
  const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
  if (!isNode) {
    throw new DropoutLabError(
      'WebGPU is not available in this browser (navigator.gpu is missing); use a WebGPU-enabled browser or the wasm backend.',
    );
  }
  // A variable specifier keeps bundlers and TypeScript from resolving the optional package.
  const specifier = 'webgpu';
  let mod: WebGPUNodeModule;
  try {
    mod = (await import(/* @vite-ignore */ specifier)) as WebGPUNodeModule;
  } catch (error) {
    throw new DropoutLabError(
      `the webgpu backend needs the optional 'webgpu' package in Node (npm install webgpu), which could not be loaded: ${firstLine(error)}`,
    );
  }
  try {
    return mod.create([]);
  } catch (error) {
    throw new DropoutLabError(`the 'webgpu' package could not create a GPU instance: ${firstLine(error)}`);
  }
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!;
}

/**
 * Creates the WebGPU backend on the given adapter or on one requested from navigator.gpu (in Node
 * from the `webgpu` package). Rejects with a one-line DropoutLabError when WebGPU or an adapter is
 * unavailable.
 */
export async function createWebGPUBackend(opts: WebGPUBackendOptions = {}): Promise<WebGPUBackend> {
  let adapter = opts.adapter ?? null;
  let gpu: GPU | null = null;
  if (adapter === null) {
    gpu = await findGPU();
    try {
      adapter = await gpu.requestAdapter(
        opts.powerPreference !== undefined ? { powerPreference: opts.powerPreference } : undefined,
      );
    } catch (error) {
      throw new DropoutLabError(`no WebGPU adapter: requestAdapter failed: ${firstLine(error)}`);
    }
    if (adapter === null) {
      throw new DropoutLabError(
        'no WebGPU adapter is available (no GPU, or no Vulkan/Metal/D3D12 driver; on Linux without a GPU install Mesa lavapipe); use the wasm backend.',
      );
    }
  }
  const limits = adapter.limits;
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
      },
    });
  } catch (error) {
    throw new DropoutLabError(`the WebGPU adapter refused to create a device: ${firstLine(error)}`);
  }
  return new WebGPUBackend(device, gpu);
}
