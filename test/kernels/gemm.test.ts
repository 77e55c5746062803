// f32_gemm against the float64 reference over the edge table, with strides, alpha, bias and batches.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Engine, matmul } from '../../src/index.js';
import { runtimeOf } from '../../src/runtime/engine.js';
import { refMatmul } from '../../src/reference.js';
import { absData, EDGE_SIZES, expectClose, F32_EPS, initBuild, randomTensor } from '../helpers.js';

let engine: Engine;
beforeAll(async () => {
  engine = await initBuild();
});

/** Float32 dot products of length k err by at most about k·ε·Σ|a||b|: the bound each entry is held to. */
function expectGemmClose(
  label: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  absProd: ArrayLike<number>,
  k: number,
): void {
  expectClose(label, got, want, 0, (k + 2) * F32_EPS, absProd);
}

describe('f32_gemm edge table (m, n, k over the edge sizes)', () => {
  for (const transposeB of [false, true]) {
    for (const m of EDGE_SIZES) {
      it(`m = ${m}, every n × k, ${transposeB ? 'A·Bᵀ' : 'A·B'}`, () => {
        for (const n of EDGE_SIZES) {
          for (const k of EDGE_SIZES) {
            const a = randomTensor(m * 1000 + n * 10 + k, [m, k]);
            const b = randomTensor(k * 1000 + m * 10 + n, transposeB ? [n, k] : [k, n]);
            const got = matmul(a, b, { transposeB });
            expect(got.shape).toEqual([m, n]);
            const want = refMatmul(a, b, transposeB);
            const bound = refMatmul(absData(a), absData(b), transposeB);
            expectGemmClose(`${m}x${n}x${k}`, got.data, want.data, bound.data, k);
          }
        }
      });
    }
  }
});

describe('f32_gemm raw ABI', () => {
  /** Runs the kernel on padded matrices; returns C with its padding so writes outside m × n show up. */
  function runPadded(opts: {
    batch: number;
    m: number;
    n: number;
    k: number;
    lda: number;
    ldb: number;
    ldc: number;
    bT: boolean;
    alpha: number;
    bias: boolean;
    shareB: boolean;
    seed: number;
  }) {
    const { batch, m, n, k, lda, ldb, ldc, bT, alpha } = opts;
    const aSize = m * lda;
    const bSize = (bT ? n : k) * ldb;
    const cSize = m * ldc;
    const a = randomTensor(opts.seed, [batch * aSize]).data;
    const b = randomTensor(opts.seed + 1, [(opts.shareB ? 1 : batch) * bSize]).data;
    const bias = randomTensor(opts.seed + 2, [n]).data;
    const sentinel = 12345.5;
    const { heap } = runtimeOf(engine);
    const kern = runtimeOf(engine).kernels;
    return heap.scoped(
      [a.length * 4, b.length * 4, batch * cSize * 4, n * 4, kern.f32_gemm_scratch_floats(m, n, k) * 4],
      ([pa, pb, pc, pbias, scratch]) => {
        heap.write(pa, { data: a });
        heap.write(pb, { data: b });
        heap.write(pc, { data: new Float32Array(batch * cSize).fill(sentinel) });
        heap.write(pbias, { data: bias });
        kern.f32_gemm(
          batch,
          m,
          n,
          k,
          pa,
          lda,
          aSize,
          pb,
          ldb,
          opts.shareB ? 0 : bSize,
          bT,
          pc,
          ldc,
          cSize,
          alpha,
          opts.bias ? pbias : 0,
          scratch,
        );
        const c = heap.readF32(pc, batch * cSize);
        for (let t = 0; t < batch; t++) {
          const bt = opts.shareB ? 0 : t;
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < ldc; j++) {
              const got = c[t * cSize + i * ldc + j];
              if (j >= n) {
                expect(got, `padding C[${t}][${i}][${j}] was written`).toBe(sentinel);
                continue;
              }
              let s = 0;
              let abs = 0;
              for (let p = 0; p < k; p++) {
                const x = a[t * aSize + i * lda + p];
                const y = b[bt * bSize + (bT ? j * ldb + p : p * ldb + j)];
                s += x * y;
                abs += Math.abs(x * y);
              }
              const want = alpha * s + (opts.bias ? bias[j] : 0);
              const tol = (k + 3) * F32_EPS * (Math.abs(alpha) * abs + (opts.bias ? Math.abs(bias[j]) : 0));
              if (!(Math.abs(got - want) <= tol))
                expect.fail(`C[${t}][${i}][${j}] = ${got}, expected ${want} ± ${tol}`);
            }
          }
        }
      },
    );
  }

  const shapes = [
    [1, 1, 1],
    [3, 5, 7],
    [4, 8, 16],
    [5, 9, 17],
    [13, 31, 64],
    [64, 64, 64],
    [65, 17, 3],
  ] as const;
  for (const [m, n, k] of shapes) {
    for (const bT of [false, true]) {
      it(`${m}×${n}×${k}${bT ? ' Bᵀ' : ''}: row strides, alpha, bias, batch of 3`, () => {
        runPadded({
          batch: 3,
          m,
          n,
          k,
          lda: k + 3,
          ldb: (bT ? k : n) + 5,
          ldc: n + 2,
          bT,
          alpha: 0.37,
          bias: true,
          shareB: false,
          seed: m + n + k,
        });
      });
      it(`${m}×${n}×${k}${bT ? ' Bᵀ' : ''}: one B shared by the batch (stride 0), no bias`, () => {
        runPadded({
          batch: 2,
          m,
          n,
          k,
          lda: k,
          ldb: bT ? k : n,
          ldc: n + 1,
          bT,
          alpha: 1,
          bias: false,
          shareB: true,
          seed: 7 * m + n,
        });
      });
    }
  }

  it('k = 0 gives the bias alone', () => {
    runPadded({
      batch: 1,
      m: 3,
      n: 10,
      k: 0,
      lda: 1,
      ldb: 10,
      ldc: 10,
      bT: false,
      alpha: 1,
      bias: true,
      shareB: false,
      seed: 3,
    });
  });
});

describe('f32_gemm numerics', () => {
  it('propagates NaN and Infinity to the entries they touch only', () => {
    const a = randomTensor(1, [4, 3]);
    const b = randomTensor(2, [3, 5]);
    a.data[1 * 3 + 2] = NaN; // row 1
    b.data[0 * 5 + 3] = Infinity; // column 3
    const c = matmul(a, b);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 5; j++) {
        const v = c.data[i * 5 + j];
        if (i === 1) expect(v).toBeNaN();
        else if (j === 3) expect(Math.abs(v)).toBe(Infinity);
        else expect(Number.isFinite(v)).toBe(true);
      }
    }
  });
});
