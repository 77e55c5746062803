// f32 GEMM the BLIS way: op(B) packed into NR-wide panels, A into MR-row micro-panels, one register-blocked
// MR×NR micro-kernel that walks both with one pointer each and compile-time offsets.
import { madd, storeTransposed4 } from "./simd";

/** Micro-kernel tile: MR rows of A × NR columns of op(B) (4 × 2 f32x4 = 8 accumulators). */
export const MR = 4;
export const NR = 8;

/** What the micro-kernel does to its sums before storing them. */
export const EPILOGUE_NONE = 0;
/** Scaled, and stored transposed: NR vectors of MR lanes, one per column (the fused kernel's scores, key by key). */
export const EPILOGUE_SCALE_TRANSPOSE = 1;
export const EPILOGUE_SCALE_BIAS = 2;

/** Floats of a partial tile's staging area (a caller's scratch): partial tiles are stored there first. */
const TILE_FLOATS = MR * NR;

/** Bytes of one packed panel: NR bias floats, then k rows of NR floats. */
@inline export function panelBytes(k: i32): usize {
  return (<usize>(k + 1) * NR) << 2;
}

// Size helpers compute in f64: for any i32 sizes the count is exact (below 2^53), never a wrapped i32, so the
// wrapper can check it against the memory limit before anything is allocated.

/** Floats the packed buffer needs for op(B) of n columns and depth k. */
export function f32_gemm_packed_floats(n: f64, k: f64): f64 {
  return Math.ceil(n / NR) * (k + 1) * NR;
}

/** Floats the packed buffer needs for A of m rows and depth k. */
export function f32_gemm_packed_a_floats(m: f64, k: f64): f64 {
  return Math.ceil(m / MR) * MR * k;
}

/** Floats of scratch f32_gemm needs: op(B)'s panels, then A's micro-panels, then a tile. */
export function f32_gemm_scratch_floats(m: f64, n: f64, k: f64): f64 {
  return f32_gemm_packed_floats(n, k) + f32_gemm_prepacked_scratch_floats(m, k);
}

/** Floats of scratch f32_gemm_prepacked needs: A's micro-panels, then a tile. */
export function f32_gemm_prepacked_scratch_floats(m: f64, k: f64): f64 {
  return f32_gemm_packed_a_floats(m, k) + TILE_FLOATS;
}

/** Byte offset of a scratch part of `floats` floats (the caller allocated it, so it fits in usize). */
@inline export function floatBytes(floats: f64): usize {
  return <usize>floats << 2;
}

/** x with its lanes of magnitude under `floor` set to 0. */
@inline function kept(x: v128, floor: v128): v128 {
  return v128.andnot(x, f32x4.lt(f32x4.abs(x), floor));
}

/**
 * Packs A (m × k, row stride lda) into micro-panels of MR rows interleaved by k: panel i holds
 * A[i·MR + ii][kk] at [kk][ii]. Rows past m repeat the last row, so every panel is full. Entries of magnitude under
 * `floor` are packed as 0 (NaN and ±Infinity as they are).
 */
export function f32_gemm_pack_a(m: i32, k: i32, a: usize, lda: i32, packed: usize, floor: f32 = 0): void {
  const f = f32x4.splat(floor);
  let dst = packed;
  for (let i0 = 0; i0 < m; i0 += MR) {
    const last = m - 1;
    const r0 = a + ((<usize>i0 * lda) << 2);
    const r1 = a + ((<usize>min(i0 + 1, last) * lda) << 2);
    const r2 = a + ((<usize>min(i0 + 2, last) * lda) << 2);
    const r3 = a + ((<usize>min(i0 + 3, last) * lda) << 2);
    const kBytes = <usize>k << 2;
    let kk: usize = 0;
    // Four steps of k at a time: a 4×4 transpose of the rows' next four floats.
    for (; kk + 16 <= kBytes; kk += 16) {
      storeTransposed4(
        kept(v128.load(r0 + kk), f), kept(v128.load(r1 + kk), f), kept(v128.load(r2 + kk), f),
        kept(v128.load(r3 + kk), f),
        dst, MR * 4,
      );
      dst += 4 * MR * 4;
    }
    for (; kk < kBytes; kk += 4) {
      const x = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(r0 + kk)),
        1, load<f32>(r1 + kk)), 2, load<f32>(r2 + kk)), 3, load<f32>(r3 + kk));
      v128.store(dst, kept(x, f));
      dst += MR * 4;
    }
  }
}

