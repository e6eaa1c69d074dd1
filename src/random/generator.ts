/**
 * A seeded, splittable random generator over Philox4x32-10. Its whole state is (seed, offset): each
 * random op reserves a fresh range of counter blocks, so masks differ every step and every layer,
 * yet a run is reproduced exactly from the seed, whatever the thread count or backend.
 */
import { ArgumentError, formatValue } from '../errors.js';
import { blocksFor, philox4x32 } from './philox.js';
import type { RandomDist, RandomStream } from './stream.js';

const TWO32 = 4294967296;

/** The saved state of a Generator: enough to resume its exact sequence (like torch's get_state). */
export interface GeneratorState {
  readonly seed: number;
  readonly offset: number;
}

function checkSeed(seed: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new ArgumentError(
      `seed must be a non-negative integer below 2^53, got ${formatValue(seed)}; e.g. 42.`,
    );
  }
  return seed;
}

/** Counter-based generator: `manualSeed`, `getState`/`setState`, and streams for random kernels. */
export class Generator {
  private seedValue: number;
  private offset = 0;

  /** Creates a generator seeded with `seed` (a non-negative safe integer). */
  constructor(seed = 0) {
    this.seedValue = checkSeed(seed);
  }

  /** Reseeds and rewinds the generator, like torch.Generator.manual_seed; returns this. */
  manualSeed(seed: number): this {
    this.seedValue = checkSeed(seed);
    this.offset = 0;
    return this;
  }

  /** The seed this generator was last seeded with. */
  get seed(): number {
    return this.seedValue;
  }

  /** Reserves the counter blocks for a draw of `size` elements and returns its stream. */
  next(dist: RandomDist, size: number): RandomStream {
    const stream: RandomStream = {
      key: [(this.seedValue % TWO32) >>> 0, Math.floor(this.seedValue / TWO32) >>> 0],
      offset: this.offset,
    };
    this.offset += Math.max(1, blocksFor(dist, size));
    return stream;
  }

  /** A copy of the state, to save in a checkpoint. */
  getState(): GeneratorState {
    return { seed: this.seedValue, offset: this.offset };
  }

  /** Restores a state from `getState`; the next draws repeat exactly. */
  setState(state: GeneratorState): this {
    this.seedValue = checkSeed(state.seed);
    if (!Number.isSafeInteger(state.offset) || state.offset < 0) {
      throw new ArgumentError(
        `generator offset must be a non-negative integer, got ${formatValue(state.offset)}.`,
      );
    }
    this.offset = state.offset;
    return this;
  }

  /**
   * A new independent generator derived from this one (e.g. one per model or per data loader), so
   * adding a random op in one place does not shift the numbers drawn elsewhere.
   */
  fork(): Generator {
    const words = new Uint32Array(4);
    // Derive the child seed from a draw of this generator (53 bits).
    const stream = this.next('uniform', 4);
    philoxWords(stream, words);
    return new Generator((words[0]! & 0x1fffff) * TWO32 + words[1]!);
  }
}

function philoxWords(stream: RandomStream, out: Uint32Array): void {
  philox4x32(
    (stream.offset % TWO32) >>> 0,
    Math.floor(stream.offset / TWO32) >>> 0,
    0,
    0,
    stream.key[0],
    stream.key[1],
    out,
  );
}

/** The default generator used when no generator is passed (seed 0 until `manualSeed`). */
export const defaultGenerator = new Generator(0);

/** Seeds the default generator, like torch.manual_seed. */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}
