// What the async tests of both pools share: every op, sync or async, on one engine; steady memory over many calls; a
// thread ending mid-call.
import { expect } from 'vitest';
import {
  type Engine,
  linear,
  linearAsync,
  matmul,
  matmulAsync,
  MultiHeadAttention,
  scaledDotProductAttention,
  scaledDotProductAttentionAsync,
  SelfAttention,
  type Tensor,
} from '../../src/index.js';
import { mulberry32 } from '../../src/modules/random.js';
import { randomTensor, usedBytes } from '../helpers.js';

/** Every op, sync or async, on one engine: the outputs in order (async ones all started before any is awaited). */
export async function everyOp(engine: Engine, mode: 'sync' | 'async'): Promise<Float32Array[]> {
  const rand = mulberry32(5);
  const mask = {
    data: Float32Array.from({ length: 150 * 133 }, () => (rand() < 0.1 ? -Infinity : rand())),
    shape: [150, 133],
  };
  const boolMask = { data: Uint8Array.from({ length: 3 * 133 }, () => (rand() < 0.8 ? 1 : 0)), shape: [3, 1, 133] };
  const q = randomTensor(1, [3, 150, 40]);
  const k = randomTensor(2, [3, 133, 40]);
  const v = randomTensor(3, [1, 133, 23]);
  const big = randomTensor(4, [300, 64]);
  const a = mode === 'async';
  const sdpa = (opts: Parameters<typeof scaledDotProductAttention>[3] & object, x = q, y = k, z = v) =>
    a
      ? scaledDotProductAttentionAsync(x, y, z, { ...opts, engine })
      : scaledDotProductAttention(x, y, z, { ...opts, engine });
  const results: Array<
    Promise<{ output: Tensor; weights?: Tensor } | Tensor> | { output: Tensor; weights?: Tensor } | Tensor
  > = [];
  for (const returnWeights of [false, true]) {
    for (const causal of [false, true]) results.push(sdpa({ causal, returnWeights, mask }));
    results.push(sdpa({ returnWeights, mask: boolMask }));
  }
  results.push(sdpa({ causal: true }, big, big, big));
  // A mask that varies over batch but not heads: one pass is two kernel runs, each with its own descriptor.
  const mask4 = {
    data: Float32Array.from({ length: 2 * 40 * 37 }, () => (rand() < 0.2 ? -Infinity : 0)),
    shape: [2, 1, 40, 37],
  };
  for (const returnWeights of [false, true])
    results.push(
      sdpa(
        { mask: mask4, returnWeights },
        randomTensor(18, [2, 3, 40, 16]),
        randomTensor(19, [2, 3, 37, 16]),
        randomTensor(20, [2, 3, 37, 8]),
      ),
    );
  results.push(sdpa({}, randomTensor(14, [1, 5]), randomTensor(15, [1, 5]), randomTensor(16, [1, 3])));
  const mm = a ? matmulAsync : matmul;
  results.push(mm(randomTensor(5, [3, 97, 130]), randomTensor(6, [130, 71]), { engine }));
  results.push(mm(big, big, { transposeB: true, engine }));
  results.push(
    (a ? linearAsync : linear)(randomTensor(7, [259, 96]), randomTensor(8, [77, 96]), randomTensor(9, [77]), {
      engine,
    }),
  );
  const mha = new MultiHeadAttention(96, 6, { numKVHeads: 2, seed: 3, engine });
  const x = randomTensor(10, [2, 70, 96]);
  results.push(
    a
      ? mha.forwardAsync(x, x, x, { causal: true, averageWeights: false })
      : mha.forward(x, x, x, { causal: true, averageWeights: false }),
  );
  const y = randomTensor(17, [2, 33, 40]);
  const cross = new MultiHeadAttention(96, 6, { kdim: 40, vdim: 40, seed: 6, engine });
  results.push(a ? cross.forwardAsync(x, y, y) : cross.forward(x, y, y));
  const cache = mha.createCache({ batch: 2, maxLength: 80 });
  for (const [seed, t] of [
    [11, 60],
    [12, 1],
    [13, 3],
  ]) {
    const step = randomTensor(seed, [2, t, 96]);
    results.push(a ? mha.forwardStepAsync(step, cache) : mha.forwardStep(step, cache));
  }
  const sa = new SelfAttention(128, { seed: 4, engine });
  results.push(a ? sa.forwardAsync(randomTensor(13, [130, 128])) : sa.forward(randomTensor(13, [130, 128])));
  const out: Float32Array[] = [];
  for (const r of await Promise.all(results)) {
    if ('data' in r) out.push(r.data);
    else {
      out.push(r.output.data);
      if (r.weights) out.push(r.weights.data);
    }
  }
  expect(cache.length).toBe(64);
  for (const d of [cache, mha, cross, sa]) d.dispose();
  return out;
}

