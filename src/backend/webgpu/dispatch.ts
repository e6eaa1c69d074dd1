/**
 * Recording one kernel dispatch: binding its parameter block, inputs and outputs, owed zero-fills, and
 * the scratch-and-copy WebGPU needs when an output is also an input; plus the workgroup grid for a
 * thread count. Kept apart from the ops so each op is only its parameters and its kernel's name.
 */
import type { StorageId } from '../backend.js';
import type { KernelCache } from './kernel-cache.js';
import { WG } from './kernels.js';
import { PARAM_BYTES, type ParamArena, type ParamBlock } from './params.js';
import type { BufferPool } from './pool.js';
import type { Recorder } from './recorder.js';
import { USAGE_STORAGE } from './flags.js';

/** Largest workgroup count per grid dimension guaranteed by WebGPU. */
export const MAX_GROUPS = 65535;

/** `count` workgroups, folded into 2-D past the per-dimension limit. */
export function groups(count: number): [number, number] {
  if (count <= MAX_GROUPS) return [count, 1];
  return [MAX_GROUPS, Math.ceil(count / MAX_GROUPS)];
}

/** Workgroups for one thread per item (WG threads each). */
export function grid(threads: number): [number, number] {
  return groups(Math.ceil(threads / WG));
}

/** Records dispatches into a backend's batch; see the file comment. */
export class Dispatcher {
  /** Bound where a kernel's optional input is absent (id -1). */
  private readonly placeholder: GPUBuffer;

  /** Records on `device` with the backend's pool, recorder, kernel cache and parameter arena. */
  constructor(
    private readonly device: GPUDevice,
    private readonly pool: BufferPool,
    private readonly recorder: Recorder,
    private readonly kernels: KernelCache,
    private readonly params: ParamArena,
  ) {
    this.placeholder = device.createBuffer({ size: 256, usage: USAGE_STORAGE });
  }

  /**
   * Records one dispatch. Inputs are storage ids (-1 binds a placeholder); outputs are [id, elements
   * written]. An output that is also an input is computed into a scratch buffer and copied back, since
   * WebGPU forbids binding one buffer as read-only and writable in the same dispatch. `readsOutputs`
   * marks kernels that read their outputs (SGD), which then need owed zero-fills done first.
   */
  run(
    key: string,
    source: () => string,
    inputs: readonly StorageId[],
    outputs: readonly (readonly [StorageId, number])[],
    p: ParamBlock,
    workgroups: readonly [number, number] | readonly [number, number, number],
    readsOutputs = false,
  ): void {
    const kernel = this.kernels.get(key, source, inputs.length, outputs.length);
    const inBuffers = inputs.map((id) => {
      if (id < 0) return this.placeholder;
      const s = this.pool.storage(id);
      this.pool.resolveClear(s);
      return s.buffer;
    });
    const copies: [GPUBuffer, GPUBuffer, number, StorageId][] = [];
    const outBuffers = outputs.map(([id, written]) => {
      const s = this.pool.storage(id);
      if (readsOutputs || written < s.size) this.pool.resolveClear(s);
      else s.clear = false;
      if (!inputs.includes(id)) return s.buffer;
      const scratch = this.pool.alloc(s.size, false);
      const buffer = this.pool.storage(scratch).buffer;
      copies.push([buffer, s.buffer, written * 4, scratch]);
      return buffer;
    });
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.params.buffer, size: PARAM_BYTES } },
    ];
    [...inBuffers, ...outBuffers].forEach((buffer, i) =>
      entries.push({ binding: i + 1, resource: { buffer } }),
    );
    const bindGroup = this.device.createBindGroup({ layout: kernel.layout, entries });
    const pass = this.recorder.computePass();
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, bindGroup, [p.slot * PARAM_BYTES]);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2] ?? 1);
    this.recorder.commands++;
    this.recorder.dispatches++;
    for (const [from, to, bytes, scratch] of copies) {
      this.recorder.copy(from, to, bytes);
      this.pool.free(scratch);
    }
  }
}
