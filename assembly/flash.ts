// Fused tiled attention (online softmax): O = softmax(Q·Kᵀ·scale + mask)·V without an Lq × Lk buffer.
import { exp2_flush_f32x4, LOG2E } from "./exp";
import {
  EPILOGUE_NONE, EPILOGUE_SCALE_TRANSPOSE, f32_gemm_pack, floatBytes, f32_gemm_pack_a, f32_gemm_packed_a_floats,
  f32_gemm_packed_floats, microTileRows, MR, NR, panelBytes,
} from "./gemm";
import { AttentionDesc, unitsPerItem } from "./descriptor";
import { maskElementBytes, maskTerm, MASK_NONE } from "./mask";
import { dot1, dots4, dotsOfQueries } from "./dots";
import { madd } from "./simd";

/** Keys per block: a block's scores for MR queries are computed, then folded into O at once. */
const KEY_BLOCK = 64;
/**
 * A micro-block's scores in its slot of the tile's blocks, transposed as the micro-kernel stores them: one f32x4 per
 * key holding its MR queries, so the softmax runs lane-wise across keys (one vector of row maxima, no horizontal
 * reductions) and P·V reads each key's probabilities with compile-time offsets.
 */
const S_ROW: usize = KEY_BLOCK * 4;
const S_BYTES: usize = MR * KEY_BLOCK * 4;
/**
 * Probabilities under 2^P_FLOOR of the running max count as 0. WebAssembly keeps subnormal floats, and some x86 cores
 * take a slow path for each: a probability near 2^-126 times a value under 1 is one, so calls whose scores spread
 * past 87 in a row ran up to twice as slow on an Intel Xeon (bench/denormals.ts). From 2^-100 on, p·v stays normal
 * for |v| ≥ 2^-26, and a key dropped weighs under 2^-100 of the row's largest.
 */
export const P_FLOOR: f32 = -100.0;
/** Query rows per tile (a multiple of MR): the tile's micro-blocks share each key block while it is in cache. */
const Q_TILE = 64;
/** Bytes of a micro-block's running state: its max and sum vectors, and the max of its scores in the key block. */
const STATE_BLOCK: usize = 48;
/** Bytes of a tile's running state. */
const STATE_BYTES: usize = <usize>(Q_TILE / MR) * STATE_BLOCK;

/** The running state of the micro-block at row i0 − t0 of its tile. */
@inline function stateOf(state: usize, row: i32): usize {
  return state + <usize>(row / MR) * STATE_BLOCK;
}

/** Micro-blocks of a query tile for units of unitRows rows: one transposed score block each. */
@inline function tileBlocks(unitRows: f64): f64 {
  return min(Math.ceil(unitRows / MR), Q_TILE / MR);
}

/**
 * Query rows a call takes at once: consecutive units of one item run as one, in query tiles as long as a whole call's,
 * up to a tile's rows when the units are shorter (units of a few rows, cut for many threads, would each read every key
 * block for a few rows).
 */
@inline function runRows(unitRows: f64, lq: f64): f64 {
  return min(lq, max(unitRows, Q_TILE));
}

/**
 * Floats of scratch one f32_attention_fused call needs for units of unitRows of the lq query rows: K as 8-key panels,
 * a run of units' Q as MR-row micro-panels, a tile's blocks of scores, and a query tile's running maxima and sums.
 */
export function f32_attention_fused_scratch_floats(unitRows: f64, lk: f64, dk: f64, lq: f64): f64 {
  const rows = runRows(unitRows, lq);
  return f32_gemm_packed_floats(lk, dk) + f32_gemm_packed_a_floats(rows, dk) +
    tileBlocks(rows) * MR * KEY_BLOCK + STATE_BYTES / 4;
}

/** Keys of block j0 that rows [i0, i0 + mr) may see (0: none); keys past the last visible one are never read. */
@inline function blockKeys(i0: i32, mr: i32, causalOffset: i32, lk: i32, j0: i32): i32 {
  const kEnd = <i32>min(<i64>lk, max<i64>(0, <i64>i0 + mr - 1 + causalOffset + 1));
  return max(0, min(KEY_BLOCK, kEnd - j0));
}

