// Loading: NOT_INITIALIZED before init, one default engine set once, engines of their own, build choice, wasm
// sources (and the errors of bad ones), memory bookkeeping.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AttentionError,
  createEngine,
  type Engine,
  getEngine,
  init,
  initSync,
  linear,
  linearAsync,
  matmul,
  matmulAsync,
  MultiHeadAttention,
  scaledDotProductAttention,
  scaledDotProductAttentionAsync,
  SelfAttention,
  softmax,
} from '../src/index.js';
import { runtimeOf } from '../src/runtime/engine.js';
import { supportsRelaxedSimd } from '../src/runtime/features.js';
import { refAttention } from '../src/reference.js';
import { BUILD, expectAttentionError, expectClose, randomTensor, usedBytes, ATOL, RTOL } from './helpers.js';

const wasmUrl = new URL(`../build/${BUILD}.wasm`, import.meta.url);
const OTHER = BUILD === 'simd' ? 'relaxed-simd' : 'simd';
/** The oracle for relaxed SIMD, independent of the library's probe: whether this runtime compiles the relaxed build. */
const runtimeHasRelaxed = WebAssembly.validate(readFileSync(new URL('../build/relaxed-simd.wasm', import.meta.url)));

/** A small attention call checked against the reference: proves an engine (default: the default one) computes right. */
function expectWorkingAttention(engine?: Engine): void {
  const q = randomTensor(1, [2, 5, 8]);
  const k = randomTensor(2, [2, 6, 8]);
  const v = randomTensor(3, [2, 6, 3]);
  const got = scaledDotProductAttention(q, k, v, { causal: true, engine });
  expectClose('output', got.output.data, refAttention(q, k, v, { causal: true }).output.data, ATOL, RTOL);
}

