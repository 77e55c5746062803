// Worker mode, as in a page without cross-origin isolation: async calls run on Workers that each hold an instance with
// a memory of its own (src/runtime/threads/replica-pool.ts), sharing jobs and sending one another the rows they wrote.
// Node runs the same pool here with worker_threads; test/browser.test.ts runs it in Chromium.
import { describe, expect, it } from 'vitest';
import {
  createEngine,
  type Engine,
  matmul,
  matmulAsync,
  MultiHeadAttention,
  scaledDotProductAttention,
  scaledDotProductAttentionAsync,
  SelfAttention,
} from '../src/index.js';
import { mulberry32 } from '../src/modules/random.js';
import { runtimeOf } from '../src/runtime/engine.js';
import { gather, nextRun, scatter, share, Spares } from '../src/runtime/threads/replica-body.js';
import { HELPER_ARRAY_FLOATS } from '../src/runtime/threads/result-arrays.js';
import { type ReplicaPool, replicaPool } from '../src/runtime/threads/replica-pool.js';
import { startNodeThread, threadingForTests } from '../src/runtime/threads/threads.js';
import type { StartThread } from '../src/runtime/threads/worker-pool.js';
import { everyOp, expectResultsKept, expectSteadyMemory, expectThreadEndMidCall } from './support/every-op.js';
import { BUILD, expectAttentionError, randomTensor, usedBytes } from './helpers.js';
import { interleave } from './support/interleave.js';

const poolOf = (engine: Engine) => runtimeOf(engine).pool as unknown as ReplicaPool;

/** An engine in worker mode with `threads` replicas, sharing even small calls. */
async function replicaEngine(threads: number, start?: StartThread): Promise<Engine> {
  threadingForTests.pool = replicaPool;
  threadingForTests.start = start;
  try {
    const engine = await createEngine({ build: BUILD, threads });
    runtimeOf(engine).pool!.minSplitMadds = 2 ** 12;
    return engine;
  } finally {
    threadingForTests.pool = undefined;
    threadingForTests.start = undefined;
  }
}