/**
 * Packs op(B) (k × n) and bias into panels: panel p holds bias[p·NR + jj] then
 * op(B)[kk][p·NR + jj] at [1 + kk][jj]; columns past n are 0, so the micro-kernel never branches on n.
 * op(B) = B (k × n, row stride ldb) or, when bTransposed, Bᵀ with B stored n × k (row stride ldb).
 */
export function f32_gemm_pack(n: i32, k: i32, b: usize, ldb: i32, bTransposed: bool, bias: usize, packed: usize): void {
  const stride = panelBytes(k);
  for (let j0 = 0, p = packed; j0 < n; j0 += NR, p += stride) {
    const nr = min(NR, n - j0);
    for (let jj = 0; jj < NR; jj++) {
      store<f32>(p + (<usize>jj << 2), jj < nr && bias != 0 ? load<f32>(bias + (<usize>(j0 + jj) << 2)) : 0);
    }
    const rows = p + NR * 4;
    if (bTransposed && nr == NR) {
      // Eight rows of B become a panel four k-steps at a time: two 4×4 transposes per step of four.
      const src = b + ((<usize>j0 * ldb) << 2);
      const ldbBytes = <usize>ldb << 2;
      let kk = 0;
      for (; kk + 4 <= k; kk += 4) {
        const s = src + (<usize>kk << 2);
        const dst = rows + ((<usize>kk * NR) << 2);
        storeTransposed4(
          v128.load(s), v128.load(s + ldbBytes), v128.load(s + 2 * ldbBytes), v128.load(s + 3 * ldbBytes), dst, NR * 4,
        );
        const s4 = s + 4 * ldbBytes;
        storeTransposed4(
          v128.load(s4), v128.load(s4 + ldbBytes), v128.load(s4 + 2 * ldbBytes), v128.load(s4 + 3 * ldbBytes), dst + 16,
          NR * 4,
        );
      }
      for (; kk < k; kk++) {
        for (let jj = 0; jj < NR; jj++) store<f32>(
          rows + ((<usize>kk * NR + jj) << 2), load<f32>(src + <usize>jj * ldbBytes + (<usize>kk << 2)),
        );
      }
    } else if (bTransposed) {
      for (let jj = 0; jj < NR; jj++) {
        const src = b + ((<usize>(j0 + jj) * ldb) << 2);
        for (let kk = 0; kk < k; kk++) {
          store<f32>(rows + ((<usize>kk * NR + jj) << 2), jj < nr ? load<f32>(src + (<usize>kk << 2)) : 0);
        }
      }
    } else if (nr == NR) {
      for (let kk = 0; kk < k; kk++) {
        const src = b + ((<usize>kk * ldb + j0) << 2);
        const dst = rows + ((<usize>kk * NR) << 2);
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
      }
    } else {
      for (let kk = 0; kk < k; kk++) {
        const src = b + ((<usize>kk * ldb + j0) << 2);
        const dst = rows + ((<usize>kk * NR) << 2);
        for (let jj = 0; jj < NR; jj++) store<f32>(
          dst + (<usize>jj << 2), jj < nr ? load<f32>(src + (<usize>jj << 2)) : 0,
        );
      }
    }
  }
}