/**
 * One query's scores·scale against kb keys read in place (kb rows of K from kRows, kRow bytes apart), into sT
 * as one splat per key. With a single query, packing K would cost more memory traffic than the products.
 */
function scoresOfOneQuery(sT: usize, qRow: usize, kRows: usize, kRow: usize, dk: i32, kb: i32, scaleV: v128): v128 {
  let blockMax = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 4 <= kb; j += 4) {
    const x = f32x4.mul(dots4(qRow, kRows + <usize>j * kRow, kRow, dk), scaleV);
    const to = sT + (<usize>j << 4);
    v128.store(to, v128.shuffle<f32>(x, x, 0, 0, 0, 0));
    v128.store(to, v128.shuffle<f32>(x, x, 1, 1, 1, 1), 16);
    v128.store(to, v128.shuffle<f32>(x, x, 2, 2, 2, 2), 32);
    v128.store(to, v128.shuffle<f32>(x, x, 3, 3, 3, 3), 48);
    blockMax = f32x4.pmax(blockMax, x);
  }
  // Every lane the block's max so far (pmax never takes a NaN score, in any order).
  blockMax = f32x4.pmax(blockMax, v128.shuffle<f32>(blockMax, blockMax, 2, 3, 0, 1));
  blockMax = f32x4.pmax(blockMax, v128.shuffle<f32>(blockMax, blockMax, 1, 0, 3, 2));
  for (; j < kb; j++) {
    const x = f32x4.mul(f32x4.splat(dot1(qRow, kRows + <usize>j * kRow, dk)), scaleV);
    v128.store(sT + (<usize>j << 4), x);
    blockMax = f32x4.pmax(blockMax, x);
  }
  return blockMax;
}

/**
 * scoresOfOneQuery for 2 to MR queries (rows qRow bytes apart from q0), each key's row loaded once for them all;
 * lanes past `rows` repeat the last query's scores (finite, never stored).
 */
function scoresOfFewQueries(
  sT: usize, q0: usize, qRow: usize, rows: i32, kRows: usize, kRow: usize, dk: i32, kb: i32, scaleV: v128,
): v128 {
  // Lanes past the last query repeat it: only this micro-block's rows are read.
  const q1 = q0 + qRow;
  const q2 = q0 + <usize>min(2, rows - 1) * qRow;
  const q3 = q0 + <usize>(rows - 1) * qRow;
  let blockMax = f32x4.splat(-Infinity);
  for (let j = 0; j < kb; j++) {
    const x = f32x4.mul(dotsOfQueries(q0, q1, q2, q3, kRows + <usize>j * kRow, dk), scaleV);
    v128.store(sT + (<usize>j << 4), x);
    blockMax = f32x4.pmax(blockMax, x);
  }
  return blockMax;
}

/** The mask terms of one key for the block's four query rows (row addresses r0…r3, key offset off). */
@inline function maskColumn(kind: i32, r0: usize, r1: usize, r2: usize, r3: usize, off: usize): v128 {
  const t = f32x4.splat(maskTerm(kind, r0 + off));
  return f32x4.replace_lane(
    f32x4.replace_lane(f32x4.replace_lane(t, 1, maskTerm(kind, r1 + off)), 2, maskTerm(kind, r2 + off)), 3,
    maskTerm(kind, r3 + off),
  );
}

/** Multiplies output row r (of `rows` rows at o, dv floats each) by lane r of s. */
function scaleRows(o: usize, oRow: usize, rows: i32, dv: i32, s: v128): void {
  for (let r = 0; r < rows; r++) {
    const row = o + <usize>r * oRow;
    const f = f32x4.extract_lane(s, 0);
    const sv = f32x4.splat(f);
    let c = 0;
    for (; c + 4 <= dv; c += 4) v128.store(row + (<usize>c << 2), f32x4.mul(v128.load(row + (<usize>c << 2)), sv));
    for (; c < dv; c++) store<f32>(row + (<usize>c << 2), load<f32>(row + (<usize>c << 2)) * f);
    s = v128.shuffle<f32>(s, s, 1, 2, 3, 0);
  }
}

/**
 * O (`rows` rows from o, row stride oRow bytes, dv floats each) += P·V for one key block: P is sT (kb keys,
 * MR interleaved queries), V its kb rows at v (row stride vRow bytes). The micro-kernel with V used in place,
 * eight output columns at a time; a lane-wise tail for dv % 8.
 */
