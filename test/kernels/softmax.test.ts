// f32_softmax_rows, f32_exp and f32_exp2_flush against float64: sizes, scale, both mask kinds and their broadcasts,
// causal limits.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/index.js';
import { runtimeOf } from '../../src/runtime/engine.js';
import { MaskKind } from '../../src/runtime/kernels.js';
import { mulberry32 } from '../../src/modules/random.js';
import { refSoftmax } from '../../src/reference.js';
import { EDGE_SIZES, expectClose, initBuild, randomTensor } from '../helpers.js';

let engine: Engine;
beforeAll(async () => {
  engine = await initBuild();
});

interface MaskCase {
  kind: number;
  ldr: number; // 0 = one mask row for every score row
  ldc: number; // 0 = one mask value for the whole row
}

/** Runs the kernel on rows × n scores (row stride n + 3) and returns the n-wide rows. */
function runSoftmax(
  rows: number,
  n: number,
  x: Float32Array,
  scale: number,
  mask: MaskCase,
  maskData: Float32Array | Uint8Array,
  causalOffset: number,
): Float32Array {
  const { heap } = runtimeOf(engine);
  const ld = n + 3;
  const padded = new Float32Array(rows * ld);
  for (let i = 0; i < rows; i++) padded.set(x.subarray(i * n, (i + 1) * n), i * ld);
  return heap.scoped([padded.length * 4, padded.length * 4, Math.max(maskData.byteLength, 4)], ([px, py, pm]) => {
    heap.write(px, { data: padded });
    heap.write(pm, { data: maskData });
    runtimeOf(engine).kernels.f32_softmax_rows(
      rows,
      n,
      px,
      ld,
      py,
      ld,
      scale,
      mask.kind,
      pm,
      mask.ldr,
      mask.ldc,
      causalOffset,
    );
    const y = heap.readF32(py, padded.length);
    const out = new Float32Array(rows * n);
    for (let i = 0; i < rows; i++) out.set(y.subarray(i * ld, i * ld + n), i * n);
    return out;
  });
}

/** The same semantics in float64, starting from the float32 scaled score the kernel also starts from. */
function expectedSoftmax(
  rows: number,
  n: number,
  x: Float32Array,
  scale: number,
  mask: MaskCase,
  maskData: Float32Array | Uint8Array,
  causalOffset: number,
): Float64Array {
  const s = new Float64Array(rows * n);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < n; j++) {
      let v = Math.fround(x[i * n + j] * scale);
      const m = maskData[i * mask.ldr + j * mask.ldc];
      if (mask.kind === MaskKind.add) v += m;
      if (mask.kind === MaskKind.keep && m === 0) v = -Infinity;
      if (j > i + causalOffset) v = -Infinity;
      s[i * n + j] = v;
    }
  }
  return refSoftmax({ data: s, shape: [rows, n] }).data;
}

const ROW_COUNTS = [1, 2, 5];
const MASKS: Array<[string, MaskCase]> = [
  ['no mask', { kind: MaskKind.none, ldr: 0, ldc: 0 }],
  ['additive mask per row', { kind: MaskKind.add, ldr: -1, ldc: 1 }],
  ['additive mask row broadcast', { kind: MaskKind.add, ldr: 0, ldc: 1 }],
  ['additive mask key broadcast', { kind: MaskKind.add, ldr: 1, ldc: 0 }],
  ['keep mask per row', { kind: MaskKind.keep, ldr: -1, ldc: 1 }],
  ['keep mask row broadcast', { kind: MaskKind.keep, ldr: 0, ldc: 1 }],
];

