// How a mask turns into additive score terms; shared by every kernel that applies masks.

/** No mask. */
export const MASK_NONE = 0;
/** f32 values added to the scores (0 or -Infinity, or any float). */
export const MASK_ADD = 1;
/** u8 keep-mask, PyTorch SDPA convention: nonzero = may attend, 0 = hidden (score -Infinity). */
export const MASK_KEEP = 2;
/** u8 hide-mask, nn.MultiheadAttention convention: nonzero = hidden (padding, not allowed), 0 = may attend. */
export const MASK_HIDE = 3;

/** Bytes of one mask element of this kind. */
@inline export function maskElementBytes(kind: i32): usize {
  return kind == MASK_ADD ? 4 : 1;
}

/** Additive term of one mask element at byte address p. */
@inline export function maskTerm(kind: i32, p: usize): f32 {
  if (kind == MASK_ADD) return load<f32>(p);
  if (kind == MASK_KEEP) return load<u8>(p) != 0 ? 0 : -Infinity;
  if (kind == MASK_HIDE) return load<u8>(p) != 0 ? -Infinity : 0;
  return 0;
}

/**
 * Additive terms of four consecutive mask elements from byte address p; with ldc = 0 (mask broadcast
 * over keys) the element at p serves all four.
 */
@inline export function maskTerms4(kind: i32, p: usize, ldc: i32): v128 {
  if (kind == MASK_NONE) return f32x4.splat(0);
  if (ldc == 0) return f32x4.splat(maskTerm(kind, p));
  if (kind == MASK_ADD) return v128.load(p);
  // Widen 4 bytes to 4 i32 lanes; hidden lanes (0 for a keep-mask, nonzero for a hide-mask) become -Infinity.
  const zeroByte = i32x4.eq(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(p))), i32x4.splat(0));
  const hidden = kind == MASK_KEEP ? zeroByte : v128.not(zeroByte);
  return v128.bitselect(f32x4.splat(-Infinity), f32x4.splat(0), hidden);
}
