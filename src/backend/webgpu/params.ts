/**
 * The per-batch parameter arena: every dispatch gets its own 256-byte uniform block (sizes, strides,
 * the Philox stream, the dropout threshold) in one CPU-side array, bound with a dynamic offset into one
 * GPU buffer and uploaded once per submit. A batch holds PARAM_SLOTS blocks; the backend submits when
 * they run out. The encoders of each kernel family's block layout (see kernels.ts) live here too.
 */
import type { RandomStream } from '../../random/stream.js';
import { DropoutLabError } from '../../errors.js';
import { USAGE_COPY_DST, USAGE_UNIFORM } from './flags.js';
import { MAX_RANK, PARAM_WORDS } from './kernels.js';

/** Bytes of one kernel's parameter block (the minimum uniform dynamic-offset alignment). */
export const PARAM_BYTES = PARAM_WORDS * 4;
/** Parameter blocks per batch: the batch is submitted when they run out. */
const PARAM_SLOTS = 1024;

/** One dispatch's parameter block: its slot and two views of its words. */
export interface ParamBlock {
  readonly slot: number;
  readonly u32: Uint32Array;
  readonly f32: Float32Array;
}

/** The parameter blocks of the batch being recorded; see the file comment. */
export class ParamArena {
  /** The uniform buffer every dispatch binds (at its block's offset). */
  readonly buffer: GPUBuffer;
  private readonly data = new ArrayBuffer(PARAM_SLOTS * PARAM_BYTES);
  private slots = 0;

  /** `submit` is called when the arena is full, before a block is handed out. */
  constructor(
    private readonly device: GPUDevice,
    private readonly submit: () => void,
  ) {
    this.buffer = device.createBuffer({
      size: PARAM_SLOTS * PARAM_BYTES,
      usage: USAGE_UNIFORM | USAGE_COPY_DST,
    });
  }

  /** A fresh zeroed block (submitting the batch first when the arena is full). */
  next(): ParamBlock {
    if (this.slots === PARAM_SLOTS) this.submit();
    const slot = this.slots++;
    const u32 = new Uint32Array(this.data, slot * PARAM_BYTES, PARAM_WORDS);
    u32.fill(0);
    u32[62] = 0x7fc00000; // NaN
    u32[63] = 0xff800000; // -Infinity
    return { slot, u32, f32: new Float32Array(this.data, slot * PARAM_BYTES, PARAM_WORDS) };
  }

  /** Uploads the blocks handed out since the last submit and starts a new batch. */
  upload(): void {
    if (this.slots > 0) this.device.queue.writeBuffer(this.buffer, 0, this.data, 0, this.slots * PARAM_BYTES);
    this.slots = 0;
  }
}

/** A strided kernel's block: P0 size, P1 rank, P3 contiguous flag, P4… shape, P12+8j… strides. */
export function stridedParams(
  arena: ParamArena,
  size: number,
  c: { shape: number[]; strides: number[][] },
): ParamBlock {
  const rank = c.shape.length;
  if (rank > MAX_RANK) {
    throw new DropoutLabError(
      `webgpu backend: strided views of rank ${rank} are not supported (at most ${MAX_RANK} after merging contiguous axes).`,
    );
  }
  const p = arena.next();
  p.u32[0] = size;
  p.u32[1] = rank;
  // Rank 0 (one element) and rank 1 with unit strides index every input by the output index.
  const contiguous = c.strides.every((s) => rank === 0 || (rank === 1 && s[0] === 1));
  p.u32[3] = contiguous ? 1 : 0;
  for (let d = 0; d < rank; d++) {
    p.u32[4 + d] = c.shape[d]!;
    c.strides.forEach((s, j) => (p.u32[12 + 8 * j + d] = s[d]!));
  }
  return p;
}

/** A random kernel's block: P0 size, P1–P2 the 53-bit block offset, P3–P4 the Philox key. */
export function streamParams(arena: ParamArena, size: number, stream: RandomStream): ParamBlock {
  const p = arena.next();
  p.u32[0] = size;
  p.u32[1] = stream.offset % 4294967296;
  p.u32[2] = Math.floor(stream.offset / 4294967296);
  p.u32[3] = stream.key[0];
  p.u32[4] = stream.key[1];
  return p;
}
