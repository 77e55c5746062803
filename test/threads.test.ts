// Threads in Node: one shared memory, workers claiming work units. Results are bit-for-bit those of one thread on
// every op, calls really are shared, failures are WORKER_FAILED with the engine going on, and a process that
// never calls close() still exits.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  createEngine,
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
} from '../src/index.js';
import { runtimeOf } from '../src/runtime/engine.js';
import { mulberry32 } from '../src/modules/random.js';
import {
  claimSize,
  CONTROL_SLOTS,
  JOB,
  LONG_SLEEP_MS,
  MIN_SPLIT_MADDS,
  MIN_SPLIT_MADDS_SHARED,
  type Pool,
  runUnits,
  seeMemory,
  SHARE_ASLEEP_MADDS,
  SLOT,
} from '../src/runtime/threads/thread-jobs.js';
import { HELPER_ARRAY_FLOATS } from '../src/runtime/threads/result-arrays.js';
import { LEARNT_BELOW, TURN } from '../src/runtime/threads/split-gains.js';
import { startNodeThread, threadingForTests } from '../src/runtime/threads/threads.js';
import type { WorkerPool } from '../src/runtime/threads/worker-pool.js';
import { BUILD, sharingEngine, expectAttentionError, randomTensor, runScript, usedBytes } from './helpers.js';

const poolOf = (engine: Engine): Pool => runtimeOf(engine).pool!;

/** Every op on one engine, at sizes past the split threshold and at odd sizes: the outputs, in order. */
function everyOp(engine: Engine): Float32Array[] {
  const rand = mulberry32(5);
  const mask = {
    data: Float32Array.from({ length: 150 * 133 }, () => (rand() < 0.1 ? -Infinity : rand())),
    shape: [150, 133],
  };
  const q = randomTensor(1, [2, 150, 40]);
  const k = randomTensor(2, [2, 133, 40]);
  const v = randomTensor(3, [2, 133, 24]);
  const big = randomTensor(4, [300, 64]);
  const out: Float32Array[] = [];
  for (const returnWeights of [false, true]) {
    for (const causal of [false, true]) {
      const r = scaledDotProductAttention(q, k, v, { causal, returnWeights, mask, engine });
      out.push(r.output.data);
      if (r.weights) out.push(r.weights.data);
    }
  }
  out.push(scaledDotProductAttention(big, big, big, { causal: true, engine }).output.data);
  out.push(matmul(randomTensor(5, [3, 97, 130]), randomTensor(6, [130, 71]), { engine }).data);
  out.push(matmul(big, big, { transposeB: true, engine }).data);
  out.push(linear(randomTensor(7, [259, 96]), randomTensor(8, [77, 96]), randomTensor(9, [77]), { engine }).data);
  const mha = new MultiHeadAttention(96, 6, { numKVHeads: 2, seed: 3, engine });
  const x = randomTensor(10, [2, 70, 96]);
  const r = mha.forward(x, x, x, { causal: true, averageWeights: false });
  out.push(r.output.data, r.weights.data);
  const cache = mha.createCache({ batch: 2, maxLength: 80 });
  out.push(mha.forwardStep(randomTensor(11, [2, 60, 96]), cache).output.data);
  out.push(mha.forwardStep(randomTensor(12, [2, 1, 96]), cache, { needWeights: false }).output.data);
  cache.dispose();
  mha.dispose();
  // One token's projections are cut by columns, here with a last panel of B 4 columns wide (100 = 12 · 8 + 4).
  const odd = new MultiHeadAttention(100, 4, { seed: 6, engine });
  const oddCache = odd.createCache({ batch: 1, maxLength: 8 });
  out.push(odd.forwardStep(randomTensor(14, [1, 3, 100]), oddCache).output.data);
  out.push(odd.forwardStep(randomTensor(15, [1, 1, 100]), oddCache).output.data);
  oddCache.dispose();
  odd.dispose();
  const sa = new SelfAttention(128, { seed: 4, engine });
  out.push(sa.forward(randomTensor(13, [130, 128])).output.data);
  sa.dispose();
  return out;
}

/** Counts the jobs `engine`'s calls open from now on (units shared by the caller and the workers). */
function countJobs(engine: Engine): () => number {
  const pool = poolOf(engine) as unknown as { run: (...a: unknown[]) => void };
  const run = pool.run.bind(pool);
  let jobs = 0;
  pool.run = (...a) => {
    jobs++;
    run(...a);
  };
  return () => jobs;
}

