// Fused tiled attention (online softmax): O = softmax(Q·Kᵀ·scale + mask)·V without an Lq × Lk buffer.
import { exp_f32x4 } from "./exp";
import { f32_gemm_pack, MR, NR, panelBytes, tile4x8 } from "./gemm";
import { maskElementBytes, maskTerm, maskTerms4 } from "./mask";
import { hmax, hsum, madd } from "./simd";
import { anyNaN } from "./softmax";

/** Keys per block: one block's scores (MR × KEY_BLOCK) are computed, then folded into O at once. */
const KEY_BLOCK = 32;
/** The block's scores, then its probabilities: MR rows of KEY_BLOCK floats. */
const S_TILE: usize = memory.data(MR * KEY_BLOCK * 4, 16);
const S_ROW: usize = KEY_BLOCK * 4;

/** Running max and running sum of e^(s − max) per query row of the block. */
const ROW_MAX: usize = memory.data(MR * 4, 16);
const ROW_SUM: usize = memory.data(MR * 4, 16);

/**
 * Folds one key block into the running state of query row r: turns its scores (row r of S_TILE, kb a
 * multiple of 4) into probabilities against the new running max, and rescales the row's O and sum when the
 * max rises. Keys j ≥ visible are hidden.
 */
@inline function scoreRow(
  r: i32, kb: i32, visible: i32, scaleV: v128,
  maskKind: i32, maskRow: usize, mStep: usize, maskLdc: i32,
  oRow: usize, dv: i32,
): void {
  const s = S_TILE + <usize>r * S_ROW;
  // First pass: s = s·scale + mask, -Infinity past the visible keys; block max.
  let maxV = f32x4.splat(-Infinity);
  for (let j = 0; j < kb; j += 4) {
    let x = f32x4.add(f32x4.mul(v128.load(s + (<usize>j << 2)), scaleV), maskTerms4(maskKind, maskRow + <usize>j * mStep, maskLdc));
    if (j + 4 > visible) {
      // Lanes j + l ≥ visible are hidden (causal limit, or past the last key).
      const lane = i32x4.add(i32x4.splat(j), i32x4(0, 1, 2, 3));
      x = v128.bitselect(f32x4.splat(-Infinity), x, i32x4.ge_s(lane, i32x4.splat(visible)));
    }
    v128.store(s + (<usize>j << 2), x);
    // pmax skips NaN (one instruction, where max is several); a NaN still spreads through e^(s − max).
    maxV = f32x4.pmax(maxV, x);
  }
  const old = load<f32>(ROW_MAX + (<usize>r << 2));
  const blockMax = hmax(maxV);
  const newMax = max(old, blockMax);
  if (newMax == -Infinity) {
    // Nothing visible yet: every probability of this block is 0; a NaN score makes the whole row NaN.
    if (anyNaN(s, visible)) {
      store<f32>(ROW_MAX + (<usize>r << 2), NaN);
      store<f32>(ROW_SUM + (<usize>r << 2), NaN);
    }
    memory.fill(s, 0, <usize>kb << 2);
    return;
  }
  if (newMax != old) {
    // The max rose: earlier terms shrink by e^(old − new) (0 when old was -Infinity).
    const alpha = exp_f32x4(f32x4.splat(old - newMax), true);
    store<f32>(ROW_SUM + (<usize>r << 2), load<f32>(ROW_SUM + (<usize>r << 2)) * f32x4.extract_lane(alpha, 0));
    let c = 0;
    for (; c + 4 <= dv; c += 4) v128.store(oRow + (<usize>c << 2), f32x4.mul(v128.load(oRow + (<usize>c << 2)), alpha));
    for (; c < dv; c++) store<f32>(oRow + (<usize>c << 2), load<f32>(oRow + (<usize>c << 2)) * f32x4.extract_lane(alpha, 0));
    store<f32>(ROW_MAX + (<usize>r << 2), newMax);
  }
  // Second pass: p = e^(s − max) ≤ 1; block sum.
  const m = f32x4.splat(newMax);
  let sumV = f32x4.splat(0);
  for (let j = 0; j < kb; j += 4) {
    const p = exp_f32x4(f32x4.sub(v128.load(s + (<usize>j << 2)), m), true);
    v128.store(s + (<usize>j << 2), p);
    sumV = f32x4.add(sumV, p);
  }
  store<f32>(ROW_SUM + (<usize>r << 2), load<f32>(ROW_SUM + (<usize>r << 2)) + hsum(sumV));
}