/**
 * Async calls from a tiny one to SDPA 512×64, each awaited alone: the result is the sync call's, and it stays so after
 * the call has settled (nothing the call left behind, such as touching its result arrays' pages, writes them later).
 */
export async function expectResultsKept(engine: Engine): Promise<void> {
  for (const [i, n] of [2, 10, 64, 300, 512].entries()) {
    const [q, k, v] = [randomTensor(30 + i, [n, 64]), randomTensor(40 + i, [n, 64]), randomTensor(50 + i, [n, 64])];
    const want = scaledDotProductAttention(q, k, v, { engine, returnWeights: true });
    const got = await scaledDotProductAttentionAsync(q, k, v, { engine, returnWeights: true });
    const [output, weights] = [got.output.data.slice(), got.weights.data.slice()];
    expect(output, `output of ${n}×64 when the call settles`).toEqual(want.output.data);
    expect(weights, `weights of ${n}×64 when the call settles`).toEqual(want.weights.data);
    // Timers and messages of the call's, if any were left, run by now.
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(got.output.data, `output of ${n}×64 after the call`).toEqual(output);
    expect(got.weights.data, `weights of ${n}×64 after the call`).toEqual(weights);
  }
}

/** 320 async calls of varying shapes and options, each awaited: memory stays at the high-water mark of the first 20. */
export async function expectSteadyMemory(engine: Engine): Promise<void> {
  const call = (i: number) => {
    const n = 64 + (i % 5) * 40;
    return scaledDotProductAttentionAsync(
      randomTensor(i, [n, 64]),
      randomTensor(i + 1, [n, 64]),
      randomTensor(i + 2, [n, 32]),
      { causal: i % 2 === 0, returnWeights: i % 3 === 0, engine },
    );
  };
  for (let i = 0; i < 20; i++) await call(i);
  const high = engine.memoryBytes();
  for (let i = 0; i < 300; i++) await call(i);
  expect(engine.memoryBytes()).toBe(high);
  expect(usedBytes(engine)).toBe(0);
}

/**
 * Two async calls pending (one a cache step) when `end` ends one of the pool's threads: both reject WORKER_FAILED,
 * the step is not counted, memory is released, and later calls, sync and async, are right.
 */
export async function expectThreadEndMidCall(engine: Engine, end: () => void): Promise<void> {
  const x = randomTensor(4, [8, 1024, 64]);
  const sa = new SelfAttention(64, { seed: 1, engine });
  const c = sa.createCache({ batch: 1, maxLength: 10 });
  const pending = [
    scaledDotProductAttentionAsync(x, x, x, { engine, returnWeights: true }),
    sa.forwardStepAsync(randomTensor(5, [4, 64]), c),
  ];
  expect(c.length).toBe(4);
  end();
  for (const p of pending)
    await expect(p).rejects.toMatchObject({ code: 'WORKER_FAILED', message: /the engine goes on/ });
  // The failed step's tokens are not counted; its memory and every call's are released.
  expect(c.length).toBe(0);
  const step = randomTensor(6, [3, 64]);
  const wantStep = sa.forwardStep(step, c).output.data;
  c.reset();
  expect((await sa.forwardStepAsync(step, c)).output.data).toEqual(wantStep);
  c.dispose();
  sa.dispose();
  expect(usedBytes(engine)).toBe(0);
  const y = randomTensor(6, [200, 64]);
  const sync = scaledDotProductAttention(y, y, y, { engine, causal: true }).output.data;
  expect((await scaledDotProductAttentionAsync(y, y, y, { engine, causal: true })).output.data).toEqual(sync);
}