@inline export function accumulatePV(
  sT: usize, kb: i32, v: usize, vRow: usize, dv: i32, o: usize, oRow: usize, rows: i32,
): void {
  const zero = f32x4.splat(0);
  let c = 0;
  for (; c + NR <= dv; c += NR) {
    microTileRows(
      sT, v + (<usize>c << 2), vRow, kb, true, EPILOGUE_NONE, zero, zero, zero, o + (<usize>c << 2), oRow, rows,
    );
  }
  for (; c < dv; c++) {
    const cb = <usize>c << 2;
    let acc = f32x4.splat(0);
    let vp = v + cb;
    for (let j = 0; j < kb; j++) {
      acc = madd(v128.load(sT + (<usize>j << 4)), v128.load32_splat(vp), acc);
      vp += vRow;
    }
    for (let r = 0; r < rows; r++) {
      const at = o + <usize>r * oRow + cb;
      store<f32>(at, load<f32>(at) + f32x4.extract_lane(acc, 0));
      acc = v128.shuffle<f32>(acc, acc, 1, 2, 3, 0);
    }
  }
}

/*
 * Key block j0 is folded into the running softmax of a query tile's micro-blocks of MR rows (rows [t0, tEnd) of
 * the unit that starts at row rowBegin) in three passes over the micro-blocks, each a function of its own: scores,
 * softmax, P·V. V8 compiles a wasm function with its baseline compiler first and optimises it only between calls,
 * so the first long call of the kernel runs optimised code once these, the hot parts, have been called often
 * enough; and three functions of a third of the size are optimised sooner than one (Chromium's V8 took 58 ms
 * for the single one, 11–28 ms for each of these: bench/compile-times.ts). A micro-block's transposed scores, then
 * probabilities, are its slot of pTile (S_BYTES at (i0 − t0) · S_ROW); every micro-block sees the same keys in the
 * same order as in one pass.
 */

/**
 * Scores·scale of key block j0 for each micro-block: from Q's micro-panels at packedQ and K's panels at packedK,
 * or Q's rows at qb and K's rows at kB for a few queries read in place; transposed into the micro-block's slot, their
 * max (taken while they are in registers) into its state.
 */
function scoreKeyBlock(
  d: AttentionDesc, pTile: usize, state: usize, packedQ: usize, packedK: usize, qb: usize, kB: usize,
  rowBegin: i32, t0: i32, tEnd: i32, j0: i32,
): void {
  const lk = d.lk, dk = d.dk;
  const causalOffset = d.causal ? lk - d.lq : lk;
  const kRow = <usize>d.ldk << 2;
  const kBytes = <usize>dk << 2;
  const stride = panelBytes(dk);
  const scaleV = f32x4.splat(d.scale);
  const zero = f32x4.splat(0);
  const inPlace = readsInPlace(d);
  const qRow = <usize>d.ldq << 2;
  for (let i0 = t0; i0 < tEnd; i0 += MR) {
    const mr = min(MR, tEnd - i0);
    const kb = blockKeys(i0, mr, causalOffset, lk, j0);
    if (kb == 0) continue;
    const sT = pTile + <usize>(i0 - t0) * S_ROW;
    const st = stateOf(state, i0 - t0);
    if (inPlace) {
      const q = qb + <usize>i0 * qRow;
      const kAt = kB + <usize>j0 * kRow;
      v128.store(st, mr == 1
        ? scoresOfOneQuery(sT, q, kAt, kRow, dk, kb, scaleV)
        : scoresOfFewQueries(sT, q, qRow, mr, kAt, kRow, dk, kb, scaleV), 32);
      continue;
    }
    const qPanel = packedQ + <usize>(i0 - rowBegin) * kBytes;
    const kAt = packedK + <usize>(j0 / NR) * stride;
    // One row (grouped heads' decode step) or whole micro-blocks: past a unit's end, Q's micro-panels repeat its
    // last row, so those lanes hold that row's scores, finite and never stored.
    const rows = mr == 1 ? 1 : MR;
    let blockMax = f32x4.splat(-Infinity);
    for (let jp = 0; jp < kb; jp += NR) {
      const bp = kAt + <usize>(jp / NR) * stride + NR * 4;
      const m = microTileRows(
        qPanel, bp, NR * 4, dk, false, EPILOGUE_SCALE_TRANSPOSE, scaleV, zero, zero, sT + (<usize>jp << 4), 0, rows,
        false,
      );
      blockMax = f32x4.pmax(blockMax, m);
    }
    // Past kb (a block cut by lk or the causal limit) the last micro-tile's keys are not the block's: the softmax
    // then takes the max itself.
    v128.store(st, blockMax, 32);
  }
}

