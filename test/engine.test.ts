// Loading: NOT_INITIALIZED before init, one shared instantiation, build choice, wasm sources, memory bookkeeping.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AttentionError, getEngine, init, initSync, scaledDotProductAttention, softmax } from '../src/index.js';
import { supportsRelaxedSimd } from '../src/features.js';
import { refAttention } from '../src/reference.js';
import { BUILD, expectAttentionError, expectClose, randomTensor } from './helpers.js';

const wasmUrl = new URL(`../build/${BUILD}.wasm`, import.meta.url);

/** A small attention call checked against the reference: proves an engine computes right. */
function expectWorkingAttention(): void {
  const q = randomTensor(1, [2, 5, 8]);
  const k = randomTensor(2, [2, 6, 8]);
  const v = randomTensor(3, [2, 6, 3]);
  const got = scaledDotProductAttention(q, k, v, { causal: true });
  expectClose('output', got.output.data, refAttention(q, k, v, { causal: true }).output.data, 2e-5, 1e-4);
}

describe('before init', () => {
  // This file's module graph is fresh (vitest isolates files), so nothing has initialised it yet.
  it('every op throws NOT_INITIALIZED', () => {
    expectAttentionError(() => softmax(randomTensor(1, [2, 3])), 'NOT_INITIALIZED', /call `await init\(\)`/);
    expectAttentionError(() => getEngine(), 'NOT_INITIALIZED', /init/);
  });
});

describe('init', () => {
  it('concurrent calls share one instantiation, and later calls return the same engine', async () => {
    const [a, b, c] = await Promise.all([init({ build: BUILD }), init(), init()]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(await init()).toBe(a);
    expect(getEngine()).toBe(a);
    expect(a.info.build).toBe(BUILD);
    expectWorkingAttention();
  });

  it('picks relaxed SIMD exactly where the runtime validates it', async () => {
    const supported = supportsRelaxedSimd();
    // The relaxed project runs with --experimental-wasm-relaxed-simd; Node 20 validates it only then.
    if (BUILD === 'relaxed-simd') expect(supported).toBe(true);
    const auto = await init({ maxMemoryBytes: 1 << 30 });
    expect(auto.info.relaxedSimdSupported).toBe(supported);
    expect(auto.info.build).toBe(supported ? 'relaxed-simd' : 'simd');
    expectWorkingAttention();
    if (!supported) {
      await expect(init({ build: 'relaxed-simd' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: /relaxed SIMD/ });
    }
    await init({ build: BUILD, maxMemoryBytes: 1 << 30 });
  });

  it('rejects an unknown build by name', async () => {
    await expect(init({ build: 'sse' as never })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: /options.build must be 'simd' or 'relaxed-simd', got sse/ });
  });

  it('loads from bytes, a file URL, a compiled Module, and synchronously', async () => {
    const bytes = readFileSync(wasmUrl);
    for (const wasm of [bytes, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), wasmUrl, wasmUrl.href, new WebAssembly.Module(bytes)]) {
      const engine = await init({ build: BUILD, wasm });
      expect(getEngine()).toBe(engine);
      expectWorkingAttention();
    }
    const sync = initSync(bytes);
    expect(getEngine()).toBe(sync);
    expectWorkingAttention();
    expect(initSync()).toBe(sync);
    expect(initSync({ build: BUILD, wasm: new WebAssembly.Module(bytes) }).info.build).toBe(BUILD);
    expectWorkingAttention();
  });
});

describe('memory', () => {
  it('grows for a large call, stays right after growth, and reaches a steady state', async () => {
    const engine = await init({ build: BUILD, maxMemoryBytes: 1 << 30 });
    const before = engine.memoryBytes();
    const n = 600;
    const q = randomTensor(5, [n, 64]);
    const big = scaledDotProductAttention(q, q, q, { returnWeights: true });
    const grown = engine.memoryBytes();
    expect(grown).toBeGreaterThan(before);
    expect(engine.usedBytes()).toBe(0);
    // After growth the old views are detached: small calls must still read and write the right bytes.
    expectWorkingAttention();
    const again = scaledDotProductAttention(q, q, q, { returnWeights: true });
    expect(Array.from(again.output.data.subarray(0, 64))).toEqual(Array.from(big.output.data.subarray(0, 64)));
    for (let i = 0; i < 50; i++) {
      scaledDotProductAttention(randomTensor(i, [1 + (i % 7), 3 + (i % 5), 8]), randomTensor(i + 1, [1, 4, 8]), randomTensor(i + 2, [1, 4, 5]), { causal: i % 2 === 0 });
    }
    expect(engine.memoryBytes()).toBe(grown);
    expect(engine.usedBytes()).toBe(0);
  });

  it('a request past maxMemoryBytes is OUT_OF_MEMORY with the byte count, and the engine still works', async () => {
    const engine = await init({ build: BUILD, maxMemoryBytes: 4 << 20 });
    const q = randomTensor(6, [1000, 64]);
    try {
      scaledDotProductAttention(q, q, q, { returnWeights: true });
      expect.fail('expected OUT_OF_MEMORY');
    } catch (e) {
      expect(e).toBeInstanceOf(AttentionError);
      expect((e as AttentionError).code).toBe('OUT_OF_MEMORY');
      expect((e as Error).message).toMatch(/needs \d+ .*bytes .*past the limit of 4194304 bytes; without weights \(options.returnWeights: false\) the call needs \d+ bytes, which fits/);
    }
    // As the message says, the fused path fits.
    const fused = scaledDotProductAttention(q, q, q);
    expect(fused.output.shape).toEqual([1000, 64]);
    expect(engine.usedBytes()).toBe(0);
    expect(engine.memoryBytes()).toBeLessThanOrEqual(4 << 20);
    expectWorkingAttention();
  });
});
