// Where each kernel that writes memory writes, as runs of bytes: what the replicas of the workers' pool
// (src/runtime/threads/replica-pool.ts) send one another after sharing a job, back to the engine once a call is done,
// and what they are sent when the engine's own calls have written its memory; and the operands a kernel reads. A kernel
// missing here fails loudly (the pool then sends all of memory), never silently.
import { JOB, packUnits, PANEL_COLUMNS, prepackedBlocks } from './thread-jobs.js';

/** Byte runs, flat: [pointer, bytes, pointer, bytes, …]. */
export type Runs = number[];

/** `rows` rows of `cols` floats, `ld` floats apart, at byte pointer `at`: one run if they are back to back. */
function rect(out: Runs, at: number, rows: number, cols: number, ld: number): void {
  if (rows <= 0 || cols <= 0) return;
  if (cols === ld || rows === 1) return void out.push(at, ((rows - 1) * ld + cols) * 4);
  for (let r = 0; r < rows; r++) out.push(at + r * ld * 4, cols * 4);
}

/** Each of `batch` items' rows [r0, r1) of C, columns [c0, c1) (rows ldc floats apart, items strideC apart). */
function gemmRows(
  out: Runs,
  batch: number,
  r0: number,
  r1: number,
  c1: number,
  c: number,
  ldc: number,
  strideC: number,
  c0 = 0,
): void {
  for (let b = 0; b < (strideC ? batch : 1); b++)
    rect(out, c + (b * strideC + r0 * ldc + c0) * 4, r1 - r0, c1 - c0, ldc);
}

/**
 * An attention pass's units [begin, end): each unit's rows of O and, on the weights path, of W. `d` holds the
 * AttentionDesc's fields (assembly/descriptor.ts).
 */
function attentionUnits(out: Runs, d: Int32Array, begin: number, end: number, weights: boolean): void {
  const [, lq, lk, , dv, unitRows] = d;
  const [o, ldo, strideO, w, strideW] = [d[15] >>> 0, d[16], d[17], d[18] >>> 0, d[19]];
  const perItem = Math.ceil(lq / unitRows);
  for (let u = begin; u < end; u++) {
    const item = Math.floor(u / perItem);
    const r0 = (u % perItem) * unitRows;
    const rows = Math.min(unitRows, lq - r0);
    rect(out, o + (item * strideO + r0 * ldo) * 4, rows, dv, ldo);
    if (weights) rect(out, w + (item * strideW + r0 * lk) * 4, rows, lk, lk);
  }
}

/**
 * Where a kernel call writes. `desc` reads an AttentionDesc's fields at a pointer; `packedFloats` is
 * f32_gemm_packed_floats.
 */
export function kernelWrites(
  out: Runs,
  name: string,
  a: readonly number[],
  desc: (ptr: number) => Int32Array,
  packedFloats: (n: number, k: number) => number,
): void {
  const p = (i: number) => a[i] >>> 0;
  switch (name) {
    case 'f32_attention_fused':
    case 'f32_attention_weights':
      return attentionUnits(out, desc(p(0)), a[1], a[2], name === 'f32_attention_weights');
    case 'f32_gemm_prepacked': // batch, m, n, k, a, lda, strideA, packed, c, ldc, strideC, alpha, scratch
      return gemmRows(out, a[0], 0, a[1], a[2], p(8), a[9], a[10]);
    case 'f32_gemm': // batch, m, n, k, a, lda, strideA, b, ldb, strideB, bTransposed, c, ldc, strideC, alpha, bias, scratch
      return gemmRows(out, a[0], 0, a[1], a[2], p(11), a[12], a[13]);
    case 'f32_gemm_pack': // n, k, b, ldb, bTransposed, bias, packed
      return void out.push(p(6), packedFloats(a[0], a[1]) * 4);
    case 'f32_mean_blocks': // batch, count, n, src, dst
      return void out.push(p(4), a[0] * a[2] * 4);
    case 'f32_softmax_rows': // rows, n, x, ldx, y, ldy, …
      return rect(out, p(4), a[0], a[1], a[5]);
    case 'f32_append_rows': // items, heads, t, hd, src, dst, maxLength, at
      for (let b = 0; b < a[0] * a[1]; b++) rect(out, p(5) + (b * a[6] + a[7]) * a[3] * 4, a[2], a[3], a[3]);
      return;
    case 'warm_up': // only in a block of its own, released when it returns: nothing for anyone to read
      return;
  }
  throw new Error(`where ${name} writes is not known`);
}

