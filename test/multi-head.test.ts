// MultiHeadAttention and KV caches against the float64 reference: random shapes, heads, masks, decoding.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Engine,
  initialSelfAttentionWeights,
  MultiHeadAttention,
  SelfAttention,
  type StateDict,
  type Tensor,
} from '../src/index.js';
import { mulberry32 } from '../src/modules/random.js';
import { refMultiHead } from '../src/reference.js';
import { expectAttentionError, expectClose, initBuild, randomTensor, usedBytes, ATOL, RTOL } from './helpers.js';

let engine: Engine;
beforeAll(async () => {
  engine = await initBuild();
});

const SEED = 20261129;

/** Random q/k/v/out projection weights in PyTorch's grouped-query layout, scaled like nn.Linear. */
function weightsFor(seed: number, E: number, kvDim: number, kdim: number, vdim: number, bias: boolean): StateDict {
  const t = (s: number, shape: number[], fan: number) => randomTensor(seed + s, shape, 1 / Math.sqrt(fan));
  const sd: StateDict = {
    'q_proj.weight': t(1, [E, E], E),
    'k_proj.weight': t(2, [kvDim, kdim], kdim),
    'v_proj.weight': t(3, [kvDim, vdim], vdim),
    'out_proj.weight': t(4, [E, E], E),
  };
  if (bias)
    Object.assign(sd, {
      'q_proj.bias': t(5, [E], 4),
      'k_proj.bias': t(6, [kvDim], 4),
      'v_proj.bias': t(7, [kvDim], 4),
      'out_proj.bias': t(8, [E], 4),
    });
  return sd;
}

const refWeights = (sd: StateDict) => ({
  wq: sd['q_proj.weight'],
  bq: sd['q_proj.bias'],
  wk: sd['k_proj.weight'],
  bk: sd['k_proj.bias'],
  wv: sd['v_proj.weight'],
  bv: sd['v_proj.bias'],
  wo: sd['out_proj.weight'],
  bo: sd['out_proj.bias'],
});

const heads = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 }))
  .map(([kv, group, hd]) => ({ Hkv: kv, H: kv * group, hd }));