/**
 * O rows o0..o3 (dv floats each) += P rows p0..p3 (kb floats each) · V rows v .. v + kb (row stride vRow
 * bytes). Eight output columns at a time in registers, k = the block's keys; a scalar tail for dv % 8.
 */
@inline function accumulatePV(
  kb: i32, v: usize, vRow: usize, dv: i32,
  p0: usize, p1: usize, p2: usize, p3: usize, o0: usize, o1: usize, o2: usize, o3: usize,
): void {
  let c = 0;
  for (; c + 8 <= dv; c += 8) {
    const cb = <usize>c << 2;
    let c00 = v128.load(o0 + cb), c01 = v128.load(o0 + cb, 16);
    let c10 = v128.load(o1 + cb), c11 = v128.load(o1 + cb, 16);
    let c20 = v128.load(o2 + cb), c21 = v128.load(o2 + cb, 16);
    let c30 = v128.load(o3 + cb), c31 = v128.load(o3 + cb, 16);
    let vp = v + cb;
    for (let j: usize = 0; j < (<usize>kb << 2); j += 4) {
      const b0 = v128.load(vp);
      const b1 = v128.load(vp, 16);
      let p = v128.load32_splat(p0 + j);
      c00 = madd(p, b0, c00); c01 = madd(p, b1, c01);
      p = v128.load32_splat(p1 + j);
      c10 = madd(p, b0, c10); c11 = madd(p, b1, c11);
      p = v128.load32_splat(p2 + j);
      c20 = madd(p, b0, c20); c21 = madd(p, b1, c21);
      p = v128.load32_splat(p3 + j);
      c30 = madd(p, b0, c30); c31 = madd(p, b1, c31);
      vp += vRow;
    }
    // A row past lq shares its pointers with the last real row and holds the same values.
    v128.store(o3 + cb, c30); v128.store(o3 + cb, c31, 16);
    v128.store(o2 + cb, c20); v128.store(o2 + cb, c21, 16);
    v128.store(o1 + cb, c10); v128.store(o1 + cb, c11, 16);
    v128.store(o0 + cb, c00); v128.store(o0 + cb, c01, 16);
  }
  for (; c < dv; c++) {
    const cb = <usize>c << 2;
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (let j = 0; j < kb; j++) {
      const x = load<f32>(v + <usize>j * vRow + cb);
      s0 += load<f32>(p0 + (<usize>j << 2)) * x;
      s1 += load<f32>(p1 + (<usize>j << 2)) * x;
      s2 += load<f32>(p2 + (<usize>j << 2)) * x;
      s3 += load<f32>(p3 + (<usize>j << 2)) * x;
    }
    // Load every row before storing any: rows past lq alias the last real one.
    const n0 = load<f32>(o0 + cb) + s0, n1 = load<f32>(o1 + cb) + s1;
    const n2 = load<f32>(o2 + cb) + s2, n3 = load<f32>(o3 + cb) + s3;
    store<f32>(o3 + cb, n3); store<f32>(o2 + cb, n2); store<f32>(o1 + cb, n1); store<f32>(o0 + cb, n0);
  }
}

/**
 * For each of `batch` items: O = softmax(Q·Kᵀ·scale + mask, causal)·V, one pass over the keys per block of
 * MR queries with a running max and sum per query (online softmax); no Lq × Lk buffer exists.
 * Shapes, pointers, strides, mask and causal as in f32_attention_weights. Key blocks wholly hidden by the
 * causal limit are skipped. A query with no visible key gets an output row of 0.
 * packed: scratch of f32_gemm_packed_floats(lk, dk) floats (K packed as 8-key panels), 16-byte aligned.
 */