describe('f32_softmax_rows edge table', () => {
  for (const [label, maskShape] of MASKS) {
    it(`${label}: every n, rows 1/2/5, scales, causal offsets`, () => {
      for (const n of EDGE_SIZES) {
        for (const rows of ROW_COUNTS) {
          const mask = { ...maskShape, ldr: maskShape.ldr === -1 ? n : maskShape.ldr };
          const rand = mulberry32(n * 31 + rows);
          const maskLen = rows * n;
          const maskData =
            mask.kind === MaskKind.keep
              ? Uint8Array.from({ length: maskLen }, () => (rand() < 0.7 ? 1 : 0))
              : Float32Array.from({ length: maskLen }, () => (rand() < 0.2 ? -Infinity : rand() * 4 - 2));
          const x = randomTensor(n * 7 + rows, [rows, n], 3).data;
          for (const scale of [1, 0.125]) {
            for (const causalOffset of [n, 0, -1, 2 - rows]) {
              const got = runSoftmax(rows, n, x, scale, mask, maskData, causalOffset);
              const want = expectedSoftmax(rows, n, x, scale, mask, maskData, causalOffset);
              expectClose(`n=${n} rows=${rows} scale=${scale} causal=${causalOffset}`, got, want, 1e-8, 3e-6);
            }
          }
        }
      }
    });
  }

  it('a row with every key hidden is all 0, never NaN', () => {
    const n = 9;
    const maskData = new Float32Array(2 * n).fill(-Infinity);
    maskData.fill(0, n, n + 4);
    const got = runSoftmax(2, n, randomTensor(1, [2, n]).data, 1, { kind: MaskKind.add, ldr: n, ldc: 1 }, maskData, n);
    expect(Array.from(got.subarray(0, n))).toEqual(new Array(n).fill(0));
    expect(got.subarray(n).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    const causal = runSoftmax(
      3,
      5,
      randomTensor(2, [3, 5]).data,
      1,
      { kind: MaskKind.none, ldr: 0, ldc: 0 },
      new Float32Array(1),
      -1,
    );
    expect(Array.from(causal.subarray(0, 5))).toEqual([0, 0, 0, 0, 0]);
    expect(causal[5]).toBe(1);
  });

  it('a NaN score makes its row NaN and leaves the other rows alone', () => {
    const x = randomTensor(3, [3, 6]).data;
    x[6 + 4] = NaN;
    const got = runSoftmax(3, 6, x, 1, { kind: MaskKind.none, ldr: 0, ldc: 0 }, new Float32Array(1), 6);
    for (let j = 0; j < 6; j++) {
      expect(got[6 + j]).toBeNaN();
      expect(Number.isFinite(got[j]) && Number.isFinite(got[12 + j])).toBe(true);
    }
  });

  it('a NaN score among hidden ones still makes its row NaN (PyTorch: softmax([NaN, -inf]) is NaN)', () => {
    const n = 6;
    const x = randomTensor(4, [2, n]).data;
    x[2] = NaN;
    const mask = new Float32Array(2 * n).fill(-Infinity);
    mask[2] = 0; // row 0 sees only the NaN
    mask.fill(0, n, 2 * n);
    const got = runSoftmax(2, n, x, 1, { kind: MaskKind.add, ldr: n, ldc: 1 }, mask, n);
    for (let j = 0; j < n; j++) expect(got[j]).toBeNaN();
    expect(got.subarray(n).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('stays exact for scores of magnitude 1e4 and beyond', () => {
    const x = Float32Array.from([1e4, 1e4 - 1, -1e4, 3e38, 3e38 - 1e32, -3e38, 0, 1e-30]);
    const rows = 1;
    const got = runSoftmax(rows, 8, x, 1, { kind: MaskKind.none, ldr: 0, ldc: 0 }, new Float32Array(1), 8);
    const want = expectedSoftmax(rows, 8, x, 1, { kind: MaskKind.none, ldr: 0, ldc: 0 }, new Float32Array(1), 8);
    expectClose('large', got, want, 1e-8, 3e-6);
  });
});

function runExp(x: Float32Array, kernel: 'f32_exp' | 'f32_exp2_flush' = 'f32_exp'): Float32Array {
  const { heap } = runtimeOf(engine);
  return heap.scoped([x.length * 4, x.length * 4], ([px, py]) => {
    heap.write(px, { data: x });
    runtimeOf(engine).kernels[kernel](x.length, px, py);
    return heap.readF32(py, x.length);
  });
}

/**
 * The kernel's largest relative error against `exact` at 2^20 + 3 points spread over [lo, hi] (not a multiple
 * of 4, so the scalar tail runs too), printed.
 */
function worstRelativeError(
  kernel: 'f32_exp' | 'f32_exp2_flush',
  lo: number,
  hi: number,
  exact: (x: number) => number,
): number {
  const count = (1 << 20) + 3;
  const x = Float32Array.from({ length: count }, (_, i) => lo + ((hi - lo) * i) / (count - 1));
  const y = runExp(x, kernel);
  let worst = 0;
  for (let i = 0; i < count; i++) worst = Math.max(worst, Math.abs(y[i] - exact(x[i])) / exact(x[i]));
  console.log(`${kernel} max relative error over [${lo}, ${hi}]: ${worst.toExponential(3)}`);
  return worst;
}

describe('f32_exp', () => {
  it('is within 2e-7 relative of Math.exp over the normal range, in vector lanes and scalar tail alike', () => {
    expect(worstRelativeError('f32_exp', -87.3, 88.7, Math.exp)).toBeLessThanOrEqual(2e-7);
  });

  it('handles the edges: ±Infinity, NaN, underflow to 0, overflow to Infinity, ±0', () => {
    const x = Float32Array.from([-Infinity, Infinity, NaN, -88, -100, -1e30, 89, 1e30, 0, -0, 88.5]);
    const y = runExp(x);
    expect(y[0]).toBe(0);
    expect(y[1]).toBe(Infinity);
    expect(y[2]).toBeNaN();
    expect(Math.abs(y[3] - Math.exp(-88)) / Math.exp(-88)).toBeLessThan(1e-5); // subnormal: fewer bits
    expect(Math.abs(y[4] - Math.exp(-100))).toBeLessThanOrEqual(2 ** -149); // deep subnormal: within one unit
    expect(y[5]).toBe(0);
    expect(y[6]).toBe(Infinity);
    expect(y[7]).toBe(Infinity);
    expect(y[8]).toBe(1);
    expect(y[9]).toBe(1);
    expect(Math.abs(y[10] - Math.exp(88.5)) / Math.exp(88.5)).toBeLessThan(2e-7);
  });
});

describe("f32_exp2_flush (the fused attention's exponential)", () => {
  it('is within 2e-7 relative of 2^x over the normal range, in vector lanes and scalar tail alike', () => {
    expect(worstRelativeError('f32_exp2_flush', -126, 0, (x) => 2 ** x)).toBeLessThanOrEqual(2e-7);
  });

  it('handles the edges: -Infinity and below 2^-126 give 0, NaN stays NaN, integers are exact', () => {
    const x = Float32Array.from([-Infinity, NaN, -126, -126.5, -1e30, 0, -0, -1, -3, 1, 10, -0.5]);
    const y = runExp(x, 'f32_exp2_flush');
    expect(y[0]).toBe(0);
    expect(y[1]).toBeNaN();
    expect(y[2]).toBe(2 ** -126);
    expect(Array.from(y.subarray(3, 11))).toEqual([0, 0, 1, 1, 0.5, 0.125, 2, 1024]);
    expect(Math.abs(y[11] - Math.SQRT1_2) / Math.SQRT1_2).toBeLessThan(2e-7);
  });
});