describe('worker mode (replicas with memories of their own)', () => {
  it('every op, async, gives bit for bit the sync result on 1, 2 and 3 replicas, and leaves no memory held', async () => {
    for (const threads of [1, 2, 3]) {
      const engine = await replicaEngine(threads);
      expect(engine.info).toMatchObject({ threads, threading: 'workers' });
      const want = await everyOp(engine, 'sync');
      const before = runtimeOf(engine).pool!.workerUnits;
      const got = await everyOp(engine, 'async');
      expect(got.length).toBe(want.length);
      got.forEach((g, i) => expect(g, `output ${i} on ${threads} replicas`).toEqual(want[i]));
      expect(usedBytes(engine)).toBe(0);
      if (threads > 1) expect(runtimeOf(engine).pool!.workerUnits - before).toBeGreaterThan(0);
      engine.close();
    }
  });

  it('calls interleaved at random (sync and async, bad calls, resizes to 1-3 replicas, one KV cache) give one thread’s bits', async () => {
    for (const seed of [1, 2]) {
      const mix = await interleave(seed, await replicaEngine(2), 3, false);
      for (const [what, count] of Object.entries(mix)) expect(count, `${what} (seed ${seed})`).toBeGreaterThan(5);
    }
  });

  it('rows move between threads as they were: any runs (short or long, words or odd bytes, across buffers) come back bit for bit, back to back, and nothing else is written', () => {
    const random = mulberry32(7);
    const int = (n: number) => Math.floor(random() * n);
    const bytes = 3 << 18;
    const memory = new Uint8Array(bytes).map(() => int(256));
    for (let round = 0; round < 10; round++) {
      const runs: number[] = [];
      for (let i = 0; i < 100; i++) {
        const kind = int(4);
        // One head's floats of a row, odd bytes (a byte mask), a long run across buffers, an empty one.
        const n = [256, 1 + int(40), (1 << 17) + int(1 << 17), 0][kind];
        const at = kind === 0 ? 4 * int((bytes - n) / 4) : int(bytes - n);
        runs.push(at, n);
      }
      const data = gather(memory.buffer, runs, new Spares());
      const moved = new Uint8Array(data.reduce((a, b) => a + b.byteLength, 0));
      data.forEach((b, i) => moved.set(new Uint8Array(b), i * data[0].byteLength));
      const want = new Uint8Array(runs.reduce((a, n, i) => a + (i % 2 ? n : 0), 0));
      for (let i = 0, at = 0; i < runs.length; at += runs[i + 1], i += 2) {
        want.set(memory.subarray(runs[i], runs[i] + runs[i + 1]), at);
      }
      expect(moved.length - want.length, 'the last buffer, not full').toBeLessThan(data[0].byteLength);
      expect(Buffer.compare(moved.subarray(0, want.length), want), 'the runs, back to back').toBe(0);
      const into = new Uint8Array(bytes).fill(0xee);
      scatter(into.buffer, runs, data);
      const covered = new Uint8Array(bytes);
      for (let i = 0; i < runs.length; i += 2) covered.fill(1, runs[i], runs[i] + runs[i + 1]);
      let wrong = -1;
      for (let i = 0; i < bytes && wrong < 0; i++) if (into[i] !== (covered[i] ? memory[i] : 0xee)) wrong = i;
      expect(wrong, `round ${round}: the first byte scattered wrong`).toBe(-1);
    }
  });

  it("a replica starts with every replicas-th group of chunks and runs a group's chunks that are left as one", () => {
    const chunks = (total: number, chunk: number, index: number, replicas: number, group?: number) =>
      [...share(total, chunk, index, replicas, group)].map(([b]) => b);
    // Chunks alone (attention): every other one.
    expect(chunks(10, 2, 1, 2)).toEqual([2, 6]);
    // A prepacked GEMM's 4 column blocks per block of rows stay together: 2 replicas, 5 blocks of rows (20 units).
    expect(chunks(20, 1, 0, 2, 4)).toEqual([0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19]);
    expect(chunks(20, 1, 1, 2, 4)).toEqual([4, 5, 6, 7, 12, 13, 14, 15]);
    // Three replicas, and a last group cut short by the end of the job.
    expect(chunks(10, 1, 2, 3, 4)).toEqual([8, 9]);
    const left: Array<[number, number]> = [...share(20, 1, 0, 2, 4)];
    expect(nextRun(left, 1, 4)).toEqual([0, 4]);
    // A peer took units 9 and 10: the run stops where they are missing, and at the end of its group.
    left.splice(1, 2);
    expect(nextRun(left, 1, 4)).toEqual([8, 9]);
    expect(nextRun(left, 1, 4)).toEqual([11, 12]);
    expect(nextRun(left, 1, 4)).toEqual([16, 20]);
    expect(nextRun(left, 1, 4)).toBeUndefined();
    // Groups of one: a chunk at a time.
    const single: Array<[number, number]> = [...share(6, 2, 0, 1)];
    expect(nextRun(single, 2, 1)).toEqual([0, 2]);
  });

  it('a replica that runs slow gives its later chunks to the others: every op still bit for bit, on 2 and 3', async () => {
    for (const threads of [2, 3]) {
      // The last replica waits 5 ms before each chunk of its own, so the others run out first and take some.
      const slowLast: StartThread = (init, events) =>
        startNodeThread(
          init.role === 'replica' && init.index === threads - 1 ? { ...init, slowForTests: 5 } : init,
          events,
        );
      const engine = await replicaEngine(threads, slowLast);
      const want = await everyOp(engine, 'sync');
      const got = await everyOp(engine, 'async');
      got.forEach((g, i) => expect(g, `output ${i} on ${threads} replicas`).toEqual(want[i]));
      expect(poolOf(engine).stolenUnits, `units taken from the slow replica of ${threads}`).toBeGreaterThan(0);
      expect(usedBytes(engine)).toBe(0);
      engine.close();
    }
  });

  it('a result stays as it was when its call settled, on 2 replicas', async () => {
    const engine = await replicaEngine(2);
    await expectResultsKept(engine);
    engine.close();
  });

  it('the calling thread stays free while the replicas compute, and every one of them takes units', async () => {
    const engine = await replicaEngine(2);
    const x = randomTensor(1, [4, 1024, 64]);
    const want = scaledDotProductAttention(x, x, x, { engine, causal: true }).output.data;
    const before = poolOf(engine).workerUnits;
    let settled = false;
    const call = scaledDotProductAttentionAsync(x, x, x, { engine, causal: true }).finally(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    expect((await call).output.data).toEqual(want);
    expect(poolOf(engine).workerUnits - before).toBeGreaterThan(0);
    engine.close();
  });

  it('results from 64 KiB on come in arrays a replica made once it had no call to run, each given out once and filled whole: async calls with pauses or none, sync calls, across a resize', async () => {
    const one = await createEngine({ build: BUILD, threads: 1 });
    const engine = await replicaEngine(2);
    const pool = poolOf(engine);
    const xs = [51, 52, 53].map((seed) => randomTensor(seed, [2, 160, 64]));
    expect(2 * 160 * 64).toBeGreaterThanOrEqual(HELPER_ARRAY_FLOATS);
    const sync = (e: Engine, i: number) =>
      scaledDotProductAttention(xs[i % 3], xs[i % 3], xs[i % 3], { engine: e, returnWeights: true });
    const async = async (i: number) =>
      scaledDotProductAttentionAsync(xs[i % 3], xs[i % 3], xs[i % 3], { engine, returnWeights: true });
    const want = [0, 1, 2].map((i) => sync(one, i));
    const got: Array<[number, ReturnType<typeof sync>]> = [];
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    let before = pool.arraysFromHelpers;
    for (let i = 0; i < 8; i++) {
      got.push([i, await async(i)]);
      await pause(30);
    }
    // Each call's reads ask for the next call's two arrays, made once the call is done.
    expect(pool.arraysFromHelpers - before, 'arrays a replica made, of 14 asked for').toBeGreaterThanOrEqual(8);
    // Several pending at once: the arrays wait while calls are queued.
    (await Promise.all(Array.from({ length: 12 }, (_, i) => async(i)))).forEach((r, i) => got.push([i, r]));
    before = pool.arraysFromHelpers;
    for (let i = 0; i < 6; i++) {
      got.push([i, sync(engine, i)]);
      await pause(30);
    }
    expect(pool.arraysFromHelpers - before, 'sync calls take them too').toBeGreaterThanOrEqual(4);
    pool.resize(1);
    for (let i = 0; i < 3; i++) got.push([i, await async(i)]);
    pool.resize(2);
    for (let i = 0; i < 6; i++) {
      got.push([i, await async(i)]);
      await pause(5);
    }
    // Checked only after every call: an array given out twice would now hold a later call's values.
    got.forEach(([i, r], n) => {
      expect(r.output.data, `call ${n}`).toEqual(want[i % 3].output.data);
      expect(r.weights.data, `call ${n}`).toEqual(want[i % 3].weights.data);
    });
    const buffers = got.flatMap(([, r]) => [r.output.data.buffer, r.weights.data.buffer]);
    expect(new Set(buffers).size, 'every result has a buffer of its own').toBe(buffers.length);
    one.close();
    engine.close();
  });

  it('a sync call that reads a cache an async step is still writing fails clearly; other sync calls meanwhile are right', async () => {
    const engine = await replicaEngine(2);
    const m = new MultiHeadAttention(64, 4, { seed: 2, engine });
    const plain = new MultiHeadAttention(64, 4, { seed: 2, engine });
    const [a, b] = [randomTensor(3, [1, 40, 64]), randomTensor(4, [1, 1, 64])];
    const wantCache = plain.createCache({ batch: 1, maxLength: 50 });
    const want = [plain.forwardStep(a, wantCache).output.data, plain.forwardStep(b, wantCache).output.data];
    const cache = m.createCache({ batch: 1, maxLength: 50 });
    const first = m.forwardStepAsync(a, cache);
    const y = randomTensor(5, [30, 64]);
    // Unrelated work is fine, sync or async, and so is making a module.
    expect(scaledDotProductAttention(y, y, y, { engine }).output.data).toEqual(
      scaledDotProductAttention(y, y, y, { engine: await createEngine({ build: BUILD }) }).output.data,
    );
    const other = new SelfAttention(64, { seed: 9, engine });
    expectAttentionError(
      () => m.forwardStep(b, cache),
      'BAD_ARGUMENT',
      /async calls still pending on this engine write \(a KV cache's rows\).*await them first/,
    );
    expect(cache.length).toBe(40);
    expect((await first).output.data).toEqual(want[0]);
    expect(m.forwardStep(b, cache).output.data).toEqual(want[1]);
    for (const d of [other, m, plain, cache, wantCache]) d.dispose();
    expect(usedBytes(engine)).toBe(0);
    engine.close();
  });

  it('a replica that ends mid-call rejects the pending calls with WORKER_FAILED, and the engine goes on with new ones', async () => {
    const engine = await replicaEngine(2);
    await expectThreadEndMidCall(engine, () => poolOf(engine).replicas[1]!.terminate());
    expect(engine.info).toMatchObject({ threads: 2, threading: 'workers' });
    engine.close();
  });

  it('where no replica can start, async calls run on the calling thread and engine.info says one thread', async () => {
    const failing: StartThread = (_init, events) => {
      const timer = setTimeout(() => events.gone(new Error('a worker failed: its script did not load')), 5);
      return { post: () => {}, terminate: () => clearTimeout(timer), keepAlive: () => {} };
    };
    const engine = await replicaEngine(2, failing);
    const a = randomTensor(1, [70, 33]);
    const b = randomTensor(2, [33, 50]);
    // Calls pending when the replicas are found not to start run here instead, each job a chunk at a time with the
    // scratch recorded for a chunk: a projection cut into 4 units a thread (run whole it would pack all 512 rows of
    // its input into the scratch of 64 and write past it) and an attention job.
    const m = new MultiHeadAttention(64, 4, { seed: 8, engine });
    const x = randomTensor(3, [1, 512, 64]);
    const q = randomTensor(4, [2, 300, 16]);
    const [mm, mha, sdpa] = await Promise.all([
      matmulAsync(a, b, { engine }),
      m.forwardAsync(x, x, x, { needWeights: false }),
      scaledDotProductAttentionAsync(q, q, q, { engine }),
    ]);
    expect(mm.data).toEqual(matmul(a, b, { engine }).data);
    const plain = await createEngine({ build: BUILD });
    const want = new MultiHeadAttention(64, 4, { seed: 8, engine: plain }).forward(x, x, x, { needWeights: false });
    expect(mha.output.data).toEqual(want.output.data);
    expect(m.forward(x, x, x, { needWeights: false }).output.data, 'its weights intact').toEqual(want.output.data);
    expect(sdpa.output.data).toEqual(scaledDotProductAttention(q, q, q, { engine: plain }).output.data);
    m.dispose();
    expect(engine.info).toMatchObject({ threads: 1, threading: 'none' });
    expect((await matmulAsync(a, b, { engine })).data).toEqual(matmul(a, b, { engine }).data);
    expect(usedBytes(engine)).toBe(0);
    engine.close();
  });

  it('memory stays at its high-water mark over many async calls', async () => {
    const engine = await replicaEngine(2);
    await expectSteadyMemory(engine);
    engine.close();
  });

  it('a forgotten engine ends its replicas once garbage-collected', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'tests run with --expose-gc').toBeTypeOf('function');
    // In a function of its own, so that nothing here holds the engine once its call is done: only its pool.
    const forget = async () => {
      const engine = await replicaEngine(2);
      const x = randomTensor(5, [64, 32]);
      await scaledDotProductAttentionAsync(x, x, x, { engine });
      return poolOf(engine);
    };
    const pool = await forget();
    expect(pool.replicas.filter(Boolean).length).toBe(2);
    for (let i = 0; i < 50 && pool.replicas.length > 0; i++) {
      gc!();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(pool.replicas.length, 'its replicas ended').toBe(0);
  });

  it('fewer replicas asked for while a call is pending: the call is right, and the new count holds after it', async () => {
    const engine = await replicaEngine(3);
    const x = randomTensor(4, [4, 512, 64]);
    const want = scaledDotProductAttention(x, x, x, { engine, causal: true }).output.data;
    const pending = scaledDotProductAttentionAsync(x, x, x, { engine, causal: true });
    poolOf(engine).resize(2);
    expect((await pending).output.data).toEqual(want);
    expect(engine.info.threads).toBe(2);
    expect((await scaledDotProductAttentionAsync(x, x, x, { engine, causal: true })).output.data).toEqual(want);
    engine.close();
  });
});
