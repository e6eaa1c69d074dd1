/**
 * Compiled kernels by key: each WGSL source is compiled into a compute pipeline on first use and kept,
 * with one bind-group layout per (inputs, outputs) count shared by every kernel of that arity
 * (binding 0: the parameter block with a dynamic offset; then the read-only inputs; then the outputs).
 */
import { STAGE_COMPUTE } from './flags.js';
import { PARAM_BYTES } from './params.js';

/** A compiled kernel and the layout its bind groups follow. */
export interface Kernel {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

/** Pipelines and layouts of one device; see the file comment. */
export class KernelCache {
  private readonly kernels = new Map<string, Kernel>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();

  /** Compiles on `device`. */
  constructor(private readonly device: GPUDevice) {}

  /** The kernel `key`, compiled from `source()` on first use, with `inputs` + `outputs` buffers. */
  get(key: string, source: () => string, inputs: number, outputs: number): Kernel {
    let k = this.kernels.get(key);
    if (k !== undefined) return k;
    const layout = this.layout(inputs, outputs);
    const module = this.device.createShaderModule({ code: source(), label: key });
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    k = { pipeline, layout };
    this.kernels.set(key, k);
    return k;
  }

  private layout(inputs: number, outputs: number): GPUBindGroupLayout {
    const key = `${inputs}:${outputs}`;
    let layout = this.layouts.get(key);
    if (layout !== undefined) return layout;
    const entries: GPUBindGroupLayoutEntry[] = [
      {
        binding: 0,
        visibility: STAGE_COMPUTE,
        buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: PARAM_BYTES },
      },
    ];
    for (let i = 0; i < inputs + outputs; i++) {
      entries.push({
        binding: i + 1,
        visibility: STAGE_COMPUTE,
        buffer: { type: i < inputs ? 'read-only-storage' : 'storage' },
      });
    }
    layout = this.device.createBindGroupLayout({ entries });
    this.layouts.set(key, layout);
    return layout;
  }
}
