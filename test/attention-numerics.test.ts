// NaN, Infinity and fully hidden rows through both attention paths (weights, and fused without weights).
import { beforeAll, describe, expect, it } from 'vitest';
import { scaledDotProductAttention, type Tensor } from '../src/index.js';
import { refAttention } from '../src/reference.js';
import { expectClose, initBuild, randomTensor, ATOL, RTOL } from './helpers.js';

beforeAll(initBuild);

const paths = [
  ['weights path', true],
  ['fused path', false],
] as const;

describe.each(paths)('%s', (_, returnWeights) => {
  // 70 keys: more than one key block of the fused kernel, so state carries across blocks.
  const [lq, lk, d] = [9, 70, 8];

  it('a NaN in q makes that query row NaN; other rows stay right', () => {
    const q = randomTensor(1, [lq, d]);
    const k = randomTensor(2, [lk, d]);
    const v = randomTensor(3, [lk, d]);
    q.data[4 * d + 3] = NaN;
    const got = scaledDotProductAttention(q, k, v, { returnWeights }).output.data;
    const want = refAttention(q, k, v).output.data;
    for (let i = 0; i < lq; i++) {
      const row = Array.from(got.subarray(i * d, (i + 1) * d));
      if (i === 4) expect(row.every(Number.isNaN)).toBe(true);
      else expectClose(`row ${i}`, row, want.subarray(i * d, (i + 1) * d), ATOL, RTOL);
    }
  });

  it('a NaN score makes its row NaN: in a late key block, alone among hidden keys, or hidden by a mask', () => {
    const q = randomTensor(4, [lq, d]);
    const k = randomTensor(5, [lk, d]);
    const v = randomTensor(6, [lk, d]);
    k.data[65 * d] = NaN; // key 65: in the third block of 32
    // Row 2 keeps only key 65, row 5 no key. A mask is added to the scores (PyTorch turns a boolean one into
    // 0 / -Infinity first) and NaN + -Infinity is NaN, so row 5 is NaN too, as in PyTorch.
    const keep = { data: new Uint8Array(lq * lk).fill(1), shape: [lq, lk] };
    keep.data.fill(0, 2 * lk, 3 * lk);
    keep.data[2 * lk + 65] = 1;
    keep.data.fill(0, 5 * lk, 6 * lk);
    const add: Tensor = { data: Float32Array.from(keep.data, (x) => (x ? 0 : -Infinity)), shape: [lq, lk] };
    for (const mask of [keep as unknown as Tensor, add]) {
      const got = scaledDotProductAttention(q, k, v, { mask, returnWeights }).output.data;
      expect(Array.from(got).every(Number.isNaN)).toBe(true);
    }
  });

  it('a row whose keys are all hidden is 0; a NaN key that causal hides is never read', () => {
    const q = randomTensor(10, [lq, d]);
    const k = randomTensor(11, [lk, d]);
    const v = randomTensor(12, [lk, d]);
    k.data[(lk - 1) * d] = NaN; // the last key: hidden from every query but the last by causal
    const keep = { data: new Uint8Array(lq * lk).fill(1), shape: [lq, lk] };
    keep.data.fill(0, 3 * lk, 4 * lk);
    const got = scaledDotProductAttention(q, k, v, { mask: keep as unknown as Tensor, causal: true, returnWeights })
      .output.data;
    const want = refAttention(q, k, v, { mask: { ...keep, bool: true }, causal: true }).output.data;
    for (let i = 0; i < lq; i++) {
      const row = Array.from(got.subarray(i * d, (i + 1) * d));
      if (i === 3) expect(row).toEqual(new Array(d).fill(0));
      else if (i === lq - 1) expect(row.every(Number.isNaN)).toBe(true);
      else expectClose(`row ${i}`, row, want.subarray(i * d, (i + 1) * d), ATOL, RTOL);
    }
  });

  it('scores of ±1e4 magnitude and -Infinity masks stay exact', () => {
    const q = randomTensor(7, [lq, d], 60);
    const k = randomTensor(8, [lk, d], 60);
    const v = randomTensor(9, [lk, d]);
    const mask: Tensor = {
      data: Float32Array.from({ length: lq * lk }, (_, i) => (i % 3 === 0 ? -Infinity : 0)),
      shape: [lq, lk],
    };
    const got = scaledDotProductAttention(q, k, v, { mask, returnWeights }).output.data;
    expectClose('output', got, refAttention(q, k, v, { mask }).output.data, ATOL, RTOL);
  });

  it('scores spread past 100 within a row (probabilities down to 2^-126 and below) stay right', () => {
    // q × 20: scores with a standard deviation of 20, so a row spans e^-100 and more, where probability × value
    // is subnormal.
    const q = randomTensor(13, [lq, d], 20);
    const k = randomTensor(14, [lk, d]);
    const v = randomTensor(15, [lk, d]);
    for (const causal of [false, true]) {
      const got = scaledDotProductAttention(q, k, v, { causal, returnWeights }).output.data;
      expectClose(`causal ${causal}`, got, refAttention(q, k, v, { causal }).output.data, ATOL, RTOL);
    }
  });
});