/**
 * The softmax of key block j0 for each micro-block: masks (at maskB, mask2B) and causal limit added to its
 * scores, the running max and sum (at state) updated, O's rows (from ob) rescaled where the max grew, and the
 * scores in its slot turned into probabilities.
 */
function softmaxKeyBlock(
  d: AttentionDesc, pTile: usize, ob: usize, maskB: usize, mask2B: usize, state: usize, t0: i32, tEnd: i32, j0: i32,
): void {
  const lk = d.lk, dv = d.dv, maskKind = d.maskKind, mask2Kind = d.mask2Kind;
  const causalOffset = d.causal ? lk - d.lq : lk;
  const oRow = <usize>d.ldo << 2;
  const eb = maskElementBytes(maskKind);
  const mStep = <usize>d.maskLdc * eb;
  const mRow = <usize>d.maskLdr * eb;
  const eb2 = maskElementBytes(mask2Kind);
  const m2Step = <usize>d.mask2Ldc * eb2;
  const m2Row = <usize>d.mask2Ldr * eb2;
  // Scores and masks stay as the weights path has them (s = q·k·scale + mask), so nothing finite overflows;
  // only s − max ≤ 0 is multiplied by log2(e), for 2^x.
  const log2e = f32x4.splat(LOG2E);
  const zero = f32x4.splat(0);
  const minusInf = f32x4.splat(-Infinity);
  for (let i0 = t0; i0 < tEnd; i0 += MR) {
    const mr = min(MR, tEnd - i0);
    const kb = blockKeys(i0, mr, causalOffset, lk, j0);
    if (kb == 0) continue;
    const sT = pTile + <usize>(i0 - t0) * S_ROW;
    const firstLimit = i0 + causalOffset;
    const o0 = ob + <usize>i0 * oRow;
    const m0 = maskB + <usize>i0 * mRow;
    const n0 = mask2B + <usize>i0 * m2Row;
    const st = stateOf(state, i0 - t0);
    // Lanes past the unit's rows stand in for its last row (same scores, mask and limit); only real rows are stored.
    const r1 = mr > 1 ? 1 : 0, r2 = mr > 2 ? 2 : r1, r3 = mr > 3 ? 3 : r2;
    const m1 = m0 + <usize>r1 * mRow, m2 = m0 + <usize>r2 * mRow, m3 = m0 + <usize>r3 * mRow;
    const n1 = n0 + <usize>r1 * m2Row, n2 = n0 + <usize>r2 * m2Row, n3 = n0 + <usize>r3 * m2Row;
    let rowMax = v128.load(st);
    let rowSum = v128.load(st, 16);
    // Key j is visible to lane r iff j ≤ limit[r].
    const limit = i32x4.add(
      i32x4.splat(firstLimit),
      i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(0), 1, r1), 2, r2), 3, r3),
    );
    // Mask, causal limit and block max, lane-wise. pmax skips NaN (one instruction where max is
    // several); a NaN score still spreads through e^(s − max).
    const needsLimit = j0 + kb - 1 > firstLimit;
    let blockMax = minusInf;
    if (maskKind == MASK_NONE && mask2Kind == MASK_NONE && !needsLimit) {
      // Nothing to add or hide: the scores stand as they are, and their max was taken with them, unless the block
      // ends inside a micro-tile (see scoreKeyBlock).
      if ((kb & (NR - 1)) == 0) blockMax = v128.load(st, 32);
      else for (let j = 0; j < kb; j++) blockMax = f32x4.pmax(blockMax, v128.load(sT + (<usize>j << 4)));
    } else {
      for (let j = 0; j < kb; j++) {
        const at = sT + (<usize>j << 4);
        let x = v128.load(at);
        if (maskKind != MASK_NONE) x = f32x4.add(
          x, maskColumn(maskKind, m0, m1, m2, m3, <usize>(j0 + j) * mStep),
        );
        if (mask2Kind != MASK_NONE) x = f32x4.add(
          x, maskColumn(mask2Kind, n0, n1, n2, n3, <usize>(j0 + j) * m2Step),
        );
        if (needsLimit) x = v128.bitselect(minusInf, x, i32x4.gt_s(i32x4.splat(j0 + j), limit));
        v128.store(at, x);
        blockMax = f32x4.pmax(blockMax, x);
      }
    }
    // Online softmax: new max per lane; a lane that has seen nothing keeps max -Infinity and uses 0 as
    // its reference so e^(s − ref) is 0, never NaN. max (not pmax) keeps a NaN row NaN.
    const newMax = f32x4.max(rowMax, blockMax);
    const ref = v128.bitselect(zero, newMax, f32x4.eq(newMax, minusInf));
    if (v128.any_true(f32x4.ne(newMax, rowMax))) {
      // Earlier terms shrink by e^(old − new): 0 where nothing was seen before.
      const alpha = exp2_flush_f32x4(f32x4.mul(f32x4.sub(rowMax, ref), log2e), P_FLOOR);
      rowSum = f32x4.mul(rowSum, alpha);
      scaleRows(o0, oRow, mr, dv, alpha);
      rowMax = newMax;
    }
    for (let j = 0; j < kb; j++) {
      const at = sT + (<usize>j << 4);
      const p = exp2_flush_f32x4(f32x4.mul(f32x4.sub(v128.load(at), ref), log2e), P_FLOOR);
      v128.store(at, p);
      rowSum = f32x4.add(rowSum, p);
    }
    v128.store(st, rowMax);
    v128.store(st, rowSum, 16);
  }
}

