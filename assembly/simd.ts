// The tiny SIMD vocabulary every kernel is written against; the ISA is a build target, not a copy.

/** a·b + c per lane: one fused relaxed_madd in the relaxed build, mul then add in the plain one. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Sum of the four lanes. */
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Largest of the four lanes; NaN if any lane is NaN (f32.max propagates NaN). */
@inline export function hmax(v: v128): f32 {
  return max(
    max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)),
  );
}

/**
 * Stores the transpose of the 4×4 block with rows r0…r3 as four vectors at dst, dst + dstRow, … (bytes); returns their
 * lane-wise max (pmax: a NaN lane may or may not carry through), which callers that only store leave unused.
 */
@inline export function storeTransposed4(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, dstRow: usize): v128 {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  const c0 = v128.shuffle<f32>(t0, t2, 0, 1, 4, 5);
  const c1 = v128.shuffle<f32>(t0, t2, 2, 3, 6, 7);
  const c2 = v128.shuffle<f32>(t1, t3, 0, 1, 4, 5);
  const c3 = v128.shuffle<f32>(t1, t3, 2, 3, 6, 7);
  v128.store(dst, c0);
  v128.store(dst + dstRow, c1);
  v128.store(dst + 2 * dstRow, c2);
  v128.store(dst + 3 * dstRow, c3);
  return f32x4.pmax(f32x4.pmax(c0, c1), f32x4.pmax(c2, c3));
}
