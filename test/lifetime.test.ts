// Lifetimes and memory: dispose and Symbol.dispose free, forgotten modules are freed by the GC, and mixed
// calls reach a steady state.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Engine,
  linear,
  matmul,
  MultiHeadAttention,
  scaledDotProductAttention,
  SelfAttention,
  softmax,
} from '../src/index.js';
import { refAttention } from '../src/reference.js';
import { expectClose, initBuild, randomTensor, usedBytes, ATOL, RTOL } from './helpers.js';

let engine: Engine;
beforeAll(async () => {
  engine = await initBuild();
});

const gc = (globalThis as { gc?: () => void }).gc;

describe('lifetimes', () => {
  it('Symbol.dispose frees modules and caches (what `using` calls)', () => {
    const before = usedBytes(engine);
    const m = new MultiHeadAttention(16, 4);
    const cache = m.createCache({ batch: 1, maxLength: 8 });
    const s = new SelfAttention(8);
    expect(usedBytes(engine)).toBeGreaterThan(before);
    cache[Symbol.dispose]();
    m[Symbol.dispose]();
    s[Symbol.dispose]();
    expect(usedBytes(engine)).toBe(before);
    expect(() => s.forward(randomTensor(1, [2, 8]))).toThrow(/disposed/);
  });

  it('a module or cache that is forgotten is freed when it is garbage-collected', async () => {
    expect(gc, 'tests run with --expose-gc').toBeTypeOf('function');
    const before = usedBytes(engine);
    (() => {
      const m = new MultiHeadAttention(32, 4);
      const cache = m.createCache({ batch: 2, maxLength: 64 });
      m.forwardStep(randomTensor(1, [2, 3, 32]), cache);
      new SelfAttention(24).forward(randomTensor(2, [3, 24]));
    })();
    expect(usedBytes(engine)).toBeGreaterThan(before);
    // When a FinalizationRegistry's callbacks run is the engine's choice (ECMAScript promises no time): each round
    // forces a full collection and yields to the task queue, where V8 posts them. Bounded, so a leak fails.
    let rounds = 0;
    for (; rounds < 50 && usedBytes(engine) > before; rounds++) {
      gc!();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(usedBytes(engine), `memory still held after ${rounds} collections`).toBe(before);
    // The freed memory is reused, and results stay right.
    const q = randomTensor(3, [5, 8]);
    expectClose(
      'after collection',
      scaledDotProductAttention(q, q, q).output.data,
      refAttention(q, q, q).output.data,
      ATOL,
      RTOL,
    );
  });
});

describe('steady state', () => {
  it('after warm-up, 10,000 calls of mixed shapes leave linear memory at its high-water mark', () => {
    const mha = new MultiHeadAttention(24, 6, { numKVHeads: 2 });
    const sa = new SelfAttention(16);
    const cache = mha.createCache({ batch: 2, maxLength: 16 });
    const shapes = [1, 3, 7, 16, 33, 100];
    const call = (i: number) => {
      const n = shapes[i % shapes.length];
      switch (i % 7) {
        case 0:
          return scaledDotProductAttention(
            randomTensor(i, [2, n, 8]),
            randomTensor(i + 1, [2, n + 1, 8]),
            randomTensor(i + 2, [2, n + 1, 5]),
            { causal: true },
          );
        case 1:
          return scaledDotProductAttention(
            randomTensor(i, [2, n, 4]),
            randomTensor(i + 1, [2, n, 4]),
            randomTensor(i + 2, [2, n, 4]),
            { returnWeights: true },
          );
        case 2:
          return mha.forward(randomTensor(i, [1, n, 24]));
        case 3:
          return sa.forward(randomTensor(i, [n, 16]), { returnWeights: i % 2 === 0 });
        case 4:
          return matmul(randomTensor(i, [n, 9]), randomTensor(i + 1, [9, n]));
        case 5:
          return linear(randomTensor(i, [n, 6]), randomTensor(i + 1, [5, 6]));
        default: {
          if (cache.length + 2 > cache.maxLength) cache.reset();
          return mha.forwardStep(randomTensor(i, [2, 2, 24]), cache);
        }
      }
    };
    for (let i = 0; i < 7 * shapes.length * 2; i++) call(i);
    const resident = usedBytes(engine);
    const highWater = engine.memoryBytes();
    // The warm-up grew memory (weights of 2 × 100 × 100 alone are 80 KB), so the mark is a real one.
    expect(highWater).toBeGreaterThan(65536);
    for (let i = 0; i < 10_000; i++) call(i);
    expect(engine.memoryBytes()).toBe(highWater);
    expect(usedBytes(engine)).toBe(resident);
    console.log(
      `steady state: ${highWater} bytes of linear memory after warm-up and after 10,000 calls; ${resident} bytes resident (modules and cache)`,
    );
    softmax(randomTensor(1, [3, 3]));
    cache.dispose();
    mha.dispose();
    sa.dispose();
  });
});
