/** Random permutations from the seeded generator (torch.randperm). */
import { fillUniform } from './philox.js';
import type { Generator } from './generator.js';

/** A uniformly random permutation of 0…n−1 (Fisher–Yates over one draw of n uniforms). */
export function randperm(n: number, generator: Generator): Uint32Array {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const u = new Float32Array(n);
  const stream = generator.next('uniform', n);
  fillUniform(stream.key, stream.offset, u);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u[i]! * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
