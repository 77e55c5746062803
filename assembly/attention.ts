// Scaled dot-product attention that materialises the weights: S = Q·Kᵀ, P = softmax(S·scale + mask), O = P·V.
import { f32_gemm, f32_gemm_scratch_floats } from "./gemm";
import { softmaxRows } from "./softmax";
import { maskElementBytes } from "./mask";

/** Floats of scratch f32_attention_weights needs: the larger of its two products' GEMM scratch. */
export function f32_attention_weights_scratch_floats(lq: f64, lk: f64, dk: f64, dv: f64): f64 {
  return max(f32_gemm_scratch_floats(lq, lk, dk), f32_gemm_scratch_floats(lq, dv, lk));
}

/**
 * For each of `batch` items: W = softmax(Q·Kᵀ·scale + mask, causal), O = W·V.
 * Q: lq × dk (row stride ldq), K: lk × dk (ldk), V: lk × dv (ldv), O: lq × dv (ldo), W: lq × lk (row stride lk).
 * Batch strides (strideQ …, in elements) may be 0 to reuse one matrix; strideW = 0 reuses one W buffer when
 * the caller does not keep the weights. Two masks, each a kind (assembly/mask.ts) and byte pointer as in
 * f32_softmax_rows with its own row, column and batch strides (kind MASK_NONE for none), are both added to
 * the scaled scores. causal: key j hidden from query i when j > i + (lk − lq).
 * scratch: f32_attention_weights_scratch_floats(lq, lk, dk, dv) floats, 16-byte aligned.
 */
export function f32_attention_weights(
  batch: i32, lq: i32, lk: i32, dk: i32, dv: i32,
  q: usize, ldq: i32, strideQ: i32,
  k: usize, ldk: i32, strideK: i32,
  v: usize, ldv: i32, strideV: i32,
  o: usize, ldo: i32, strideO: i32,
  w: usize, strideW: i32,
  scale: f32,
  maskKind: i32, mask: usize, maskLdr: i32, maskLdc: i32, strideMask: i32,
  mask2Kind: i32, mask2: usize, mask2Ldr: i32, mask2Ldc: i32, strideMask2: i32,
  causal: bool, scratch: usize,
): void {
  const causalOffset = causal ? lk - lq : lk;
  const eb = maskElementBytes(maskKind);
  const eb2 = maskElementBytes(mask2Kind);
  for (let i = 0; i < batch; i++) {
    const wi = w + ((<usize>i * strideW) << 2);
    f32_gemm(1, lq, lk, dk, q + ((<usize>i * strideQ) << 2), ldq, 0, k + ((<usize>i * strideK) << 2), ldk, 0, true, wi, lk, 0, 1.0, 0, scratch);
    softmaxRows(lq, lk, wi, lk, wi, lk, scale,
      maskKind, mask + <usize>i * strideMask * eb, maskLdr, maskLdc,
      mask2Kind, mask2 + <usize>i * strideMask2 * eb2, mask2Ldr, mask2Ldc, causalOffset);
    f32_gemm(1, lq, dv, lk, wi, lk, 0, v + ((<usize>i * strideV) << 2), ldv, 0, false, o + ((<usize>i * strideO) << 2), ldo, 0, 1.0, 0, scratch);
  }
}