describe('MultiHeadAttention', () => {
  it('equals the reference: random heads and groups, cross lengths, kdim/vdim, masks, causal, weights on and off', () => {
    fc.assert(
      fc.property(
        heads,
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(0, 1, 2),
        fc.integer(),
        ({ H, Hkv, hd }, B, Lq, Lk, cross, causal, bias, padding, weightsMode, seed) => {
          const E = H * hd;
          const kdim = cross ? 5 : E;
          const vdim = cross ? 3 : E;
          const Lk2 = cross ? Lk : Lq;
          const sd = weightsFor(seed, E, Hkv * hd, kdim, vdim, bias);
          const query = randomTensor(seed + 10, [B, Lq, E]);
          const key = cross ? randomTensor(seed + 11, [B, Lk2, kdim]) : query;
          const value = cross ? randomTensor(seed + 12, [B, Lk2, vdim]) : query;
          const rand = mulberry32(seed);
          const kpm = padding
            ? { data: Uint8Array.from({ length: B * Lk2 }, () => (rand() < 0.3 ? 1 : 0)), shape: [B, Lk2] }
            : undefined;
          const attnMask: Tensor = {
            data: Float32Array.from({ length: Lq * Lk2 }, () => (rand() < 0.1 ? -Infinity : rand() - 0.5)),
            shape: [Lq, Lk2],
          };
          const m = MultiHeadAttention.fromStateDict(sd, { numHeads: H, numKVHeads: Hkv });
          try {
            const needWeights = weightsMode !== 0;
            const averageWeights = weightsMode === 1;
            const got = m.forward(query, key, value, {
              causal,
              attnMask,
              keyPaddingMask: kpm as unknown as Tensor,
              needWeights,
              averageWeights,
            });
            const want = refMultiHead(refWeights(sd), query, key, value, {
              numHeads: H,
              numKVHeads: Hkv,
              causal,
              attnMask,
              keyPaddingMask: kpm,
            });
            expect(got.output.shape).toEqual([B, Lq, E]);
            expectClose('output', got.output.data, want.output.data, ATOL, RTOL);
            if (!needWeights) expect(got.weights).toBeUndefined();
            else if (!averageWeights) expectClose('weights per head', got.weights!.data, want.weights.data, ATOL, RTOL);
            else {
              const avg = new Float64Array(B * Lq * Lk2);
              for (let b = 0; b < B; b++)
                for (let h = 0; h < H; h++)
                  for (let i = 0; i < Lq * Lk2; i++)
                    avg[b * Lq * Lk2 + i] += want.weights.data[(b * H + h) * Lq * Lk2 + i] / H;
              expect(got.weights!.shape).toEqual([B, Lq, Lk2]);
              expectClose('weights averaged', got.weights!.data, avg, ATOL, RTOL);
            }
          } finally {
            m.dispose();
          }
        },
      ),
      { seed: SEED, numRuns: 80 },
    );
  });

  it('one query row without masks (a group’s heads run as rows of one item) equals the reference in every weights mode', () => {
    fc.assert(
      fc.property(
        heads,
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(0, 1, 2),
        fc.integer(),
        ({ H, Hkv, hd }, B, Lk, cross, causal, weightsMode, seed) => {
          const E = H * hd;
          const sd = weightsFor(seed, E, Hkv * hd, E, E, true);
          const query = randomTensor(seed + 10, [B, 1, E]);
          const key = cross ? randomTensor(seed + 11, [B, Lk, E]) : query;
          const m = MultiHeadAttention.fromStateDict(sd, { numHeads: H, numKVHeads: Hkv });
          try {
            const needWeights = weightsMode !== 0;
            const averageWeights = weightsMode === 1;
            const got = m.forward(query, key, key, { causal, needWeights, averageWeights });
            const want = refMultiHead(refWeights(sd), query, key, key, { numHeads: H, numKVHeads: Hkv, causal });
            expectClose('output', got.output.data, want.output.data, ATOL, RTOL);
            if (needWeights && !averageWeights) {
              expect(got.weights!.shape).toEqual([B, H, 1, key.shape[1]]);
              expectClose('weights per head', got.weights!.data, want.weights.data, ATOL, RTOL);
            }
          } finally {
            m.dispose();
          }
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('one head with the seed’s weights and scale equals SelfAttention', () => {
    const E = 12;
    const sa = new SelfAttention(E, { seed: 4 });
    const sd = initialSelfAttentionWeights(E, 4);
    const identity = {
      data: Float32Array.from({ length: E * E }, (_, i) => (i % (E + 1) === 0 ? 1 : 0)),
      shape: [E, E],
    };
    const m = MultiHeadAttention.fromStateDict(
      {
        'q_proj.weight': sd['W_q.weight'],
        'q_proj.bias': sd['W_q.bias'],
        'k_proj.weight': sd['W_k.weight'],
        'k_proj.bias': sd['W_k.bias'],
        'v_proj.weight': sd['W_v.weight'],
        'v_proj.bias': sd['W_v.bias'],
        'out_proj.weight': identity,
        'out_proj.bias': { data: new Float32Array(E), shape: [E] },
      },
      { numHeads: 1 },
    );
    const x = randomTensor(9, [2, 7, E]);
    for (const causal of [false, true]) {
      const a = sa.forward(x, { causal });
      const b = m.forward(x, x, x, { causal });
      expectClose('output', b.output.data, a.output.data, 1e-6, 1e-5);
      expectClose('weights', b.weights!.data, a.weights!.data, 1e-6, 1e-5);
    }
    sa.dispose();
    m.dispose();
  });
});

describe('KV cache', () => {
  it('decoding in random chunks equals the full causal forward (MultiHeadAttention with grouped-query, SelfAttention)', () => {
    fc.assert(
      fc.property(
        heads,
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        fc.integer(),
        ({ H, Hkv, hd }, B, extra, chunks, single, seed) => {
          const E = single ? hd : H * hd;
          const L = chunks.reduce((a, b) => a + b, 0);
          const x = randomTensor(seed, [B, L, E]);
          const m = single
            ? new SelfAttention(E, { seed })
            : MultiHeadAttention.fromStateDict(weightsFor(seed, E, Hkv * hd, E, E, true), {
                numHeads: H,
                numKVHeads: Hkv,
              });
          const cache = m.createCache({ batch: B, maxLength: L + extra });
          try {
            const full = single
              ? (m as SelfAttention).forward(x, { causal: true })
              : (m as MultiHeadAttention).forward(x, x, x, { causal: true, averageWeights: false });
            const Hn = single ? 1 : H;
            let at = 0;
            for (const [n, t] of chunks.entries()) {
              const xt = new Float32Array(B * t * E);
              for (let b = 0; b < B; b++) xt.set(x.data.subarray((b * L + at) * E, (b * L + at + t) * E), b * t * E);
              // Every other step returns each head's weights: the rows of the full forward's, up to the new tokens.
              const perHead = n % 2 === 1;
              const r = m.forwardStep({ data: xt, shape: [B, t, E] }, cache, { averageWeights: !perHead });
              expect(r.weights!.shape).toEqual(perHead ? [B, Hn, t, at + t] : [B, t, at + t]);
              if (perHead) {
                const want = new Float32Array(B * Hn * t * (at + t));
                for (let bh = 0; bh < B * Hn; bh++)
                  for (let i = 0; i < t; i++) {
                    const row = full.weights!.data.subarray((bh * L + at + i) * L, (bh * L + at + i) * L + at + t);
                    want.set(row, (bh * t + i) * (at + t));
                  }
                expectClose(`weights per head, tokens ${at}..${at + t}`, r.weights!.data, want, ATOL, RTOL);
              }
              for (let b = 0; b < B; b++) {
                expectClose(
                  `tokens ${at}..${at + t}`,
                  r.output.data.subarray(b * t * E, (b + 1) * t * E),
                  full.output.data.subarray((b * L + at) * E, (b * L + at + t) * E),
                  ATOL,
                  RTOL,
                );
              }
              at += t;
              expect(cache.length).toBe(at);
            }
          } finally {
            cache.dispose();
            m.dispose();
          }
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('refuses to go past maxLength, to serve another module, or to be used after dispose; reset starts over', () => {
    const m = new MultiHeadAttention(8, 2);
    const other = new MultiHeadAttention(8, 2);
    const cache = m.createCache({ batch: 1, maxLength: 3 });
    const step = (t: number) => m.forwardStep(randomTensor(t, [1, t, 8]), cache);
    step(2);
    const fail = expectAttentionError;
    fail(() => step(2), 'BAD_ARGUMENT', /holds 2 of 3 tokens; 2 more do not fit/);
    expect(cache.length).toBe(2);
    fail(() => other.forwardStep(randomTensor(1, [1, 1, 8]), cache), 'BAD_ARGUMENT', /another module/);
    fail(
      () => m.forwardStep(randomTensor(1, [2, 1, 8]), cache),
      'SHAPE_MISMATCH',
      /x has batch 2 but the cache holds 1/,
    );
    step(1);
    fail(() => cache.truncate(4), 'BAD_ARGUMENT', /KVCache.truncate: length must be an integer from 0 to 3, got 4/);
    cache.truncate(1);
    expect(cache.length).toBe(1);
    step(2);
    cache.reset();
    expect(cache.length).toBe(0);
    step(3);
    cache.dispose();
    fail(() => step(1), 'DISPOSED', /KV cache was disposed/);
    m.dispose();
    other.dispose();
    fail(
      () => m.forward(randomTensor(1, [1, 2, 8])),
      'DISPOSED',
      /MultiHeadAttention.forward: this module was disposed/,
    );
    expect(usedBytes(engine)).toBe(0);
  });
});
