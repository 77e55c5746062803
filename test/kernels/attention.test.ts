// Both attention kernels (weights path and fused) over the edge table of query and key lengths.
import { beforeAll, describe, it } from 'vitest';
import { scaledDotProductAttention } from '../../src/index.js';
import { refAttention } from '../../src/reference.js';
import { EDGE_SIZES, expectClose, initBuild, randomTensor, ATOL, RTOL } from '../helpers.js';

beforeAll(initBuild);

// dk and dv around the 4-lane vector and the 8-column tile; key counts across fused key blocks of 32.
const HEAD_DIMS = [
  [1, 1],
  [13, 9],
  [64, 64],
] as const;

describe.each([
  ['f32_attention_weights', true],
  ['f32_attention_fused', false],
] as const)('%s edge table', (_, returnWeights) => {
  for (const [dk, dv] of HEAD_DIMS) {
    for (const causal of [false, true]) {
      it(`every Lq × Lk, dk ${dk}, dv ${dv}${causal ? ', causal' : ''}`, () => {
        for (const lq of EDGE_SIZES) {
          for (const lk of EDGE_SIZES) {
            if (dk === 64 && lq * lk > 64 * 64) continue; // the large head dim only on small shapes: time
            const q = randomTensor(lq * 131 + lk, [lq, dk]);
            const k = randomTensor(lk * 137 + lq, [lk, dk]);
            const v = randomTensor(lq + lk * 7, [lk, dv]);
            const got = scaledDotProductAttention(q, k, v, { causal, returnWeights });
            const want = refAttention(q, k, v, { causal });
            expectClose(`${lq}×${lk}`, got.output.data, want.output.data, ATOL, RTOL);
            if (returnWeights) expectClose(`${lq}×${lk} weights`, got.weights!.data, want.weights.data, ATOL, RTOL);
          }
        }
      });
    }
  }
});

describe('f32_attention_fused block maxima', () => {
  it('count only real keys: scores far below 0 where Lk ends inside an 8-key micro-tile (padded keys score 0)', () => {
    for (const lq of [1, 4, 7]) {
      for (const lk of [13, 77]) {
        // Every score near -300 (scale 1/2): against a max of 0, e^(s − max) would underflow to 0 for every key.
        const q = { data: new Float32Array(lq * 4).fill(1), shape: [lq, 4] };
        const k = { data: Float32Array.from({ length: lk * 4 }, (_, i) => -150 - (i >> 2) * 0.25), shape: [lk, 4] };
        const v = randomTensor(lq + lk, [lk, 3]);
        const got = scaledDotProductAttention(q, k, v);
        expectClose(`${lq}×${lk}`, got.output.data, refAttention(q, k, v).output.data, ATOL, RTOL);
      }
    }
  });
});