export function f32_attention_fused(
  batch: i32, lq: i32, lk: i32, dk: i32, dv: i32,
  q: usize, ldq: i32, strideQ: i32,
  k: usize, ldk: i32, strideK: i32,
  v: usize, ldv: i32, strideV: i32,
  o: usize, ldo: i32, strideO: i32,
  scale: f32,
  maskKind: i32, mask: usize, maskLdr: i32, maskLdc: i32, strideMask: i32,
  causal: bool, packed: usize,
): void {
  const causalOffset = causal ? lk - lq : lk;
  const eb = maskElementBytes(maskKind);
  const mStep = <usize>maskLdc * eb;
  const qRow = <usize>ldq << 2;
  const oRow = <usize>ldo << 2;
  const vRow = <usize>ldv << 2;
  const kBytes = <usize>dk << 2;
  const stride = panelBytes(dk);
  const scaleV = f32x4.splat(scale);
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  for (let b = 0; b < batch; b++) {
    const qb = q + ((<usize>b * strideQ) << 2);
    const ob = o + ((<usize>b * strideO) << 2);
    const vb = v + ((<usize>b * strideV) << 2);
    const maskB = mask + <usize>b * strideMask * eb;
    if (b == 0 || strideK != 0) f32_gemm_pack(lk, dk, k + ((<usize>b * strideK) << 2), ldk, true, 0, packed);
    for (let i0 = 0; i0 < lq; i0 += MR) {
      const mr = min(MR, lq - i0);
      // Rows past lq repeat the last real row's pointers, so every load stays in bounds.
      const r1 = mr > 1 ? 1 : 0, r2 = mr > 2 ? 2 : r1, r3 = mr > 3 ? 3 : r2;
      const q0 = qb + <usize>i0 * qRow;
      const o0 = ob + <usize>i0 * oRow;
      const o1 = o0 + <usize>r1 * oRow, o2 = o0 + <usize>r2 * oRow, o3 = o0 + <usize>r3 * oRow;
      for (let r = 0; r < mr; r++) memory.fill(o0 + <usize>r * oRow, 0, <usize>dv << 2);
      v128.store(ROW_MAX, f32x4.splat(-Infinity));
      v128.store(ROW_SUM, zero);
      // Keys past the last one any row of the block may see are never touched.
      const kEnd = <i32>min(<i64>lk, max<i64>(0, <i64>i0 + mr + causalOffset));
      for (let j0 = 0; j0 < kEnd; j0 += KEY_BLOCK) {
        const kb = min(KEY_BLOCK, kEnd - j0);
        // Scores of the block: MR × kb from the packed K panels (padding lanes score 0, then hidden).
        for (let jp = 0; jp < kb; jp += NR) {
          tile4x8(q0, q0 + <usize>r1 * qRow, q0 + <usize>r2 * qRow, q0 + <usize>r3 * qRow, kBytes,
            packed + <usize>((j0 + jp) / NR) * stride + NR * 4, one, zero, zero, S_TILE + (<usize>jp << 2), S_ROW, MR);
        }
        const kbRound = (kb + 3) & ~3;
        for (let r = 0; r < mr; r++) {
          const i = i0 + r;
          const visible = <i32>min(<i64>kb, <i64>i + causalOffset + 1 - j0);
          const maskRow = maskB + <usize>i * maskLdr * eb + <usize>j0 * mStep;
          scoreRow(r, kbRound, visible, scaleV, maskKind, maskRow, mStep, maskLdc, o0 + <usize>r * oRow, dv);
        }
        // Rows past lq reuse the last real row's probabilities and output row.
        accumulatePV(kb, vb + <usize>j0 * vRow, vRow, dv,
          S_TILE, S_TILE + <usize>r1 * S_ROW, S_TILE + <usize>r2 * S_ROW, S_TILE + <usize>r3 * S_ROW, o0, o1, o2, o3);
      }
      // Normalise: O /= sum; a row that saw no key keeps O = 0 (a NaN sum keeps NaN).
      for (let r = 0; r < mr; r++) {
        const sum = load<f32>(ROW_SUM + (<usize>r << 2));
        const inv = f32x4.splat(sum == 0 ? <f32>0.0 : <f32>1.0 / sum);
        const or = o0 + <usize>r * oRow;
        let c = 0;
        for (; c + 4 <= dv; c += 4) v128.store(or + (<usize>c << 2), f32x4.mul(v128.load(or + (<usize>c << 2)), inv));
        for (; c < dv; c++) store<f32>(or + (<usize>c << 2), load<f32>(or + (<usize>c << 2)) * f32x4.extract_lane(inv, 0));
      }
    }
  }
}