/**
 * The micro-kernel, for one MR×NR tile of C at dst (row stride dstRow bytes, `rows` ≤ MR rows kept):
 * C = alpha·(start + A·B) + bias over `steps` steps of k, where start is C's current value (accumulate) or 0.
 * Epilogue (a compile-time constant): EPILOGUE_NONE stores the sum, EPILOGUE_SCALE_BIAS multiplies by alpha and
 * adds bias0/bias1, EPILOGUE_SCALE_TRANSPOSE (rows = MR or 1) multiplies by alpha and stores column j's MR values
 * as one vector at dst + 16·j (dstRow unused; with one row, lanes 1 to 3 are 0) and returns their lane-wise max (the
 * other epilogues return a vector of no meaning).
 * A is an interleaved micro-panel at ap (MR floats per step); B gives NR floats per step at bp, advancing bStep
 * bytes (a packed panel, or rows of a matrix used in place). Both advance by one pointer with compile-time
 * offsets. Only the first `rows` rows of C are computed, read or written: call it with a constant `rows`
 * (through microTileRows) so the others cost nothing.
 */
@inline export function microTile(
  ap: usize, bp: usize, bStep: usize, steps: i32, accumulate: bool,
  epilogue: i32, alphaV: v128, bias0: v128, bias1: v128, dst: usize, dstRow: usize, rows: i32,
): v128 {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  if (accumulate) {
    c00 = v128.load(dst); c01 = v128.load(dst, 16);
    if (rows > 1) { c10 = v128.load(dst + dstRow); c11 = v128.load(dst + dstRow, 16); }
    if (rows > 2) { c20 = v128.load(dst + 2 * dstRow); c21 = v128.load(dst + 2 * dstRow, 16); }
    if (rows > 3) { c30 = v128.load(dst + 3 * dstRow); c31 = v128.load(dst + 3 * dstRow, 16); }
  }
  const aEnd = ap + (<usize>steps << 4);
  if (rows == 1) {
    // One row leaves accumulators free: odd steps go to c20/c21, so each column has two chains and a fused
    // madd's latency (longer than an add's) stops being the limit; the chains are summed below. (With two
    // rows the extra registers spill and it is slower.)
    const aPairs = ap + (<usize>(steps & ~1) << 4);
    while (ap < aPairs) {
      const av = v128.load32_splat(ap);
      const aw = v128.load32_splat(ap, MR * 4);
      c00 = madd(av, v128.load(bp), c00); c01 = madd(av, v128.load(bp, 16), c01);
      c20 = madd(aw, v128.load(bp + bStep), c20); c21 = madd(aw, v128.load(bp + bStep, 16), c21);
      ap += 2 * MR * 4;
      bp += 2 * bStep;
    }
  }
  while (ap < aEnd) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let av = v128.load32_splat(ap);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    if (rows > 1) {
      av = v128.load32_splat(ap, 4);
      c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    }
    if (rows > 2) {
      av = v128.load32_splat(ap, 8);
      c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
    }
    if (rows > 3) {
      av = v128.load32_splat(ap, 12);
      c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
    }
    ap += MR * 4;
    bp += bStep;
  }
  if (rows == 1) {
    c00 = f32x4.add(c00, c20); c01 = f32x4.add(c01, c21);
  }
  if (epilogue == EPILOGUE_SCALE_BIAS) {
    c00 = madd(c00, alphaV, bias0); c01 = madd(c01, alphaV, bias1);
    c10 = madd(c10, alphaV, bias0); c11 = madd(c11, alphaV, bias1);
    c20 = madd(c20, alphaV, bias0); c21 = madd(c21, alphaV, bias1);
    c30 = madd(c30, alphaV, bias0); c31 = madd(c31, alphaV, bias1);
  } else if (epilogue == EPILOGUE_SCALE_TRANSPOSE) {
    // Whole tiles and single rows only, so that the other partial tiles' copies carry none of this.
    if (rows != MR && rows != 1) unreachable();
    // In registers: the scores never make a round trip through memory to be transposed.
    c00 = f32x4.mul(c00, alphaV); c01 = f32x4.mul(c01, alphaV);
    if (rows == MR) {
      c10 = f32x4.mul(c10, alphaV); c11 = f32x4.mul(c11, alphaV);
      c20 = f32x4.mul(c20, alphaV); c21 = f32x4.mul(c21, alphaV);
      c30 = f32x4.mul(c30, alphaV); c31 = f32x4.mul(c31, alphaV);
    } else {
      // One row's lanes; the others 0 (c20 and c21 held its second chains).
      c10 = c11 = c20 = c21 = c30 = c31 = f32x4.splat(0);
    }
    const max0 = storeTransposed4(c00, c10, c20, c30, dst, 16);
    return f32x4.pmax(max0, storeTransposed4(c01, c11, c21, c31, dst + 64, 16));
  }
  v128.store(dst, c00); v128.store(dst, c01, 16);
  if (rows > 1) { v128.store(dst + dstRow, c10); v128.store(dst + dstRow, c11, 16); }
  if (rows > 2) { v128.store(dst + 2 * dstRow, c20); v128.store(dst + 2 * dstRow, c21, 16); }
  if (rows > 3) { v128.store(dst + 3 * dstRow, c30); v128.store(dst + 3 * dstRow, c31, 16); }
  return c00;
}

