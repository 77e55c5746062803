// Vectorised e^x for f32x4 (Cody–Waite range reduction, degree-5 minimax polynomial).
import { madd } from "./simd";

// x = n·ln2 + r with |r| ≤ ln2/2; ln2 split in two so n·LN2_HI is exact in f32.
export const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
// e^r ≈ 1 + r + r²·P(r) on [-ln2/2, ln2/2].
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;
// Adding 1.5·2^23 rounds x·log2e to an integer n held in the low mantissa bits: bits(t) = bits(ROUNDER) + n.
const ROUNDER: f32 = 12582912.0;
// Full range: clamping keeps n in [-150, 128]; below -104 e^x rounds to 0, above 89 it overflows to +Infinity.
const X_LO: f32 = -104.0;
const X_HI: f32 = 89.0;
// Flushing: n ≥ -126 keeps 2^n normal; below X_NORMAL the result is set to 0.
const X_NORMAL: f32 = -87.33654;

/**
 * e^x per lane. NaN stays NaN, -Infinity gives 0.
 * Full range (flush = false): f32's own underflow (subnormals, then 0) and overflow (+Infinity).
 * Flushing (flush = true), for softmax where x = s − max ≤ 0: results below the smallest normal f32
 * (x < -87.34) are 0, and x must be ≤ 88.37; a few operations fewer.
 */
@inline export function exp_f32x4(x: v128, flush: bool = false): v128 {
  // pmax/pmin return their first operand when it is NaN, so a NaN lane stays NaN throughout.
  const xc = flush ? f32x4.pmax(
    x, f32x4.splat(X_NORMAL),
  ) : f32x4.pmin(f32x4.pmax(x, f32x4.splat(X_LO)), f32x4.splat(X_HI));
  const t = madd(xc, f32x4.splat(LOG2E), f32x4.splat(ROUNDER));
  const n = f32x4.sub(t, f32x4.splat(ROUNDER));
  let r = madd(n, f32x4.splat(-LN2_HI), xc);
  r = madd(n, f32x4.splat(-LN2_LO), r);
  let p = madd(f32x4.splat(P0), r, f32x4.splat(P1));
  p = madd(p, r, f32x4.splat(P2));
  p = madd(p, r, f32x4.splat(P3));
  p = madd(p, r, f32x4.splat(P4));
  p = madd(p, r, f32x4.splat(P5));
  const er = madd(p, f32x4.mul(r, r), f32x4.add(r, f32x4.splat(1.0)));
  if (flush) {
    // 2^n = (n + 127) << 23 in the exponent bits; bits(ROUNDER) << 23 vanishes mod 2^32.
    const y = f32x4.mul(er, i32x4.add(i32x4.shl(t, 23), i32x4.splat(127 << 23)));
    return v128.andnot(y, f32x4.lt(x, f32x4.splat(X_NORMAL)));
  }
  // 2^n = 2^h · 2^(n−h) with h = n >> 1: both factors stay normal floats.
  const ni = i32x4.sub(t, f32x4.splat(ROUNDER));
  const h = i32x4.shr_s(ni, 1);
  const pow2h = i32x4.shl(i32x4.add(h, i32x4.splat(127)), 23);
  const pow2rest = i32x4.shl(i32x4.add(i32x4.sub(ni, h), i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(er, pow2h), pow2rest);
}

// 2^f ≈ 1 + f·(C1 + f·(C2 + …)) on [-1/2, 1/2] (Chebyshev interpolation, relative error 2e-8 before rounding).
const C1: f32 = 6.9314718246e-1;
const C2: f32 = 2.4022650719e-1;
const C3: f32 = 5.5503271520e-2;
const C4: f32 = 9.6180569381e-3;
const C5: f32 = 1.3400427997e-3;
const C6: f32 = 1.5461444855e-4;
// Below 2^-126 (the smallest normal f32) results are 0.
const X2_NORMAL: f32 = -126.0;

/**
 * 2^x per lane, flushing: for the fused softmax, which takes e^(s − max) as 2^((s − max)·log2(e)).
 * The reduction x = n + f is exact, so it is a few operations cheaper than e^x.
 * Results below 2^floor (2^-126 unless a higher floor, at most 0, is given) are 0; x must be ≤ 127. NaN stays NaN,
 * -Infinity gives 0.
 */
@inline export function exp2_flush_f32x4(x: v128, floor: f32 = X2_NORMAL): v128 {
  // No clamp: lanes below the floor (-Infinity too, whose f is NaN) are set to 0 at the end, whatever 2^n became.
  const t = f32x4.add(x, f32x4.splat(ROUNDER));
  const f = f32x4.sub(x, f32x4.sub(t, f32x4.splat(ROUNDER)));
  // The polynomial by Estrin's scheme: half the dependent steps of Horner's, so more lanes are in flight.
  const f2 = f32x4.mul(f, f);
  const lo = madd(f32x4.splat(C1), f, f32x4.splat(1.0));
  const mid = madd(f32x4.splat(C3), f, f32x4.splat(C2));
  const hi = madd(f32x4.splat(C6), f2, madd(f32x4.splat(C5), f, f32x4.splat(C4)));
  const p = madd(madd(hi, f2, mid), f2, lo);
  const y = f32x4.mul(p, i32x4.add(i32x4.shl(t, 23), i32x4.splat(127 << 23)));
  return v128.andnot(y, f32x4.lt(x, f32x4.splat(floor)));
}

/** e^x of one float, through the vector path so scalar tails round exactly like vector lanes. */
@inline export function exp_f32(x: f32, flush: bool = false): f32 {
  return f32x4.extract_lane(exp_f32x4(f32x4.splat(x), flush), 0);
}

/** One of the two exponentials, by a compile-time choice. */
@inline function expOf(v: v128, base2: bool): v128 {
  return base2 ? exp2_flush_f32x4(v) : exp_f32x4(v);
}

/** y[i] = e^x[i] (or 2^x[i], flushing, with base2) for i < n; the scalar tail through the vector path. */
@inline function mapExp(n: i32, x: usize, y: usize, base2: bool): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), expOf(v128.load(x + (<usize>i << 2)), base2));
  for (; i < n; i++) store<f32>(
    y + (<usize>i << 2), f32x4.extract_lane(expOf(f32x4.splat(load<f32>(x + (<usize>i << 2))), base2), 0),
  );
}

/**
 * y[i] = e^x[i] for i < n, full range. x and y are byte pointers to f32 (any alignment; may alias).
 * Exported for tests and the exp benchmark; softmax inlines exp_f32x4 itself.
 */
export function f32_exp(n: i32, x: usize, y: usize): void {
  mapExp(n, x, y, false);
}

/** y[i] = 2^x[i], flushing below 2^-126, for i < n: the fused attention's exponential, exported for its tests. */
export function f32_exp2_flush(n: i32, x: usize, y: usize): void {
  mapExp(n, x, y, true);
}
