// Scaled dot-product attention that materialises the weights: S = Q·Kᵀ, P = softmax(S·scale + mask), O = P·V.
import { AttentionDesc, unitsPerItem } from "./descriptor";
import { dot1, dots4 } from "./dots";
import { f32_gemm, f32_gemm_pack_a, f32_gemm_scratch_floats, gemm } from "./gemm";
import { softmaxRows } from "./softmax";
import { maskElementBytes } from "./mask";
import { accumulatePV, P_FLOOR } from "./flash";

/**
 * O = W·V takes weights under 2^P_FLOOR as 0 (W itself keeps them), as the fused path takes its probabilities: a
 * subnormal product costs some x86 cores a slow path, and those keys weigh under 2^P_FLOOR of their row.
 */
const W_FLOOR: f32 = reinterpret<f32>((127 + <i32>P_FLOOR) << 23);

/**
 * Floats of scratch one f32_attention_weights call needs for units of unitRows rows: its two products' GEMM scratch.
 */
export function f32_attention_weights_scratch_floats(unitRows: f64, lk: f64, dk: f64, dv: f64): f64 {
  return max(f32_gemm_scratch_floats(unitRows, lk, dk), f32_gemm_scratch_floats(unitRows, dv, lk));
}

/** One query's scores against lk keys read in place (rows of K kRow bytes apart), into w. */
function scoresOfOneRow(w: usize, q: usize, k: usize, kRow: usize, dk: i32, lk: i32): void {
  let j = 0;
  for (; j + 4 <= lk; j += 4) v128.store(w + (<usize>j << 2), dots4(q, k + <usize>j * kRow, kRow, dk));
  for (; j < lk; j++) store<f32>(w + (<usize>j << 2), dot1(q, k + <usize>j * kRow, dk));
}

/**
 * For work units [begin, end) of the pass at `desc` (an AttentionDesc): W = softmax(Q·Kᵀ·scale + mask,
 * causal), O = W·V, W stored at desc.w (row stride lk; batch stride strideW). A single query (a decode step) reads K
 * and V in place: packing them would move more memory than its products do.
 * scratch: f32_attention_weights_scratch_floats(unitRows, lk, dk, dv) floats, 16-byte aligned, this call's own.
 */
export function f32_attention_weights(desc: usize, begin: i32, end: i32, scratch: usize): void {
  const d = changetype<AttentionDesc>(desc);
  const lq = d.lq, lk = d.lk, dk = d.dk, dv = d.dv, unitRows = d.unitRows;
  const causalOffset = d.causal ? lk - lq : lk;
  const eb = maskElementBytes(d.maskKind);
  const eb2 = maskElementBytes(d.mask2Kind);
  const units = unitsPerItem(d);
  for (let u = begin; u < end; u++) {
    const b = u / units;
    const r0 = (u % units) * unitRows;
    const rows = min(lq, r0 + unitRows) - r0;
    const wi = d.w + ((<usize>b * d.strideW + <usize>r0 * lk) << 2);
    const qi = d.q + ((<usize>b * d.strideQ + <usize>r0 * d.ldq) << 2);
    const kb = d.k + ((<usize>b * d.strideK) << 2);
    if (lq == 1) scoresOfOneRow(wi, qi, kb, <usize>d.ldk << 2, dk, lk);
    else f32_gemm(1, rows, lk, dk, qi, d.ldq, 0, kb, d.ldk, 0, true, wi, lk, 0, 1.0, 0, scratch);
    softmaxRows(rows, lk, wi, lk, wi, lk, d.scale,
      d.maskKind, d.mask + (<usize>b * d.strideMask + <usize>r0 * d.maskLdr) * eb, d.maskLdr, d.maskLdc,
      d.mask2Kind, d.mask2 + (<usize>b * d.strideMask2 + <usize>r0 * d.mask2Ldr) * eb2, d.mask2Ldr, d.mask2Ldc,
      causalOffset + r0);
    const oi = d.o + ((<usize>b * d.strideO + <usize>r0 * d.ldo) << 2);
    const vb = d.v + ((<usize>b * d.strideV) << 2);
    if (lq == 1) {
      // W's row interleaved as the micro-kernel reads A (its floor applied), then O = W·V with V's rows in place.
      f32_gemm_pack_a(1, lk, wi, lk, scratch, W_FLOOR);
      memory.fill(oi, 0, <usize>dv << 2);
      accumulatePV(scratch, lk, vb, <usize>d.ldv << 2, dv, oi, 0, 1);
    } else gemm(1, rows, dv, lk, wi, lk, 0, vb, d.ldv, 0, false, oi, d.ldo, 0, 1.0, 0, scratch, W_FLOOR);
  }
}
