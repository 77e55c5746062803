// The seed's module: initialisation, state dicts, shapes, lifetimes.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AttentionError,
  type Engine,
  initialSelfAttentionWeights,
  SelfAttention,
  type StateDict,
} from '../src/index.js';
import { runtimeOf } from '../src/runtime/engine.js';
import { refSelfAttention } from '../src/reference.js';
import { expectClose, initBuild, randomTensor, usedBytes, ATOL, RTOL } from './helpers.js';

let engine: Engine;
beforeAll(async () => {
  engine = await initBuild();
});

describe('initialisation like nn.Linear', () => {
  it('draws weights and biases uniformly in ±1/√E, reproducibly per seed', () => {
    const E = 64;
    const sd = initialSelfAttentionWeights(E, 7);
    expect(Object.keys(sd).sort()).toEqual([
      'W_k.bias',
      'W_k.weight',
      'W_q.bias',
      'W_q.weight',
      'W_v.bias',
      'W_v.weight',
    ]);
    const bound = 1 / Math.sqrt(E);
    for (const t of Object.values(sd)) {
      let lo = Infinity;
      let hi = -Infinity;
      let sum = 0;
      for (const x of t.data) {
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
        sum += x;
      }
      expect(lo).toBeGreaterThanOrEqual(-bound);
      expect(hi).toBeLessThanOrEqual(bound);
      if (t.data.length > 1000) {
        // A uniform draw fills the interval and centres on 0.
        expect(hi - lo).toBeGreaterThan(1.9 * bound);
        expect(Math.abs(sum / t.data.length)).toBeLessThan(0.05 * bound);
      }
    }
    expect(initialSelfAttentionWeights(E, 7)['W_v.bias'].data).toEqual(sd['W_v.bias'].data);
    expect(initialSelfAttentionWeights(E, 8)['W_v.bias'].data).not.toEqual(sd['W_v.bias'].data);
    expect(Object.keys(initialSelfAttentionWeights(E, 7, false)).sort()).toEqual([
      'W_k.weight',
      'W_q.weight',
      'W_v.weight',
    ]);
  });

  it('a seeded module computes with exactly those weights', () => {
    const x = randomTensor(1, [2, 10, 64]);
    const m = new SelfAttention(64, { seed: 3 });
    const got = m.forward(x);
    const want = refSelfAttention(initialSelfAttentionWeights(64, 3), x);
    expectClose('output', got.output.data, want.output.data, ATOL, RTOL);
    m.dispose();
  });
});

describe('forward', () => {
  it('gives the seed example its shapes: output [2, 10, 64], weights [2, 10, 10], rows summing to 1', () => {
    const m = new SelfAttention(64);
    const { output, weights } = m.forward(randomTensor(2, [2, 10, 64]));
    expect(output.shape).toEqual([2, 10, 64]);
    expect(weights!.shape).toEqual([2, 10, 10]);
    for (let r = 0; r < 20; r++) {
      const s = weights!.data.subarray(r * 10, r * 10 + 10).reduce((a, b) => a + b, 0);
      expect(s).toBeCloseTo(1, 5);
    }
    m.dispose();
  });

  it('treats [n, E] as one unbatched sequence, equal to batch row 0 of [1, n, E]', () => {
    const m = new SelfAttention(12, { seed: 1 });
    const x = randomTensor(3, [5, 12]);
    const a = m.forward(x, { causal: true });
    const b = m.forward({ data: x.data, shape: [1, 5, 12] }, { causal: true });
    expect(a.output.shape).toEqual([5, 12]);
    expect(a.weights!.shape).toEqual([5, 5]);
    expect(a.output.data).toEqual(b.output.data);
    expect(a.weights!.data).toEqual(b.weights!.data);
    m.dispose();
  });

  it('returns no weights when asked not to (the fused path), with the same output to rounding', () => {
    const m = new SelfAttention(9, { seed: 2 });
    try {
      const x = randomTensor(4, [3, 7, 9]);
      const want = refSelfAttention(initialSelfAttentionWeights(9, 2), x).output.data;
      const a = m.forward(x);
      const b = m.forward(x, { returnWeights: false });
      expect(b.weights).toBeUndefined();
      expectClose('with weights', a.output.data, want, ATOL, RTOL);
      expectClose('fused', b.output.data, want, ATOL, RTOL);
    } finally {
      m.dispose();
    }
  });

  it('results are the caller’s own copies, not views of linear memory', () => {
    const m = new SelfAttention(8, { seed: 2 });
    const x = randomTensor(5, [1, 4, 8]);
    const a = m.forward(x);
    const kept = Float32Array.from(a.output.data);
    m.forward(randomTensor(6, [1, 4, 8]));
    expect(a.output.data).toEqual(kept);
    expect(a.output.data.buffer).not.toBe(runtimeOf(engine).kernels.memory.buffer);
    m.dispose();
  });
});

describe('state dicts', () => {
  it('fromStateDict reads embedDim and bias from PyTorch keys', () => {
    const sd = initialSelfAttentionWeights(6, 4, false);
    const m = SelfAttention.fromStateDict(sd);
    expect(m.embedDim).toBe(6);
    expect(m.bias).toBe(false);
    const x = randomTensor(7, [2, 3, 6]);
    expectClose('output', m.forward(x).output.data, refSelfAttention(sd, x).output.data, ATOL, RTOL);
    m.dispose();
  });

  const cases: Array<[string, () => StateDict, RegExp]> = [
    [
      'a missing key',
      () => {
        const sd = initialSelfAttentionWeights(4);
        delete sd['W_k.weight'];
        return sd;
      },
      /missing 'W_k.weight'/,
    ],
    [
      'an unexpected key',
      () => ({ ...initialSelfAttentionWeights(4), 'W_o.weight': randomTensor(1, [4, 4]) }),
      /unexpected key 'W_o.weight'/,
    ],
    [
      'a wrong shape',
      () => ({ ...initialSelfAttentionWeights(4), 'W_v.bias': randomTensor(1, [5]) }),
      /'W_v.bias' must be \[4\], got \[5\]/,
    ],
  ];
  for (const [what, make, message] of cases) {
    it(`rejects ${what} by name`, () => {
      expect(() => SelfAttention.fromStateDict(make())).toThrow(message);
      expect(usedBytes(engine)).toBe(0);
    });
  }
});

describe('lifetime', () => {
  it('keeps weights resident until dispose, then frees them and throws DISPOSED', () => {
    const used = usedBytes(engine);
    const m = new SelfAttention(32);
    expect(usedBytes(engine)).toBeGreaterThan(used);
    m.dispose();
    expect(usedBytes(engine)).toBe(used);
    m.dispose();
    try {
      m.forward(randomTensor(1, [2, 32]));
      expect.fail('expected DISPOSED');
    } catch (e) {
      expect(e).toBeInstanceOf(AttentionError);
      expect((e as AttentionError).code).toBe('DISPOSED');
    }
  });
});