/** O's rows (from ob) += P·V of key block j0 for each micro-block: P from its slot, V's rows from vb. */
function accumulateKeyBlock(d: AttentionDesc, pTile: usize, vb: usize, ob: usize, t0: i32, tEnd: i32, j0: i32): void {
  const lk = d.lk, dv = d.dv;
  const causalOffset = d.causal ? lk - d.lq : lk;
  const oRow = <usize>d.ldo << 2;
  const vRow = <usize>d.ldv << 2;
  const vAt = vb + <usize>j0 * vRow;
  for (let i0 = t0; i0 < tEnd; i0 += MR) {
    const mr = min(MR, tEnd - i0);
    const kb = blockKeys(i0, mr, causalOffset, lk, j0);
    if (kb > 0) accumulatePV(pTile + <usize>(i0 - t0) * S_ROW, kb, vAt, vRow, dv, ob + <usize>i0 * oRow, oRow, mr);
  }
}

/**
 * Up to MR queries per item (a decode step, its grouped heads stacked as rows, a few new tokens) read Q and K in place
 * instead of packing them: packing K would move more memory than their products do. Unless every batch item shares
 * K (grouped-query heads as items), where one packing serves them all.
 */
@inline function readsInPlace(d: AttentionDesc): bool {
  return d.lq <= MR && (d.strideK != 0 || d.batch == 1);
}

/**
 * O = softmax(Q·Kᵀ·scale + mask, causal)·V for work units [begin, end) of the pass at `desc` (an
 * AttentionDesc), one pass over the keys per tile of Q_TILE queries with a running max and sum per query (online
 * softmax); no Lq × Lk buffer exists. Key blocks wholly hidden by the causal limit are skipped and never read.
 * A query with no visible key gets an output row of 0.
 * scratch: f32_attention_fused_scratch_floats(unitRows, lk, dk, lq) floats, 16-byte aligned, this call's own.
 */
