// @ts-nocheck -- AssemblyScript: a tiny module whose validation tells whether relaxed SIMD is available.
export function probe(a: v128): v128 {
  return f32x4.relaxed_madd(a, a, a);
}