/**
 * microTile with `rows` (1 to MR) turned into a compile-time constant: full tiles inline, single rows too where
 * `singleInline` (a decode step's P·V, a one-row GEMM), the rarer partial tiles out of line (microTilePartial).
 */
@inline export function microTileRows(
  ap: usize, bp: usize, bStep: usize, steps: i32, accumulate: bool,
  epilogue: i32, alphaV: v128, bias0: v128, bias1: v128, dst: usize, dstRow: usize, rows: i32,
  singleInline: bool = true,
): v128 {
  if (rows >= MR) return microTile(ap, bp, bStep, steps, accumulate, epilogue, alphaV, bias0, bias1, dst, dstRow, MR);
  if (singleInline && rows == 1) {
    return microTile(ap, bp, bStep, steps, accumulate, epilogue, alphaV, bias0, bias1, dst, dstRow, 1);
  }
  return microTilePartial(ap, bp, bStep, steps, accumulate, epilogue, alphaV, bias0, bias1, dst, dstRow, rows);
}

/**
 * microTile for a partial tile of 1 to MR − 1 rows, out of line: V8's optimising compiler takes time in proportion
 * to a function's size, and the first calls of a kernel run in baseline code until it is done, so the hot loops
 * keep only the copies of the micro-kernel they need often.
 */
function microTilePartial(
  ap: usize, bp: usize, bStep: usize, steps: i32, accumulate: bool,
  epilogue: i32, alphaV: v128, bias0: v128, bias1: v128, dst: usize, dstRow: usize, rows: i32,
): v128 {
  if (rows == 3) return microTile(ap, bp, bStep, steps, accumulate, epilogue, alphaV, bias0, bias1, dst, dstRow, 3);
  if (rows == 2) return microTile(ap, bp, bStep, steps, accumulate, epilogue, alphaV, bias0, bias1, dst, dstRow, 2);
  return microTile(ap, bp, bStep, steps, accumulate, epilogue, alphaV, bias0, bias1, dst, dstRow, 1);
}

/**
 * C (m × n, row stride ldc) = alpha·A·op(B) + bias, with A packed by f32_gemm_pack_a and op(B), bias by
 * f32_gemm_pack; partial tiles go through `tile` (TILE_FLOATS floats, 16-byte aligned).
 */
function gemmPacked(
  m: i32, n: i32, k: i32, packedA: usize, packed: usize, c: usize, ldc: i32, alpha: f32, tile: usize,
): void {
  const stride = panelBytes(k);
  for (let j0 = 0, p = packed; j0 < n; j0 += NR, p += stride) {
    gemmColumns(m, min(NR, n - j0), k, packedA, p, c + (<usize>j0 << 2), ldc, alpha, tile);
  }
}

/**
 * Columns [j0, j0 + nr) of gemmPacked's C (from c) from one packed panel p of op(B). A function of its own, not
 * inlined: V8 optimises a wasm function only between its calls, so a long first GEMM runs optimised code once
 * this, its hot part, has been called often enough.
 */