/** Waits until the pool's workers take part in calls (they start a few tens of ms after init). */
async function untilShared(engine: Engine): Promise<void> {
  const x = randomTensor(20, [256, 64]);
  for (let i = 0; i < 200 && poolOf(engine).workerUnits === 0; i++) {
    scaledDotProductAttention(x, x, x, { engine });
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(poolOf(engine).workerUnits, 'workers computed some units').toBeGreaterThan(0);
}

describe('threads (Node, shared memory)', () => {
  it('engine.info says what runs; init again resizes, close() ends the workers', async () => {
    const engine = await sharingEngine(3);
    expect(engine.info).toMatchObject({ build: BUILD, threads: 3, threading: 'shared-memory' });
    poolOf(engine).resize(2);
    expect(engine.info.threads).toBe(2);
    engine.close();
    expect(engine.info.threads).toBe(1);
    const x = randomTensor(1, [4, 8]);
    expect(scaledDotProductAttention(x, x, x, { engine }).output.shape).toEqual([4, 8]);
    const auto = await createEngine({ build: BUILD, threads: 'auto' });
    expect(auto.info.threads).toBe(Math.min(availableParallelism(), 8));
    auto.close();
    await expect(createEngine({ threads: 0 })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: /options.threads \(or 'auto'\) must be a positive integer, got 0/,
    });
    await expect(createEngine({ threads: 'all' as never })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: /got "all"/,
    });
  });

  it('an engine computes on a memory of its own until threads first need a shared one, then moves there with its data', async () => {
    const [x, next] = [randomTensor(7, [1, 6, 32]), randomTensor(8, [1, 1, 32])];
    const shared = (engine: Engine) => runtimeOf(engine).kernels.memory.buffer instanceof SharedArrayBuffer;
    // A module's weights and a cache's rows, written before the move, read after it.
    const run = async (engine: Engine, move?: 'async' | 'resize') => {
      const m = new MultiHeadAttention(32, 4, { engine, seed: 11 });
      const cache = m.createCache({ batch: 1, maxLength: 8 });
      const out = [m.forwardStep(x, cache).output.data];
      expect(shared(engine), 'before the move').toBe(false);
      if (move === 'resize') poolOf(engine).resize(2);
      out.push(
        move === 'async' ? (await m.forwardStepAsync(next, cache)).output.data : m.forwardStep(next, cache).output.data,
      );
      out.push(m.forward(x).output.data);
      expect(shared(engine), 'after the move').toBe(move !== undefined);
      cache.dispose();
      m.dispose();
      return out;
    };
    const want = await run(await createEngine({ build: BUILD }));
    for (const move of ['async', 'resize'] as const) {
      const engine = await createEngine({ build: BUILD });
      const got = await run(engine, move);
      got.forEach((g, i) => expect(g, `output ${i}, moved by ${move}`).toEqual(want[i]));
      expect(usedBytes(engine)).toBe(0);
      engine.close();
    }
    expect(shared(await createEngine({ build: BUILD, threads: 2 }).then((e) => (e.close(), e)))).toBe(true);
  });

  it('every op gives bit-for-bit the same output on 1, 2 and 3 threads, and 2 and 3 threads really share the work', async () => {
    const one = await sharingEngine(1);
    const want = everyOp(one);
    for (const threads of [2, 3]) {
      const engine = await sharingEngine(threads);
      await untilShared(engine);
      const before = poolOf(engine).workerUnits;
      // Whether a worker takes units of a given call is the scheduler's choice (a loaded machine may leave them all to
      // the caller): the ops run again, each time bit for bit, until workers have taken some.
      for (let round = 0; round < 20 && poolOf(engine).workerUnits === before; round++) {
        const got = everyOp(engine);
        expect(got.length).toBe(want.length);
        got.forEach((g, i) => expect(g, `output ${i} on ${threads} threads`).toEqual(want[i]));
        expect(usedBytes(engine)).toBe(0);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(poolOf(engine).workerUnits, 'workers took units').toBeGreaterThan(before);
      engine.close();
    }
  });

  it('results made ahead while helpers compute are each given out once, filled whole, whatever the call before read', async () => {
    const one = await sharingEngine(1);
    const two = await sharingEngine(2);
    await untilShared(two);
    const [a, b, c] = [31, 32, 33].map((seed) => randomTensor(seed, [2, 150, 40]));
    const w = randomTensor(34, [40, 40]);
    // Values as wide as the keys are many: output and weights have the same length.
    const wide = randomTensor(35, [2, 150, 150]);
    // The same shapes twice (the second call's arrays are made during its job), then other lengths.
    const calls = [
      (engine: Engine) =>
        Object.values(scaledDotProductAttention(a, b, wide, { returnWeights: true, engine })).map((t) => t.data),
      (engine: Engine) =>
        Object.values(scaledDotProductAttention(b, c, wide, { returnWeights: true, engine })).map((t) => t.data),
      (engine: Engine) => [scaledDotProductAttention(a, a, a, { engine }).output.data],
      (engine: Engine) => [scaledDotProductAttention(b, b, b, { engine }).output.data],
      (engine: Engine) => [matmul(c, w, { engine }).data],
      (engine: Engine) =>
        Object.values(scaledDotProductAttention(c, c, c, { causal: true, returnWeights: true, engine })).map(
          (t) => t.data,
        ),
      (engine: Engine) =>
        Object.values(scaledDotProductAttention(a, b, c, { returnWeights: true, engine })).map((t) => t.data),
      (engine: Engine) => [linear(b, w, undefined, { engine }).data],
    ];
    const want = calls.map((call) => call(one));
    // Arrays are made ahead whenever a job opens, whether or not a helper then takes any of its units (a loaded
    // machine may leave every unit of such small calls to the caller): what matters is that every call opened one.
    const jobs = countJobs(two);
    const opened: boolean[] = [];
    const got = calls.map((call) => {
      const before = jobs();
      const results = call(two);
      opened.push(jobs() > before);
      return results;
    });
    expect(opened, 'every call opened a job').toEqual(calls.map(() => true));
    // Checked only after every call: a result given out twice would now hold a later call's values.
    got.forEach((results, i) => results.forEach((r, j) => expect(r, `call ${i}, result ${j}`).toEqual(want[i][j])));
    const buffers = got.flat().map((r) => r.buffer);
    expect(new Set(buffers).size, 'every result has a buffer of its own').toBe(buffers.length);
    one.close();
    two.close();
  });

  it('results from 64 KiB on come in arrays a helper made when it had nothing to compute, each given out once and filled whole, with pauses between calls or none, across a resize', async () => {
    const one = await sharingEngine(1);
    const two = await sharingEngine(2);
    await untilShared(two);
    const pool = poolOf(two) as unknown as WorkerPool;
    const xs = [51, 52, 53].map((seed) => randomTensor(seed, [2, 160, 64]));
    expect(2 * 160 * 64).toBeGreaterThanOrEqual(HELPER_ARRAY_FLOATS);
    const call = (engine: Engine, i: number) => scaledDotProductAttention(xs[i % 3], xs[i % 3], xs[i % 3], { engine });
    const want = [0, 1, 2].map((i) => call(one, i).output.data);
    const got: Array<[number, Float32Array]> = [];
    const before = pool.arraysFromHelpers;
    for (let i = 0; i < 8; i++) {
      got.push([i, call(two, i).output.data]);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    // The first call's read asks for the second's array; a helper spinning after the job, or woken, makes it.
    expect(pool.arraysFromHelpers - before, 'arrays a helper made, of 7 asked for').toBeGreaterThanOrEqual(4);
    for (let i = 0; i < 30; i++) got.push([i, call(two, i).output.data]);
    pool.resize(1);
    for (let i = 0; i < 3; i++) got.push([i, call(two, i).output.data]);
    pool.resize(2);
    for (let i = 0; i < 12; i++) {
      got.push([i, call(two, i).output.data]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Checked only after every call: an array given out twice would now hold a later call's values.
    got.forEach(([i, data], n) => expect(data, `call ${n}`).toEqual(want[i % 3]));
    expect(new Set(got.map(([, data]) => data.buffer)).size, 'every result has a buffer of its own').toBe(got.length);
    one.close();
    two.close();
  });

  it("calls under MIN_SPLIT_MADDS_SHARED (one token's 768 → 512 projection) stay on the caller; from it on (a decode step's attention), they are shared, after a pause too", async () => {
    const engine = await createEngine({ build: BUILD, threads: 2 });
    const pool = poolOf(engine);
    expect(pool.minSplitMadds).toBe(MIN_SPLIT_MADDS_SHARED);
    // Small calls right after a sleep of the calling thread have a rule of their own (the test after this one), and
    // so do small calls when sharing them has not paid lately (the tests after that).
    pool.shareAsleepMadds = 0;
    pool.learns = false;
    const [x, w] = [randomTensor(1, [1, 768]), randomTensor(2, [512, 768])];
    const [q, k] = [randomTensor(3, [12, 1, 64]), randomTensor(4, [12, 1024, 64])];
    expect(768 * 512).toBeLessThan(MIN_SPLIT_MADDS_SHARED);
    expect(12 * 1024 * 128).toBeGreaterThanOrEqual(MIN_SPLIT_MADDS_SHARED);
    const jobs = countJobs(engine);
    let shared = false;
    // Whether a woken helper arrives before the caller has run every unit is the scheduler's: calls after a pause,
    // until it has taken some (at most 50).
    for (let i = 0; i < 50 && !shared; i++) {
      const [before, opened] = [pool.workerUnits, jobs()];
      linear(x, w, undefined, { engine });
      expect(jobs(), 'a call of 768 · 512 multiply-adds opens no job').toBe(opened);
      expect(pool.workerUnits).toBe(before);
      scaledDotProductAttention(q, k, k, { engine });
      expect(jobs(), 'a call of 12 · 1024 · 128 multiply-adds opens one').toBe(opened + 1);
      shared = pool.workerUnits > before;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(shared, 'the helper took units of a call made after a pause').toBe(true);
    engine.close();
  });

  it('right after the calling thread slept, a small call finds the helpers asleep and runs alone; a large one, or small ones that keep coming, are shared', async () => {
    const engine = await createEngine({ build: BUILD, threads: 2 });
    const pool = poolOf(engine) as Pool & { helpersAwake: number };
    expect(pool.shareAsleepMadds).toBe(SHARE_ASLEEP_MADDS);
    pool.learns = false;
    const small = randomTensor(5, [256, 64]);
    const large = randomTensor(6, [512, 64]);
    expect(256 * 256 * 128).toBeLessThan(SHARE_ASLEEP_MADDS);
    expect(512 * 512 * 128).toBeGreaterThanOrEqual(SHARE_ASLEEP_MADDS);
    const one = await sharingEngine(1);
    const want = scaledDotProductAttention(small, small, small, { engine: one }).output.data;
    one.close();
    const jobs = countJobs(engine);
    /** Sleeps until the helpers have blocked (they spin a while after a job), and LONG_SLEEP_MS more. */
    const sleep = async () => {
      for (let i = 0; i < 200 && pool.helpersAwake > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(pool.helpersAwake, 'the helpers blocked').toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 2 * LONG_SLEEP_MS));
    };
    // The helper has started once it takes units of a large call.
    for (let i = 0; i < 200 && pool.workerUnits === 0; i++) {
      scaledDotProductAttention(large, large, large, { engine });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await sleep();
    const opened = jobs();
    expect(scaledDotProductAttention(small, small, small, { engine }).output.data).toEqual(want);
    expect(jobs(), 'the small call opened no job').toBe(opened);
    await sleep();
    scaledDotProductAttention(large, large, large, { engine });
    expect(jobs(), 'the large call opened one').toBe(opened + 1);
    await sleep();
    // Small calls back to back: alone at first, shared once they have come for STREAM_MS (a bound by count, not time:
    // on a loaded machine a few calls can take that long).
    for (let i = 0; i < 2000 && jobs() === opened + 1; i++) {
      expect(scaledDotProductAttention(small, small, small, { engine }).output.data).toEqual(want);
    }
    expect(jobs(), 'a stream of small calls opened jobs').toBeGreaterThan(opened + 1);
    engine.close();
  });

  it("a decoding loop's jobs from MIN_SPLIT_MADDS_SHARED on are shared, bit for bit as on 1 thread", async () => {
    const engines = [
      await createEngine({ build: BUILD, threads: 1 }),
      await createEngine({ build: BUILD, threads: 2 }),
    ];
    const pool = poolOf(engines[1]);
    pool.learns = false;
    // Two jobs of a step, back to back, both under worker mode's MIN_SPLIT_MADDS: the key and value projection
    // (768 → 2 · 768) and attention over 1025 keys in 12 heads.
    for (const madds of [768 * 1536, 12 * 1025 * 128]) {
      expect(madds).toBeGreaterThanOrEqual(MIN_SPLIT_MADDS_SHARED);
      expect(madds).toBeLessThan(MIN_SPLIT_MADDS);
    }
    const decoders = engines.map((engine) => {
      const m = new MultiHeadAttention(768, 12, { seed: 1, engine });
      const cache = m.createCache({ batch: 1, maxLength: 1025 });
      m.forwardStep(randomTensor(1, [1, 1024, 768]), cache, { needWeights: false });
      return (x: Tensor) => {
        const out = m.forwardStep(x, cache, { needWeights: false }).output.data;
        cache.truncate(1024);
        return out;
      };
    });
    const before = pool.workerUnits;
    // Whether the helper arrives before the caller has run every unit is the scheduler's: steps run, each bit for bit
    // as on 1 thread, until it has taken units (at most 300).
    for (let i = 0; i < 300 && pool.workerUnits === before; i++) {
      const x = randomTensor(100 + (i % 7), [1, 1, 768]);
      expect(decoders[1](x), `step ${i}`).toEqual(decoders[0](x));
    }
    expect(pool.workerUnits, 'the helper took units of steps').toBeGreaterThan(before);
    engines.forEach((e) => e.close());
  });

  it('small jobs run on the caller alone while sharing them costs more than it saves (a helper that stops after each claim), large ones are still shared, all bit for bit', async () => {
    // A helper whose core is taken away for 20 ms after each unit it claims: the caller waits for it.
    threadingForTests.start = (init, events) =>
      startNodeThread(init.role === 'helper' ? { ...init, stallForTests: 20 } : init, events);
    const engine = await createEngine({ build: BUILD, threads: 2 }).finally(
      () => (threadingForTests.start = undefined),
    );
    const pool = poolOf(engine);
    expect(pool.learns).toBe(true);
    pool.shareAsleepMadds = 0;
    const one = await createEngine({ build: BUILD, threads: 1 });
    const [small, large] = [randomTensor(50, [8, 64, 64]), randomTensor(51, [512, 64])];
    expect(8 * 64 * 64 * 128).toBeGreaterThanOrEqual(MIN_SPLIT_MADDS_SHARED);
    expect(8 * 64 * 64 * 128).toBeLessThan(LEARNT_BELOW);
    expect(512 * 512 * 128).toBeGreaterThanOrEqual(LEARNT_BELOW);
    const sdpa = (x: Tensor, e: Engine) => scaledDotProductAttention(x, x, x, { engine: e }).output.data;
    const want = [sdpa(small, one), sdpa(large, one)];
    // The helper has started once it takes units of a large call.
    for (let i = 0; i < 200 && pool.workerUnits === 0; i++) {
      expect(sdpa(large, engine)).toEqual(want[1]);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(pool.workerUnits, 'the helper took units').toBeGreaterThan(0);
    const jobs = countJobs(engine);
    const [opened, helped]: boolean[][] = [[], []];
    const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    for (let i = 0; i < 40 * TURN; i++) {
      const [before, units] = [jobs(), pool.workerUnits];
      const got = sdpa(small, engine);
      opened.push(jobs() > before);
      helped.push(pool.workerUnits > units);
      // Compared as bytes: toEqual takes a hundred times as long on arrays this size.
      if (!bytes(got).equals(bytes(want[0]))) expect(got, `call ${i}`).toEqual(want[0]);
    }
    // The first turn shares, the look alone pays; after it, sharing that costs comes back only for a turn now and then,
    // the waits between looks doubling. Counted from turn 24, when they are 16 turns long: a close call keeps its wait,
    // and a noisy turn alone can bring a look early, which moves the looks after it; over turns 8–23 (waits of 4 and 8)
    // that could let a third look in. A shared turn costs when the helper takes units in two calls of it or more (it
    // stops 20 ms each time; a turn's longest call is left out of its cost): on a busy machine a stopped helper often
    // takes none, such a turn costs what one alone does, and sharing is rightly taken again.
    expect(opened.slice(0, TURN).every(Boolean), 'the first turn shares').toBe(true);
    const costly = Array.from({ length: 16 }, (_, t) => helped.slice((24 + t) * TURN, (25 + t) * TURN)).filter(
      (turn) => turn.filter(Boolean).length >= 2,
    ).length;
    expect(costly, 'turns of the last 16 in which the helper took units in two calls or more').toBeLessThanOrEqual(2);
    const before = jobs();
    expect(sdpa(large, engine)).toEqual(want[1]);
    expect(jobs(), 'a large call is shared still').toBe(before + 1);
    engine.close();
    one.close();
  });

  it('claims take whole chunks, long while much is left and one chunk at the end', () => {
    for (const threads of [2, 3, 8]) {
      for (const [total, chunk] of [
        [32, 1],
        [384, 32],
        [7, 1],
        [1000, 3],
      ]) {
        const sizes: number[] = [];
        for (let left = total; left > 0; left -= sizes[sizes.length - 1]) {
          sizes.push(claimSize(left, chunk, threads));
        }
        const label = `${total} units, chunks of ${chunk}, ${threads} threads: ${sizes}`;
        expect(
          sizes.every((s) => s >= chunk && s % chunk === 0),
          label,
        ).toBe(true);
        expect(
          sizes.slice(1).every((s, i) => s <= sizes[i]),
          label,
        ).toBe(true);
        // The threads' last claims are one chunk each: they finish within a chunk of each other.
        expect(
          sizes.slice(-Math.min(sizes.length, threads)).every((s) => s === chunk),
          label,
        ).toBe(true);
        if (total >= 8 * threads * chunk) expect(sizes[0], label).toBeGreaterThan(chunk);
      }
    }
  });

  it("a plain GEMM job given many units at once runs them within one unit's scratch, bit for bit as one by one", async () => {
    const { kernels: k, heap } = runtimeOf(await createEngine({ build: BUILD, threads: 1 }));
    const [m, n, depth, unitRows] = [37, 20, 9, 8];
    const units = Math.ceil(m / unitRows);
    const [a, b] = [randomTensor(60, [m, depth]), randomTensor(61, [depth, n])];
    const floats = k.f32_gemm_scratch_floats(unitRows, n, depth);
    const GUARD = 4096;
    heap.scoped(
      [m * depth * 4, depth * n * 4, m * n * 4, m * n * 4, floats * 4 + GUARD],
      ([pa, pb, c1, c2, scratch]) => {
        heap.write(pa, a);
        heap.write(pb, b);
        const guard = () => new Uint8Array(heap.f32().buffer, scratch + floats * 4, GUARD);
        guard().fill(0xab);
        const ctl = new Int32Array(CONTROL_SLOTS);
        ctl[SLOT.kind] = JOB.gemm;
        // batch, m, n, k, a, lda, strideA, b, ldb, strideB, bTransposed, c, ldc, strideC, bias, unitRows
        const job = (c: number) =>
          ctl.set([1, m, n, depth, pa, depth, 0, pb, n, 0, 0, c, n, 0, 0, unitRows], SLOT.args);
        job(c1);
        runUnits(k, ctl, 0, units, scratch);
        job(c2);
        for (let u = 0; u < units; u++) runUnits(k, ctl, u, u + 1, scratch);
        expect(
          guard().every((x) => x === 0xab),
          'nothing written past the scratch',
        ).toBe(true);
        const [whole, oneByOne] = [heap.readF32(c1, m * n), heap.readF32(c2, m * n)];
        expect(whole.some(Number.isNaN)).toBe(false);
        expect(Buffer.from(whole.buffer).equals(Buffer.from(oneByOne.buffer))).toBe(true);
      },
    );
  });

  it('a thread that sees less of the memory than the job needs refreshes its view, or fails saying so', () => {
    // A thread can act on its old view of a memory another thread just grew, before V8 has told it of the growth
    // (scripts/memory-grow-race.mjs); growing by 0 pages updates it. A memory stand-in plays such a thread's view.
    const view = (sizes: number[]) => {
      const grows: number[] = [];
      const memory = {
        get buffer() {
          return { byteLength: sizes[Math.min(grows.length, sizes.length - 1)] };
        },
        grow: (pages: number) => grows.push(pages),
      };
      return { memory: memory as unknown as WebAssembly.Memory, grows };
    };
    const current = view([131072]);
    seeMemory(current.memory, 131072);
    expect(current.grows, 'a view as large as the job needs is left alone').toEqual([]);
    const stale = view([65536, 131072]);
    seeMemory(stale.memory, 131072);
    expect(stale.grows, 'a stale view is refreshed by growing 0 pages').toEqual([0]);
    const stuck = view([65536]);
    expect(() => seeMemory(stuck.memory, 131072)).toThrow(
      'this thread sees 65536 bytes of the shared memory, the call needs 131072',
    );
  });

  it('a thread that fails makes the call WORKER_FAILED, and the engine goes on', async () => {
    const engine = await sharingEngine(2);
    await untilShared(engine);
    const rt = runtimeOf(engine);
    // A job of an unknown kind: every thread that claims a unit of it throws.
    const run = (poolOf(engine) as unknown as { run: (...a: unknown[]) => void }).run.bind(poolOf(engine));
    // Helpers spin for work, so either thread may claim the failing units first: the call is WORKER_FAILED whichever,
    // and names the error (a helper writes its own into the control block).
    rt.heap.scoped([1024], ([scratch]) => {
      expectAttentionError(
        () => run(rt.kernels, 99, [], 64, 1, scratch, 512),
        'WORKER_FAILED',
        /^a thread failed while computing this call \(unknown job 99\); the engine goes on$/,
      );
    });
    expect(engine.info.threads).toBe(2);
    const x = randomTensor(21, [256, 64]);
    const one = await sharingEngine(1);
    expect(scaledDotProductAttention(x, x, x, { engine }).output.data).toEqual(
      scaledDotProductAttention(x, x, x, { engine: one }).output.data,
    );
    expect(usedBytes(engine)).toBe(0);
    // Where the calling thread is the one that fails (here it computes alone), the message names the cause.
    poolOf(engine).resize(1);
    rt.heap.scoped([1024], ([scratch]) => {
      expectAttentionError(
        () => run(rt.kernels, 99, [], 64, 1, scratch, 512),
        'WORKER_FAILED',
        /^a thread failed while computing this call \(unknown job 99\); the engine goes on$/,
      );
    });
    expect(usedBytes(engine)).toBe(0);
    engine.close();
  });

  it("a call that finds no memory for its threads' share (B packed once, each thread's scratch) runs on the caller alone, bit for bit", async () => {
    const a = randomTensor(40, [256, 300]);
    const b = randomTensor(41, [300, 200]);
    const one = await createEngine({ build: BUILD, threads: 1 });
    const want = matmul(a, b, { engine: one }).data;
    // Memory grows by whole pages as a call needs them: this is what the call takes on one thread.
    const limit = one.memoryBytes();
    one.close();
    const tight = await createEngine({ build: BUILD, threads: 2, maxMemoryBytes: limit });
    runtimeOf(tight).pool!.minSplitMadds = 2 ** 16;
    const tightJobs = countJobs(tight);
    expect(matmul(a, b, { engine: tight }).data).toEqual(want);
    expect(tightJobs(), 'no job opened').toBe(0);
    expect(usedBytes(tight)).toBe(0);
    tight.close();
    const roomy = await sharingEngine(2);
    const roomyJobs = countJobs(roomy);
    expect(matmul(a, b, { engine: roomy }).data).toEqual(want);
    expect(roomyJobs(), 'with room, the same call opens jobs').toBeGreaterThan(0);
    roomy.close();
  });

  it('memory stays at its high-water mark over many threaded calls', async () => {
    const engine = await sharingEngine(2);
    await untilShared(engine);
    const call = (i: number) => {
      const n = 64 + (i % 5) * 40;
      return scaledDotProductAttention(
        randomTensor(i, [n, 64]),
        randomTensor(i + 1, [n, 64]),
        randomTensor(i + 2, [n, 32]),
        { causal: i % 2 === 0, returnWeights: i % 3 === 0, engine },
      );
    };
    for (let i = 0; i < 20; i++) call(i);
    const high = engine.memoryBytes();
    for (let i = 0; i < 300; i++) call(i);
    expect(engine.memoryBytes()).toBe(high);
    expect(usedBytes(engine)).toBe(0);
    engine.close();
  });

  it('10,000 mixed calls on 2 threads, sync and async (three at a time), leave linear memory at its high-water mark', async () => {
    const engine = await sharingEngine(2);
    await untilShared(engine);
    const mha = new MultiHeadAttention(64, 4, { numKVHeads: 2, seed: 1, engine });
    const cache = mha.createCache({ batch: 1, maxLength: 40 });
    // From calls too small to share to calls shared by both threads (past 2^20 multiply-adds).
    const shapes = [3, 40, 130, 161];
    const w = randomTensor(2, [70, 64]);
    const call = (i: number, async: boolean) => {
      const n = shapes[i % shapes.length];
      const x = randomTensor(i, [n, 64]);
      switch (i % 5) {
        case 0:
          return async
            ? scaledDotProductAttentionAsync(x, x, x, { causal: true, engine })
            : scaledDotProductAttention(x, x, x, { causal: true, engine });
        case 1:
          return async ? matmulAsync(x, x, { transposeB: true, engine }) : matmul(x, x, { transposeB: true, engine });
        case 2:
          return async ? linearAsync(x, w, undefined, { engine }) : linear(x, w, undefined, { engine });
        case 3:
          return async
            ? mha.forwardAsync(x, x, x, { needWeights: i % 2 === 0 })
            : mha.forward(x, x, x, { needWeights: i % 2 === 0 });
        default: {
          if (cache.length + 2 > cache.maxLength) cache.reset();
          const step = randomTensor(i, [2, 64]);
          return async ? mha.forwardStepAsync(step, cache) : mha.forwardStep(step, cache);
        }
      }
    };
    const round = async (i: number) => {
      call(i, false);
      await Promise.all([call(i + 1, true), call(i + 2, true), call(i + 3, true)]);
    };
    for (let i = 0; i < 40; i++) await round(i);
    const resident = usedBytes(engine);
    const highWater = engine.memoryBytes();
    for (let i = 0; i < 2500; i++) await round(i);
    expect(engine.memoryBytes()).toBe(highWater);
    expect(usedBytes(engine)).toBe(resident);
    cache.dispose();
    mha.dispose();
    engine.close();
  });

  it('a forgotten engine ends its threads once garbage-collected; an async call keeps its engine until it is done', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'tests run with --expose-gc').toBeTypeOf('function');
    const x = randomTensor(21, [1536, 64]);
    const want = scaledDotProductAttention(x, x, x, { engine: await createEngine({ build: BUILD }) }).output.data;
    const kept = await createEngine({ build: BUILD, threads: 2 });
    // In a function of its own, so that nothing here holds the engine: only its pool and its pending call.
    const forget = async () => {
      const engine = await createEngine({ build: BUILD, threads: 2 });
      return {
        pool: poolOf(engine) as Pool & { driver?: unknown },
        pending: scaledDotProductAttentionAsync(x, x, x, { engine }),
      };
    };
    const { pool, pending } = await forget();
    let settled = false;
    void pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    // Collections while the call runs: were the engine finalised now, its pool would end mid-call (WORKER_FAILED).
    let rounds = 0;
    while (!settled && rounds < 200) {
      gc!();
      rounds++;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect((await pending).output.data, 'the pending call completes, right').toEqual(want);
    for (let i = 0; i < 50 && (pool.alive > 1 || pool.driver); i++) {
      gc!();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(pool.alive, 'its workers ended').toBe(1);
    expect(pool.driver, 'its driver ended').toBeUndefined();
    // An engine still held keeps its threads through the same collections.
    expect(kept.info.threads).toBe(2);
    expect(scaledDotProductAttention(x, x, x, { engine: kept }).output.data).toEqual(want);
    kept.close();
  });

  it('a process that starts threads and never calls close() exits on its own', () => {
    const script = `
      import { init, scaledDotProductAttention, tensor } from LIB;
      const engine = await init({ build: '${BUILD}', threads: 2 });
      const x = tensor(new Float32Array(256 * 64).fill(0.5), [256, 64]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (let i = 0; i < 5; i++) scaledDotProductAttention(x, x, x);
      console.log(engine.info.threads, engine.info.threading);
    `;
    const out = runScript(script);
    expect(out.trim()).toBe('2 shared-memory');
  });
});