describe("probabilities under 2^-100 of the row's largest", () => {
  // Key `tiny` has probability e^-76 ≈ 2^-109.6 of key `big`'s, and a value of 2^100: its term is 1.24e-3 of the
  // output. Keys apart: 0 and 65 (two key blocks of 64), either first, so the floor applies both where a probability
  // is made and where the running sum is rescaled for a larger max.
  const d = 4;
  const run = (tiny: number, big: number, returnWeights: boolean) => {
    const lk = 66;
    const q: Tensor = { data: Float32Array.from([1, 0, 0, 0]), shape: [1, d] };
    const k: Tensor = { data: new Float32Array(lk * d).fill(-1000), shape: [lk, d] }; // every other key: score -500
    const v: Tensor = { data: new Float32Array(lk * d), shape: [lk, d] };
    k.data.set([152, 0, 0, 0], big * d); // score 152 / √4 = 76
    k.data.set([0, 0, 0, 0], tiny * d); // score 0
    v.data.set([2 ** 100, 0, 0, 0], tiny * d);
    const want = refAttention(q, k, v);
    return { got: scaledDotProductAttention(q, k, v, { returnWeights }), want };
  };

  it.each([
    [0, 65, false],
    [65, 0, false],
    [0, 65, true],
    [65, 0, true],
  ])(
    'count as 0 in the output, where they would be subnormal in P·V (tiny key %i, largest %i, weights %s)',
    (tiny, big, w) => {
      const { got, want } = run(tiny, big, w);
      expect(want.output.data[0]).toBeCloseTo(2 ** 100 * Math.exp(-76), 8);
      expect(Array.from(got.output.data)).toEqual([0, 0, 0, 0]);
    },
  );

  it("stay in the weights, as PyTorch's", () => {
    const { got, want } = run(0, 65, true);
    const weight = got.weights!.data[0];
    expect(weight).toBeGreaterThan(0);
    expect(Math.abs(weight - want.weights!.data[0]) / want.weights!.data[0]).toBeLessThan(1e-6);
  });
});

describe('the bar attention results are held to (ATOL + RTOL·|expected|)', () => {
  it('passes both paths on SDPA 256×64, and fails their output moved by 1e-5 anywhere below |0.8|', () => {
    const [q, k, v] = [1, 2, 3].map((seed) => randomTensor(seed, [256, 64]));
    const want = refAttention(q, k, v).output.data;
    for (const returnWeights of [false, true]) {
      const got = scaledDotProductAttention(q, k, v, { returnWeights }).output.data;
      const { maxAbs } = expectClose('output', got, want, ATOL, RTOL);
      // The bar sits a few times above the error seen, not orders of magnitude.
      expect(maxAbs).toBeLessThan(ATOL);
      expect(maxAbs).toBeGreaterThan(ATOL / 100);
      let checked = 0;
      for (const i of [0, 1000, 5000, 9000, 16383]) {
        if (Math.abs(want[i]) >= 0.8) continue;
        const moved = Float32Array.from(got);
        moved[i] += 1e-5;
        expect(() => expectClose('moved', moved, want, ATOL, RTOL)).toThrow();
        checked++;
      }
      expect(checked).toBeGreaterThan(2);
    }
  });
});