describe('before init', () => {
  // This file's module graph is fresh (vitest isolates files), so nothing has initialised it yet.
  it('every op throws NOT_INITIALIZED (the async twins reject with it)', async () => {
    const x = randomTensor(1, [2, 4]);
    const sync: Array<[string, () => unknown]> = [
      ['softmax', () => softmax(x)],
      ['scaledDotProductAttention', () => scaledDotProductAttention(x, x, x)],
      ['matmul', () => matmul(x, x, { transposeB: true })],
      ['linear', () => linear(x, x)],
      ['new SelfAttention', () => new SelfAttention(4)],
      ['new MultiHeadAttention', () => new MultiHeadAttention(4, 2)],
    ];
    for (const [, call] of sync) expectAttentionError(call, 'NOT_INITIALIZED', /call `await init\(\)`/);
    for (const pending of [
      scaledDotProductAttentionAsync(x, x, x),
      matmulAsync(x, x, { transposeB: true }),
      linearAsync(x, x),
    ]) {
      await expect(pending).rejects.toMatchObject({ code: 'NOT_INITIALIZED' });
    }
    expectAttentionError(() => getEngine(), 'NOT_INITIALIZED', /init/);
    // A URL cannot be loaded synchronously; the failed call leaves no default engine behind.
    expectAttentionError(
      () => initSync({ wasm: wasmUrl }),
      'BAD_ARGUMENT',
      /initSync needs bytes or a WebAssembly.Module/,
    );
    expectAttentionError(() => getEngine(), 'NOT_INITIALIZED', /init/);
  });

  it('a call asking for another configuration while the default engine loads fails, and the load goes on untouched', async () => {
    const loading = init({ build: BUILD });
    expectAttentionError(
      () => initSync({ build: BUILD, maxMemoryBytes: 1 << 20 }),
      'BAD_ARGUMENT',
      /the default engine is .* maxMemoryBytes 4227858432; for another, use createEngine/,
    );
    await expect(init({ maxMemoryBytes: 1 << 20 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    const engine = await loading;
    expect(engine.info).toMatchObject({ build: BUILD, maxMemoryBytes: 4227858432 });
    expect(getEngine()).toBe(engine);
  });
});

describe('init', () => {
  it('concurrent calls share one instantiation, and later calls return the same engine', async () => {
    const [a, b, c] = await Promise.all([init({ build: BUILD }), init(), init()]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(await init()).toBe(a);
    expect(getEngine()).toBe(a);
    expect(initSync()).toBe(a);
    expect(initSync(readFileSync(wasmUrl))).toBe(a);
    expect(a.info.build).toBe(BUILD);
    expectWorkingAttention();
  });

  it('the default engine is set once: another build or memory limit is BAD_ARGUMENT and changes nothing', async () => {
    const before = getEngine();
    await expect(init({ maxMemoryBytes: 4 << 20 })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: /createEngine\(options\) and pass options.engine/,
    });
    expectAttentionError(() => initSync({ maxMemoryBytes: 4 << 20 }), 'BAD_ARGUMENT', /the default engine is/);
    if (runtimeHasRelaxed) await expect(init({ build: OTHER })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(getEngine()).toBe(before);
    expect(before.info.maxMemoryBytes).toBe(4227858432);
    expectWorkingAttention();
  });

  it('engines of their own: createEngine never changes the default, and options.engine picks one per call', async () => {
    const small = await createEngine({ build: BUILD, maxMemoryBytes: 4 << 20 });
    expect(small).not.toBe(getEngine());
    expect(small.info.maxMemoryBytes).toBe(4 << 20);
    expect(await init()).toBe(getEngine());
    expectWorkingAttention(small);
    const q = randomTensor(6, [1000, 64]);
    expect(() => scaledDotProductAttention(q, q, q, { returnWeights: true, engine: small })).toThrow(
      /OUT_OF_MEMORY|past the limit of 4194304/,
    );
    // The default engine has its own, larger limit.
    expect(scaledDotProductAttention(q, q, q, { returnWeights: true }).weights.shape).toEqual([1000, 1000]);
    expectAttentionError(
      () => softmax(q, { engine: {} as Engine }),
      'BAD_ARGUMENT',
      /options.engine must be an Engine, got an object/,
    );
  });

  it('picks relaxed SIMD exactly where the runtime validates it', async () => {
    const supported = runtimeHasRelaxed;
    expect(supportsRelaxedSimd()).toBe(supported);
    // The relaxed project runs with --experimental-wasm-relaxed-simd; Node 20 has it only then, Node 22+ always.
    if (BUILD === 'relaxed-simd' || Number(process.versions.node.split('.')[0]) >= 22) expect(supported).toBe(true);
    else expect(supported).toBe(false);
    const auto = await createEngine({ maxMemoryBytes: 1 << 30 });
    expect(auto.info.relaxedSimdSupported).toBe(supported);
    expect(auto.info.build).toBe(supported ? 'relaxed-simd' : 'simd');
    expectWorkingAttention(auto);
    if (!supported) {
      await expect(createEngine({ build: 'relaxed-simd' })).rejects.toMatchObject({
        code: 'BAD_ARGUMENT',
        message: /relaxed SIMD/,
      });
    }
  });

  it('rejects an unknown build by name', async () => {
    await expect(createEngine({ build: 'sse' as never })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: /options.build must be 'simd' or 'relaxed-simd', got "sse"/,
    });
  });

  it("loads from bytes, a file URL, a compiled Module, and synchronously; info.build is the module's own", async () => {
    const bytes = readFileSync(wasmUrl);
    for (const wasm of [
      bytes,
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      wasmUrl,
      wasmUrl.href,
      new WebAssembly.Module(bytes),
    ]) {
      const engine = await createEngine({ wasm });
      expect(engine.info.build).toBe(BUILD);
      expectWorkingAttention(engine);
    }
    expectWorkingAttention(await createEngine({ build: BUILD }));
  });

  it('bad sources are BAD_ARGUMENT naming what failed, never a raw error', async () => {
    const bad = async (wasm: unknown, message: RegExp) => {
      await expect(createEngine({ wasm: wasm as never })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message });
    };
    await bad('build/simd.wasm', /options.wasm must be an absolute URL, got "build\/simd.wasm"/);
    await bad(new URL('file:///nonexistent/simd.wasm'), /loading the wasm failed \(Error: ENOENT/);
    await bad(new Uint8Array([1, 2, 3]), /loading the wasm failed \(CompileError/);
    // A valid module that is not ours: the empty module.
    await bad(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]), /options.wasm is not wasm-attention's module/);
    await bad(42, /got 42/);
    const other = readFileSync(new URL(`../build/${OTHER}.wasm`, import.meta.url));
    if (supportsRelaxedSimd()) {
      await expect(createEngine({ build: BUILD, wasm: other })).rejects.toMatchObject({
        message: new RegExp(`options.build is '${BUILD}' but options.wasm holds the '${OTHER}' build`),
      });
    }
    expectAttentionError(() => initSync(null as never), 'BAD_ARGUMENT', /options must be an options object, got null/);
    expect(() => initSync({ build: BUILD, wasm: wasmUrl })).not.toThrow(); // the default engine exists: nothing to load

    await expect(init({ wsam: 1 } as never)).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: /unknown key 'wsam'; accepted: build, wasm, maxMemoryBytes/,
    });
    expectWorkingAttention();
  });
});

describe('memory', () => {
  it('grows for a large call, stays right after growth, and reaches a steady state', async () => {
    const engine = await createEngine({ build: BUILD, maxMemoryBytes: 1 << 30 });
    const before = engine.memoryBytes();
    const n = 600;
    const q = randomTensor(5, [n, 64]);
    const big = scaledDotProductAttention(q, q, q, { returnWeights: true, engine });
    const grown = engine.memoryBytes();
    expect(grown).toBeGreaterThan(before);
    expect(usedBytes(engine)).toBe(0);
    // After growth the old views are detached: small calls must still read and write the right bytes.
    expectWorkingAttention(engine);
    const again = scaledDotProductAttention(q, q, q, { returnWeights: true, engine });
    expect(Array.from(again.output.data.subarray(0, 64))).toEqual(Array.from(big.output.data.subarray(0, 64)));
    for (let i = 0; i < 50; i++) {
      scaledDotProductAttention(
        randomTensor(i, [1 + (i % 7), 3 + (i % 5), 8]),
        randomTensor(i + 1, [1, 4, 8]),
        randomTensor(i + 2, [1, 4, 5]),
        { causal: i % 2 === 0, engine },
      );
    }
    expect(engine.memoryBytes()).toBe(grown);
    expect(usedBytes(engine)).toBe(0);
  });

  it('a new engine runs its kernels once on a small problem (V8 then optimises them), unless its limit is under 1 MiB', async () => {
    // The warm-up works in a block of the heap: the memory has grown to hold it, and none of it is left in use.
    const engine = await createEngine({ build: BUILD });
    const { kernels } = runtimeOf(engine);
    expect(engine.memoryBytes()).toBeGreaterThan(kernels.heap_base() + kernels.warm_up_floats() * 4);
    expect(usedBytes(engine)).toBe(0);
    expectWorkingAttention(engine);
    // Under 1 MiB the engine starts without it (a limit of one page has no room for it) and computes within its limit.
    for (const limit of [65536, 2 ** 20 - 65536]) {
      const small = await createEngine({ build: BUILD, maxMemoryBytes: limit });
      expect(small.memoryBytes()).toBe(65536);
      expectWorkingAttention(small);
      expect(usedBytes(small)).toBe(0);
    }
  });

  it('a request past maxMemoryBytes is OUT_OF_MEMORY with the byte count, and the engine still works', async () => {
    const engine = await createEngine({ build: BUILD, maxMemoryBytes: 4 << 20 });
    const q = randomTensor(6, [1000, 64]);
    try {
      scaledDotProductAttention(q, q, q, { returnWeights: true, engine });
      expect.fail('expected OUT_OF_MEMORY');
    } catch (e) {
      expect(e).toBeInstanceOf(AttentionError);
      expect((e as AttentionError).code).toBe('OUT_OF_MEMORY');
      expect((e as Error).message).toMatch(
        /needs \d+ .*bytes .*past the limit of 4194304 bytes; without weights \(options.returnWeights: false\) the call needs \d+ bytes, which fits/,
      );
    }
    // As the message says, the fused path fits.
    const fused = scaledDotProductAttention(q, q, q, { engine });
    expect(fused.output.shape).toEqual([1000, 64]);
    expect(usedBytes(engine)).toBe(0);
    expect(engine.memoryBytes()).toBeLessThanOrEqual(4 << 20);
    expectWorkingAttention(engine);
  });
});
