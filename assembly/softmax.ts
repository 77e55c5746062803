// Row softmax over the last axis with the score scale, masks and causal limit fused into the row loop.
import { exp_f32, exp_f32x4 } from "./exp";
import { hmax, hsum } from "./simd";
import { MASK_NONE, maskElementBytes, maskTerm, maskTerms4 } from "./mask";

/**
 * One row: y[j] = softmax_j(x[j]·scale + mask[j] + mask2[j]) over j < visible; y[j] = 0 for visible ≤ j < n.
 * A row with nothing visible (all -Infinity) becomes all 0, not NaN. NaN scores make the row NaN.
 * x and y are byte pointers to f32 and may be equal; maskRow / mask2Row are the byte addresses of this row's
 * elements of each mask.
 */
export function softmaxRow(
  n: i32, visible: i32, x: usize, y: usize, scale: f32,
  maskKind: i32, maskRow: usize, maskLdc: i32,
  mask2Kind: i32, mask2Row: usize, mask2Ldc: i32,
): void {
  const scaleV = f32x4.splat(scale);
  const mStep = <usize>maskLdc * maskElementBytes(maskKind);
  const m2Step = <usize>mask2Ldc * maskElementBytes(mask2Kind);
  // First pass: s = x·scale + mask, stored in y; running max. pmax skips NaN scores (one instruction, where
  // max is several); a NaN still turns its row to NaN through e^(s − max).
  let maxV = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 4 <= visible; j += 4) {
    let s = f32x4.add(
      f32x4.mul(v128.load(x + (<usize>j << 2)), scaleV), maskTerms4(maskKind, maskRow + <usize>j * mStep, maskLdc),
    );
    if (mask2Kind != MASK_NONE) s = f32x4.add(s, maskTerms4(mask2Kind, mask2Row + <usize>j * m2Step, mask2Ldc));
    v128.store(y + (<usize>j << 2), s);
    maxV = f32x4.pmax(maxV, s);
  }
  let rowMax = hmax(maxV);
  for (; j < visible; j++) {
    const s = load<f32>(x + (<usize>j << 2)) * scale + maskTerm(
      maskKind, maskRow + <usize>j * mStep,
    ) + maskTerm(mask2Kind, mask2Row + <usize>j * m2Step);
    store<f32>(y + (<usize>j << 2), s);
    rowMax = max(rowMax, s);
  }
  if (rowMax == -Infinity) {
    // Nothing to attend to: the row is 0 (PyTorch ≥ 2.5 safe softmax), unless a score is NaN.
    fillHiddenRow(y, n, anyNaN(y, visible) ? NaN : 0);
    return;
  }
  // Second pass: y = exp(s - max), which is ≤ 1 since s ≤ max; running sum.
  const maxS = f32x4.splat(rowMax);
  let sumV = f32x4.splat(0);
  j = 0;
  for (; j + 4 <= visible; j += 4) {
    const e = exp_f32x4(f32x4.sub(v128.load(y + (<usize>j << 2)), maxS), true);
    v128.store(y + (<usize>j << 2), e);
    sumV = f32x4.add(sumV, e);
  }
  let sum = hsum(sumV);
  for (; j < visible; j++) {
    const e = exp_f32(load<f32>(y + (<usize>j << 2)) - rowMax, true);
    store<f32>(y + (<usize>j << 2), e);
    sum += e;
  }
  // Third pass: normalise; keys past the causal limit get exactly 0.
  const inv = f32x4.splat(1.0 / sum);
  j = 0;
  for (; j + 4 <= visible; j += 4) v128.store(y + (<usize>j << 2), f32x4.mul(v128.load(y + (<usize>j << 2)), inv));
  const invS: f32 = 1.0 / sum;
  for (; j < visible; j++) store<f32>(y + (<usize>j << 2), load<f32>(y + (<usize>j << 2)) * invS);
  if (visible < n) memory.fill(y + (<usize>visible << 2), 0, <usize>(n - visible) << 2);
}

/** Whether any of the n floats at p is NaN. */
export function anyNaN(p: usize, n: i32): bool {
  for (let j = 0; j < n; j++) {
    const v = load<f32>(p + (<usize>j << 2));
    if (v != v) return true;
  }
  return false;
}

function fillHiddenRow(y: usize, n: i32, value: f32): void {
  for (let j = 0; j < n; j++) store<f32>(y + (<usize>j << 2), value);
}

/** Keys visible to row i under a causal limit: key j is visible iff j ≤ i + causalOffset. */
@inline export function visibleKeys(i: i32, n: i32, causalOffset: i32): i32 {
  return <i32>min(max<i64>(<i64>i + causalOffset + 1, 0), n);
}

/** The rows loop of f32_softmax_rows with a second mask (the attention kernels' key-padding mask). */
export function softmaxRows(
  rows: i32, n: i32, x: usize, ldx: i32, y: usize, ldy: i32, scale: f32,
  maskKind: i32, mask: usize, maskLdr: i32, maskLdc: i32,
  mask2Kind: i32, mask2: usize, mask2Ldr: i32, mask2Ldc: i32,
  causalOffset: i32,
): void {
  const eb = maskElementBytes(maskKind);
  const eb2 = maskElementBytes(mask2Kind);
  for (let i = 0; i < rows; i++) {
    softmaxRow(
      n, visibleKeys(i, n, causalOffset),
      x + ((<usize>i * ldx) << 2), y + ((<usize>i * ldy) << 2), scale,
      maskKind, mask + <usize>i * maskLdr * eb, maskLdc,
      mask2Kind, mask2 + <usize>i * mask2Ldr * eb2, mask2Ldc,
    );
  }
}

/**
 * y[i, :] = softmax(x[i, :]·scale + mask[i, :]) for rows × n, key j of row i hidden when j > i + causalOffset
 * (pass causalOffset ≥ n for no causal limit). x, y: byte pointers to f32 with row strides ldx, ldy in
 * elements; y may equal x. mask: byte pointer (f32 for MASK_ADD, u8 for MASK_KEEP / MASK_HIDE, ignored for
 * MASK_NONE) with row stride maskLdr and column stride maskLdc (0 or 1) in elements.
 */
export function f32_softmax_rows(
  rows: i32, n: i32, x: usize, ldx: i32, y: usize, ldy: i32, scale: f32,
  maskKind: i32, mask: usize, maskLdr: i32, maskLdc: i32, causalOffset: i32,
): void {
  softmaxRows(rows, n, x, ldx, y, ldy, scale, maskKind, mask, maskLdr, maskLdc, MASK_NONE, 0, 0, 0, causalOffset);
}
