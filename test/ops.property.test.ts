// Property tests: every op against the float64 reference over random shapes (fixed seed, bounded runs).
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  initialSelfAttentionWeights,
  linear,
  matmul,
  scaledDotProductAttention,
  SelfAttention,
  softmax,
  type Tensor,
} from '../src/index.js';
import { mulberry32 } from '../src/modules/random.js';
import { refAttention, refLinear, refMatmul, refSelfAttention, refSoftmax } from '../src/reference.js';
import { absData, expectClose, F32_EPS, initBuild, randomTensor, ATOL, RTOL } from './helpers.js';

beforeAll(initBuild);

const SEED = 20261129;
const RUNS = 60;
// Attention outputs are held to the fixtures' bar (ATOL + RTOL·|expected|, test/helpers.ts).

/** Sizes with 1s and odd values well represented. */
const dim = fc.oneof(fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 16, 17), fc.integer({ min: 1, max: 70 }));
/** Leading dims of length 0–2, where each operand may broadcast a dim as 1. */
const lead = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 });
const broadcastOf = (shape: number[]) => fc.tuple(...shape.map((d) => fc.constantFrom(d, 1))).map((s) => s as number[]);

describe('matmul', () => {
  it('equals the reference for random shapes, broadcast batches and transposeB', () => {
    fc.assert(
      fc.property(
        dim,
        dim,
        dim,
        lead.chain((b) => fc.tuple(fc.constant(b), broadcastOf(b), broadcastOf(b))),
        fc.boolean(),
        fc.integer(),
        (m, n, k, [, aLead, bLead], transposeB, seed) => {
          const a = randomTensor(seed, [...aLead, m, k]);
          const b = randomTensor(seed + 1, [...bLead, ...(transposeB ? [n, k] : [k, n])]);
          const got = matmul(a, b, { transposeB });
          const want = refMatmul(a, b, transposeB);
          expect(got.shape).toEqual(want.shape);
          expectClose(
            'matmul',
            got.data,
            want.data,
            0,
            (k + 2) * F32_EPS,
            refMatmul(absData(a), absData(b), transposeB).data,
          );
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

describe('linear', () => {
  it('equals the reference with and without bias, for inputs of rank 1 to 3', () => {
    fc.assert(
      fc.property(
        dim,
        dim,
        fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 2 }),
        fc.boolean(),
        fc.integer(),
        (inF, out, rows, withBias, seed) => {
          const x = randomTensor(seed, [...rows, inF]);
          const w = randomTensor(seed + 1, [out, inF]);
          const b = withBias ? randomTensor(seed + 2, [out]) : undefined;
          const got = linear(x, w, b);
          const want = refLinear(x, w, b);
          expect(got.shape).toEqual(want.shape);
          const bound = refLinear(absData(x), absData(w), b && absData(b)).data;
          expectClose('linear', got.data, want.data, 0, (inF + 3) * F32_EPS, bound);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

describe('softmax', () => {
  it('equals the reference over random shapes and magnitudes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 2 }),
        dim,
        fc.constantFrom(0.1, 1, 10, 100),
        fc.integer(),
        (rows, n, scale, seed) => {
          const x = randomTensor(seed, [...rows, n], scale);
          const got = softmax(x);
          expect(got.shape).toEqual(x.shape);
          expectClose('softmax', got.data, refSoftmax(x).data, 1e-7, 1e-5);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

type MaskChoice = 'none' | 'float' | 'bool';

function randomMask(kind: MaskChoice, shape: number[], seed: number): (Tensor & { bool?: boolean }) | undefined {
  const rand = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  if (kind === 'float')
    return { data: Float32Array.from({ length: n }, () => (rand() < 0.25 ? -Infinity : rand() * 2 - 1)), shape };
  if (kind === 'bool')
    return {
      data: Uint8Array.from({ length: n }, () => (rand() < 0.7 ? 1 : 0)),
      shape,
      bool: true,
    } as unknown as Tensor;
  return undefined;
}

describe('scaledDotProductAttention', () => {
  it('equals the reference: random shapes, broadcast batches, cross lengths, masks, causal, scale, with and without weights', () => {
    fc.assert(
      fc.property(
        lead.chain((b) => fc.tuple(fc.constant(b), broadcastOf(b), broadcastOf(b), broadcastOf(b), broadcastOf(b))),
        dim,
        dim,
        dim,
        dim,
        fc.constantFrom<MaskChoice>('none', 'float', 'bool'),
        fc.tuple(fc.boolean(), fc.boolean()),
        fc.boolean(),
        fc.option(fc.double({ min: 0.01, max: 2, noNaN: true }), { nil: undefined }),
        fc.boolean(),
        fc.integer(),
        (
          [, qLead, kLead, vLead, mLead],
          lq,
          lk,
          dk,
          dv,
          maskKind,
          [rowBroadcast, keyBroadcast],
          causal,
          scale,
          returnWeights,
          seed,
        ) => {
          const q = randomTensor(seed, [...qLead, lq, dk]);
          const k = randomTensor(seed + 1, [...kLead, lk, dk]);
          const v = randomTensor(seed + 2, [...vLead, lk, dv]);
          // A mask may broadcast into the batch of q, k, v but not enlarge it (PyTorch adds it in place).
          const batch = mLead.map((_, d) => Math.max(qLead[d], kLead[d], vLead[d]));
          const maskLead = mLead.map((m, d) => (batch[d] === 1 ? 1 : m));
          const mask = randomMask(maskKind, [...maskLead, rowBroadcast ? 1 : lq, keyBroadcast ? 1 : lk], seed + 3);
          const got = scaledDotProductAttention(q, k, v, { mask, causal, scale, returnWeights });
          const want = refAttention(q, k, v, { mask, causal, scale });
          expect(got.output.shape).toEqual(want.output.shape);
          expectClose('output', got.output.data, want.output.data, ATOL, RTOL);
          if (returnWeights) {
            expect(got.weights!.shape).toEqual(want.weights.shape);
            expectClose('weights', got.weights!.data, want.weights.data, ATOL, RTOL);
          } else {
            expect(got.weights).toBeUndefined();
          }
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });
});

describe('SelfAttention', () => {
  it('equals the reference module for random E, n, batch, causal and masks', () => {
    fc.assert(
      fc.property(
        dim,
        dim,
        fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom<MaskChoice>('none', 'float', 'bool'),
        fc.integer(),
        (E, n, batch, causal, bias, maskKind, seed) => {
          const x = randomTensor(seed, batch === undefined ? [n, E] : [batch, n, E]);
          const sd = initialSelfAttentionWeights(E, seed, bias);
          const mask = randomMask(maskKind, [n, n], seed + 5);
          const m = new SelfAttention(E, { seed, bias });
          try {
            const got = m.forward(x, { causal, mask });
            const want = refSelfAttention(sd, x, { causal, mask });
            expect(got.output.shape).toEqual(x.shape);
            expect(got.weights!.shape).toEqual(batch === undefined ? [n, n] : [batch, n, n]);
            expectClose('output', got.output.data, want.output.data, ATOL, RTOL);
            expectClose('weights', got.weights!.data, want.weights.data, ATOL, RTOL);
          } finally {
            m.dispose();
          }
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