function gemmColumns(
  m: i32, nr: i32, k: i32, packedA: usize, p: usize, c: usize, ldc: i32, alpha: f32, tile: usize,
): void {
  const alphaV = f32x4.splat(alpha);
  const cRow = <usize>ldc << 2;
  const aPanel = (<usize>k << 2) * MR;
  const full = nr == NR;
  const bias0 = v128.load(p);
  const bias1 = v128.load(p, 16);
  for (let i0 = 0, ap = packedA; i0 < m; i0 += MR, ap += aPanel) {
    const mr = min(MR, m - i0);
    // A full-width tile goes straight to C; a partial one goes through the staging tile.
    const cTile = c + <usize>i0 * cRow;
    microTileRows(
      ap, p + NR * 4, NR * 4, k, false, EPILOGUE_SCALE_BIAS, alphaV, bias0, bias1, full ? cTile : tile,
      full ? cRow : NR * 4, mr,
    );
    if (!full) {
      for (let ii = 0; ii < mr; ii++) {
        const dst = cTile + <usize>ii * cRow;
        const src = tile + ((<usize>ii * NR) << 2);
        for (let jj = 0; jj < nr; jj++) store<f32>(dst + (<usize>jj << 2), load<f32>(src + (<usize>jj << 2)));
      }
    }
  }
}

/**
 * Batched C = alpha·A·op(B) + bias.
 * For each of `batch` items: A is m × k (row stride lda), op(B) is k × n: B itself (k × n, row stride ldb)
 * or, when bTransposed, the transpose of B stored n × k (row stride ldb); C is m × n (row stride ldc).
 * Pointers are byte addresses of f32 (4-byte aligned); strides and batch strides are in elements.
 * A batch stride of 0 reuses the same matrix (B is then packed once). bias: n floats, or 0 for none.
 * scratch: f32_gemm_scratch_floats(m, n, k) floats, 16-byte aligned, this call's own. C must not overlap A or B.
 */
export function f32_gemm(
  batch: i32, m: i32, n: i32, k: i32,
  a: usize, lda: i32, strideA: i32,
  b: usize, ldb: i32, strideB: i32, bTransposed: bool,
  c: usize, ldc: i32, strideC: i32,
  alpha: f32, bias: usize, scratch: usize,
): void {
  gemm(batch, m, n, k, a, lda, strideA, b, ldb, strideB, bTransposed, c, ldc, strideC, alpha, bias, scratch, 0);
}

/** f32_gemm, with A's entries of magnitude under floorA taken as 0. */
export function gemm(
  batch: i32, m: i32, n: i32, k: i32,
  a: usize, lda: i32, strideA: i32,
  b: usize, ldb: i32, strideB: i32, bTransposed: bool,
  c: usize, ldc: i32, strideC: i32,
  alpha: f32, bias: usize, scratch: usize, floorA: f32,
): void {
  const packedA = scratch + floatBytes(f32_gemm_packed_floats(n, k));
  const tile = packedA + floatBytes(f32_gemm_packed_a_floats(m, k));
  for (let i = 0; i < batch; i++) {
    if (i == 0 || strideB != 0) f32_gemm_pack(n, k, b + ((<usize>i * strideB) << 2), ldb, bTransposed, bias, scratch);
    if (i == 0 || strideA != 0) f32_gemm_pack_a(m, k, a + ((<usize>i * strideA) << 2), lda, packedA, floorA);
    gemmPacked(m, n, k, packedA, scratch, c + ((<usize>i * strideC) << 2), ldc, alpha, tile);
  }
}

/**
 * Batched C = alpha·A·op(B) + bias with op(B) and bias packed once by f32_gemm_pack (resident weights).
 * Shapes, pointers and strides as in f32_gemm; scratch: f32_gemm_prepacked_scratch_floats(m, k) floats.
 */
export function f32_gemm_prepacked(
  batch: i32, m: i32, n: i32, k: i32,
  a: usize, lda: i32, strideA: i32,
  packed: usize,
  c: usize, ldc: i32, strideC: i32,
  alpha: f32, scratch: usize,
): void {
  const tile = scratch + floatBytes(f32_gemm_packed_a_floats(m, k));
  for (let i = 0; i < batch; i++) {
    if (i == 0 || strideA != 0) f32_gemm_pack_a(m, k, a + ((<usize>i * strideA) << 2), lda, scratch);
    gemmPacked(m, n, k, scratch, packed, c + ((<usize>i * strideC) << 2), ldc, alpha, tile);
  }
}