export function f32_attention_fused(desc: usize, begin: i32, end: i32, scratch: usize): void {
  const d = changetype<AttentionDesc>(desc);
  const lq = d.lq, lk = d.lk, dk = d.dk, dv = d.dv, unitRows = d.unitRows;
  const q = d.q, k = d.k, v = d.v, o = d.o;
  const ldq = d.ldq, ldk = d.ldk, strideQ = d.strideQ, strideK = d.strideK, strideV = d.strideV, strideO = d.strideO;
  const causalOffset = d.causal ? lk - lq : lk;
  const eb = maskElementBytes(d.maskKind);
  const eb2 = maskElementBytes(d.mask2Kind);
  const oRow = <usize>d.ldo << 2;
  const kPanels = floatBytes(f32_gemm_packed_floats(lk, dk));
  const shared = d.packedK;
  let packedK = shared != 0 ? shared : scratch;
  const run = <i32>runRows(unitRows, lq);
  const packedQ = scratch + kPanels;
  const pTile = packedQ + floatBytes(f32_gemm_packed_a_floats(run, dk));
  const state = pTile + <usize>tileBlocks(run) * S_BYTES;
  const zero = f32x4.splat(0);
  const inPlace = readsInPlace(d);
  const units = unitsPerItem(d);
  // The item whose K is in packedK (-1: none yet).
  let packedItem = -1;
  for (let u = begin, next = begin; u < end; u = next) {
    const b = u / units;
    const rowBegin = (u % units) * unitRows;
    // The units after u of the same item join it while their rows fit in a run: rows do not depend on the tiling.
    let rowEnd = min(lq, rowBegin + unitRows);
    for (next = u + 1; next < end && next / units == b && min(lq, rowEnd + unitRows) - rowBegin <= run; next++) {
      rowEnd = min(lq, rowEnd + unitRows);
    }
    const ob = o + ((<usize>b * strideO) << 2);
    const vb = v + ((<usize>b * strideV) << 2);
    const maskB = d.mask + <usize>b * d.strideMask * eb;
    const mask2B = d.mask2 + <usize>b * d.strideMask2 * eb2;
    const qb = q + ((<usize>b * strideQ) << 2);
    const kB = k + ((<usize>b * strideK) << 2);
    if (!inPlace && shared != 0) packedK = shared + (strideK != 0 ? <usize>b * kPanels : 0);
    else if (!inPlace && (packedItem < 0 || (strideK != 0 && packedItem != b))) {
      f32_gemm_pack(lk, dk, kB, ldk, true, 0, packedK);
      packedItem = b;
    }
    if (!inPlace) f32_gemm_pack_a(rowEnd - rowBegin, dk, qb + ((<usize>rowBegin * ldq) << 2), ldq, packedQ);
    // Query tiles of Q_TILE rows: every key block is used by the tile's micro-blocks of MR rows in turn while it
    // is in cache, so K and V are read from memory once per tile, not once per MR rows. Each micro-block keeps
    // its running max and sum in `state` and sees the key blocks in the same order as alone: the results do
    // not depend on the tiling.
    for (let t0 = rowBegin; t0 < rowEnd; t0 += Q_TILE) {
      const tEnd = min(rowEnd, t0 + Q_TILE);
      for (let i0 = t0; i0 < tEnd; i0 += MR) {
        const mr = min(MR, tEnd - i0);
        for (let r = 0; r < mr; r++) memory.fill(ob + <usize>(i0 + r) * oRow, 0, <usize>dv << 2);
        const st = stateOf(state, i0 - t0);
        v128.store(st, f32x4.splat(-Infinity));
        v128.store(st, zero, 16);
      }
      // Keys past the last one any row of the tile may see are never read.
      const tileKEnd = <i32>min(<i64>lk, max<i64>(0, <i64>tEnd - 1 + causalOffset + 1));
      for (let j0 = 0; j0 < tileKEnd; j0 += KEY_BLOCK) {
        scoreKeyBlock(d, pTile, state, packedQ, packedK, qb, kB, rowBegin, t0, tEnd, j0);
        softmaxKeyBlock(d, pTile, ob, maskB, mask2B, state, t0, tEnd, j0);
        accumulateKeyBlock(d, pTile, vb, ob, t0, tEnd, j0);
      }
      // Normalise: O /= sum; a row that saw no key keeps O = 0 (a NaN sum keeps NaN).
      for (let i0 = t0; i0 < tEnd; i0 += MR) {
        const rowSum = v128.load(stateOf(state, i0 - t0), 16);
        const inv = v128.bitselect(zero, f32x4.div(f32x4.splat(1), rowSum), f32x4.eq(rowSum, zero));
        scaleRows(ob + <usize>i0 * oRow, oRow, min(MR, tEnd - i0), dv, inv);
      }
    }
  }
}
