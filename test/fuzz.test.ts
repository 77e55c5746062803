// Fuzzing (fast-check, fixed seed): random valid calls through every path against the float64 reference, and
// random invalid calls that must each throw an AttentionError and leave the engine right.
// CI runs a bounded count; `npm run fuzz` runs thousands (FUZZ_RUNS).
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AttentionError,
  createCausalMask,
  type Engine,
  linear,
  matmul,
  MultiHeadAttention,
  scaledDotProductAttention,
  SelfAttention,
  softmax,
  tensor,
  type Tensor,
} from '../src/index.js';
import { heatmap, heatmapSvg } from '../src/heatmap.js';
import { mulberry32 } from '../src/modules/random.js';
import { refAttention } from '../src/reference.js';
import { expectClose, initBuild, randomTensor, usedBytes, ATOL, RTOL } from './helpers.js';

let engine: Engine;
beforeAll(async () => {
  engine = await initBuild();
});

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = 424242;
const size = fc.oneof(fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33), fc.integer({ min: 1, max: 80 }));

describe('fuzz: valid calls', () => {
  it(`SDPA through both paths equals the reference (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
        size,
        size,
        size,
        size,
        fc.constantFrom('none', 'float', 'keep'),
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        (batch, lq, lk, dk, dv, maskKind, causal, returnWeights, seed) => {
          const q = randomTensor(seed, [...batch, lq, dk], 2);
          const k = randomTensor(seed + 1, [...batch, lk, dk], 2);
          const v = randomTensor(seed + 2, [...batch, lk, dv]);
          const rand = mulberry32(seed);
          const mask =
            maskKind === 'float'
              ? {
                  data: Float32Array.from({ length: lq * lk }, () => (rand() < 0.3 ? -Infinity : rand() * 4 - 2)),
                  shape: [lq, lk],
                }
              : maskKind === 'keep'
                ? { data: Uint8Array.from({ length: lq * lk }, () => (rand() < 0.6 ? 1 : 0)), shape: [lq, lk] }
                : undefined;
          const got = scaledDotProductAttention(q, k, v, { mask: mask as Tensor, causal, returnWeights });
          const want = refAttention(q, k, v, { mask: mask && { ...mask, bool: maskKind === 'keep' }, causal });
          // q and k are twice the unit case's, so scores (and their rounding errors) are four times as large.
          expectClose('output', got.output.data, want.output.data, 4 * ATOL, RTOL);
          if (returnWeights) expectClose('weights', got.weights!.data, want.weights.data, 4 * ATOL, RTOL);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    expect(usedBytes(engine)).toBe(0);
  });
});

/** Values that are not what any argument wants, plus near misses. */
const junk = fc.oneof(
  fc.anything(),
  fc.constant(null),
  fc.constant(undefined),
  fc.constant(NaN),
  fc.constant({ data: new Float64Array(4), shape: [2, 2] }),
  fc.constant({ data: new Float32Array(4), shape: [2, 3] }),
  fc.constant({ data: new Float32Array(0), shape: [0, 2 ** 40] }),
  fc.constant({ data: new Float32Array(4), shape: [2, -2] }),
  fc.constant({ data: new Float32Array(4), shape: [2, 2.5] }),
  fc.constant({ data: new Float32Array(4), shape: '2,2' }),
  fc.constant({ data: [1, 2, 3, 4], shape: [2, 2] }),
  fc.constant({ data: new Uint8Array(4), shape: [2, 2] }),
  fc.constant({ data: new Float32Array(6), shape: [3, 2] }),
);

const q = randomTensor(1, [4, 8]);
const k = randomTensor(2, [6, 8]);
const v = randomTensor(3, [6, 5]);

describe('fuzz: invalid calls', () => {
  it(`each throws an AttentionError and the engine stays right (${RUNS} runs)`, () => {
    const mha = new MultiHeadAttention(8, 2);
    const sa = new SelfAttention(8);
    const cache = mha.createCache({ batch: 1, maxLength: 4 });
    const calls: Array<(a: unknown, b: unknown) => unknown> = [
      (a) => scaledDotProductAttention(a as Tensor, k, v),
      (a, b) => scaledDotProductAttention(q, a as Tensor, b as Tensor),
      (a) => scaledDotProductAttention(q, k, v, a as never),
      (a) => scaledDotProductAttention(q, k, v, { mask: a as Tensor }),
      (a) => scaledDotProductAttention(q, k, v, { scale: a as number }),
      (a) => scaledDotProductAttention(q, k, v, { causal: a as boolean, returnWeights: true }),
      (a, b) => matmul(a as Tensor, b as Tensor),
      (a, b) => linear(a as Tensor, b as Tensor),
      (a) => softmax(a as Tensor),
      (a) => createCausalMask(a as number),
      (a, b) => tensor(a as Float32Array, b as number[]),
      (a) => sa.forward(a as Tensor),
      (a) => sa.forward(randomTensor(4, [3, 8]), a as never),
      (a, b) => mha.forward(a as Tensor, b as Tensor),
      (a) => mha.forward(randomTensor(5, [1, 3, 8]), undefined, undefined, { keyPaddingMask: a as Tensor }),
      (a) => mha.forward(randomTensor(5, [1, 3, 8]), undefined, undefined, { attnMask: a as Tensor }),
      (a) => mha.forwardStep(a as Tensor, cache),
      (a) => mha.forwardStep(randomTensor(6, [1, 1, 8]), a as never),
      (a) => new MultiHeadAttention(a as number, 3),
      (a) => new SelfAttention(8, { weights: a as never }),
      (a) => MultiHeadAttention.fromStateDict(a as never, { numHeads: 2 }),
      (a, b) => heatmap(a as Tensor, b as never),
      (a, b) => heatmapSvg(a as Tensor, b as never),
      (a) => heatmapSvg(randomTensor(7, [2, 3]), { rows: ['a', 'b'], cols: a as string[], cell: 10 }),
    ];
    let thrown = 0;
    fc.assert(
      fc.property(fc.nat(calls.length - 1), junk, junk, (which, a, b) => {
        try {
          // A junk value can be valid by chance (a module of width 3); free whatever was made.
          const made = calls[which](a, b) as { dispose?: () => void } | undefined;
          made?.dispose?.();
        } catch (e) {
          if (!(e instanceof AttentionError))
            throw new Error(`call ${which} threw ${String(e)} for ${String(a)}, ${String(b)}`);
          expect(['SHAPE_MISMATCH', 'BAD_ARGUMENT', 'OUT_OF_MEMORY', 'DISPOSED']).toContain(e.code);
          thrown++;
        }
        if (cache.length >= cache.maxLength) cache.reset();
        const r = scaledDotProductAttention(q, k, v, { causal: true });
        expectClose('after', r.output.data, refAttention(q, k, v, { causal: true }).output.data, ATOL, RTOL);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(thrown).toBeGreaterThan(RUNS * 0.8);
    cache.dispose();
    mha.dispose();
    sa.dispose();
    expect(usedBytes(engine)).toBe(0);
  });
});