/** Where units [begin, end) of a job ([kind, total, chunk, scratch, stride, threads, ...args]) write. */
export function jobWrites(
  out: Runs,
  job: readonly number[],
  begin: number,
  end: number,
  desc: (ptr: number) => Int32Array,
): void {
  const [kind, , , , , , ...a] = job;
  switch (kind) {
    case JOB.attentionFused:
    case JOB.attentionWeights:
      return attentionUnits(out, desc(a[0] >>> 0), begin, end, kind === JOB.attentionWeights);
    case JOB.gemmPrepacked:
      for (const [r0, r1, c0, c1] of prepackedBlocks((i) => a[i], begin, end))
        gemmRows(out, a[0], r0, r1, c1, a[8] >>> 0, a[9], a[10], c0);
      return;
    case JOB.pack: {
      const [j0, j1, panel] = packUnits((i) => a[i], begin, end);
      if (j1 > j0) out.push((a[6] >>> 0) + (j0 / PANEL_COLUMNS) * panel, Math.ceil((j1 - j0) / PANEL_COLUMNS) * panel);
      return;
    }
    case JOB.gemm: // batch, m, n, k, a, lda, strideA, b, ldb, strideB, bTransposed, c, ldc, strideC, bias, unitRows
      return gemmRows(out, a[0], begin * a[15], Math.min(a[1], end * a[15]), a[2], a[11] >>> 0, a[12], a[13]);
  }
  throw new Error(`where job ${kind} writes is not known`);
}

/**
 * The byte ranges [start, end) of the operands a kernel call reads that a resident block may hold: attention's K and
 * V, a GEMM's A and B (a cache's rows, a module's weights). Unknown kernels read everything.
 */
export function kernelReads(
  name: string,
  a: readonly number[],
  desc: (ptr: number) => Int32Array,
): Array<[number, number]> {
  const span = (
    at: number,
    items: number,
    stride: number,
    rows: number,
    cols: number,
    ld: number,
  ): [number, number] => [at, at + ((items - 1) * stride + (rows - 1) * ld + cols) * 4];
  switch (name) {
    case 'f32_attention_fused':
    case 'f32_attention_weights': {
      const d = desc(a[0] >>> 0);
      const [count, , lk, dk, dv] = d;
      return [span(d[9] >>> 0, count, d[11], lk, dk, d[10]), span(d[12] >>> 0, count, d[14], lk, dv, d[13])];
    }
    case 'f32_gemm_prepacked': // batch, m, n, k, a, lda, strideA, …
    case 'f32_gemm': // …, b, ldb, strideB, bTransposed
      return name === 'f32_gemm'
        ? [
            span(a[4] >>> 0, a[0], a[6], a[1], a[3], a[5]),
            span(a[7] >>> 0, a[0], a[9], a[10] ? a[2] : a[3], a[10] ? a[3] : a[2], a[8]),
          ]
        : [span(a[4] >>> 0, a[0], a[6], a[1], a[3], a[5])];
    case 'f32_gemm_pack': // n, k, b, ldb, bTransposed
      return [span(a[2] >>> 0, 1, 0, a[4] ? a[0] : a[1], a[4] ? a[1] : a[0], a[3])];
    case 'f32_mean_blocks': // batch, count, n, src
      return [[a[3] >>> 0, (a[3] >>> 0) + a[0] * a[1] * a[2] * 4]];
    case 'f32_softmax_rows': // rows, n, x, ldx
      return [span(a[2] >>> 0, 1, 0, a[0], a[1], a[3])];
    case 'f32_append_rows': // items, heads, t, hd, src
      return [[a[4] >>> 0, (a[4] >>> 0) + a[0] * a[1] * a[2] * a[3] * 4]];
  }
  return [[0, 2 ** 32]];
}
