// Async twins: the sync calls' own code, recorded on the calling thread and run by the engine's threads. Results
// are bit for bit the sync calls'; the calling thread stays free; bad arguments reject at once; calls run in the
// order made (a sync call waits for the async calls before it); a thread that ends mid-call rejects that call
// with WORKER_FAILED and the engine goes on.
import { describe, expect, it } from 'vitest';
import {
  type Engine,
  linear,
  matmulAsync,
  MultiHeadAttention,
  scaledDotProductAttention,
  scaledDotProductAttentionAsync,
  SelfAttention,
} from '../src/index.js';
import { runtimeOf } from '../src/runtime/engine.js';
import { Recording } from '../src/runtime/recording.js';
import type { Thread } from '../src/runtime/threads/worker-pool.js';
import { everyOp, expectResultsKept, expectSteadyMemory, expectThreadEndMidCall } from './support/every-op.js';
import { BUILD, sharingEngine, expectAttentionError, randomTensor, runScript, usedBytes } from './helpers.js';

const driverOf = (engine: Engine) => (runtimeOf(engine).pool as unknown as { driver?: Thread }).driver;

describe('async twins', () => {
  it('every op gives bit for bit the sync result, on 1 and 2 threads, and leaves no memory held', async () => {
    for (const threads of [1, 2]) {
      const engine = await sharingEngine(threads);
      const want = await everyOp(engine, 'sync');
      const got = await everyOp(engine, 'async');
      expect(got.length).toBe(want.length);
      got.forEach((g, i) => expect(g, `output ${i} on ${threads} threads`).toEqual(want[i]));
      expect(usedBytes(engine)).toBe(0);
      engine.close();
    }
  });

  it('a result stays as it was when its call settled, on 1 and 2 threads', async () => {
    for (const threads of [1, 2]) {
      const engine = await sharingEngine(threads);
      await expectResultsKept(engine);
      engine.close();
    }
  });

  it('the calling thread stays free while the kernels run, and the work runs on other threads', async () => {
    const engine = await sharingEngine(2);
    const pool = runtimeOf(engine).pool!;
    const x = randomTensor(1, [4, 1024, 64]);
    const before = pool.workerUnits;
    let settled = false;
    const call = scaledDotProductAttentionAsync(x, x, x, { engine, returnWeights: true }).finally(
      () => (settled = true),
    );
    // One turn of the event loop comes long before 4 × 1024² scores are computed and normalised.
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    const r = await call;
    expect(r.weights.shape).toEqual([4, 1024, 1024]);
    expect(pool.workerUnits - before).toBeGreaterThan(0);
    engine.close();
  });

  it('a bad argument rejects at once, with nothing left running; the next call is right', async () => {
    const engine = await sharingEngine(2);
    const q = randomTensor(1, [8, 16]);
    await expect(scaledDotProductAttentionAsync(q, q, randomTensor(2, [7, 16]), { engine })).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
      message: /v.shape\[-2\] \(Lk\) is 7 but k.shape\[-2\] is 8/,
    });
    await expect(matmulAsync(q, q, { engine, transpose_b: true } as never)).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: /transposeB/,
    });
    const m = new SelfAttention(16, { seed: 1, engine });
    m.dispose();
    await expect(m.forwardAsync(q)).rejects.toMatchObject({ code: 'DISPOSED' });
    expect(usedBytes(engine)).toBe(0);
    expect((await scaledDotProductAttentionAsync(q, q, q, { engine })).output.data).toEqual(
      scaledDotProductAttention(q, q, q, { engine }).output.data,
    );
    engine.close();
  });

  it('an op that a getter calls during an async call is a call of its own, computed then', async () => {
    const engine = await sharingEngine(2);
    const m = new MultiHeadAttention(64, 4, { seed: 2, engine });
    const y = randomTensor(7, [80, 64]);
    const want = scaledDotProductAttention(y, y, y, { engine }).output.data;
    const xs = randomTensor(8, [90, 64]);
    const seen: Float32Array[] = [];
    // Each getter runs a sync op and an async one on the same engine, and looks at the sync result at once.
    const hostile = {
      get data() {
        seen.push(Float32Array.from(scaledDotProductAttention(y, y, y, { engine }).output.data));
        void scaledDotProductAttentionAsync(y, y, y, { engine }).then((r) => seen.push(r.output.data));
        return xs.data;
      },
      shape: xs.shape,
    };
    const got = await m.forwardAsync(hostile);
    const viaOptions = await scaledDotProductAttentionAsync(y, y, y, {
      engine,
      get causal() {
        return (
          void seen.push(Float32Array.from(linear(y, randomTensor(9, [5, 64]), undefined, { engine }).data)),
          false
        );
      },
    } as never);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(got.output.data).toEqual(m.forward(xs).output.data);
    expect(viaOptions.output.data).toEqual(want);
    expect(seen[0]).toEqual(want);
    expect(seen.slice(1).some((r) => r.length === want.length && r.every((v, i) => v === want[i]))).toBe(true);
    expect(seen.find((r) => r.length === 80 * 5)).toEqual(
      linear(y, randomTensor(9, [5, 64]), undefined, { engine }).data,
    );
    m.dispose();
    expect(usedBytes(engine)).toBe(0);
    engine.close();
  });

  it('a module or cache disposed while its async call is pending is freed once the call is done', async () => {
    const engine = await sharingEngine(2);
    const m = new MultiHeadAttention(64, 4, { seed: 2, engine });
    const x = randomTensor(3, [300, 64]);
    const want = m.forward(x);
    const cache = m.createCache({ batch: 1, maxLength: 300 });
    const step = m.forwardStepAsync(x, cache);
    const call = m.forwardAsync(x);
    m.dispose();
    cache.dispose();
    expect(usedBytes(engine)).toBeGreaterThan(0);
    const got = await call;
    await step;
    expect(got.output.data).toEqual(want.output.data);
    expect(got.weights.data).toEqual(want.weights.data);
    expect(usedBytes(engine)).toBe(0);
    engine.close();
  });

  it('fewer threads asked for while an async call is pending: the spare workers end once it is done, the call is right', async () => {
    const engine = await sharingEngine(3);
    const x = randomTensor(4, [4, 512, 64]);
    const want = scaledDotProductAttention(x, x, x, { engine, causal: true }).output.data;
    for (let i = 0; i < 3; i++) {
      runtimeOf(engine).pool!.resize(3);
      const pending = scaledDotProductAttentionAsync(x, x, x, { engine, causal: true });
      // The driver may be inside a job that counts on every worker's units: they stay until the call is done.
      runtimeOf(engine).pool!.resize(1);
      expect(engine.info.threads).toBe(3);
      expect((await pending).output.data).toEqual(want);
      expect(engine.info.threads).toBe(1);
    }
    engine.close();
  });

  it('a call the driver runs before submitting it has returned is still pending until then', async () => {
    const engine = await sharingEngine(3);
    const x = randomTensor(5, [64, 64]);
    const want = scaledDotProductAttention(x, x, x, { engine }).output.data;
    // The first async call starts the driver.
    expect((await scaledDotProductAttentionAsync(x, x, x, { engine })).output.data).toEqual(want);
    const driver = driverOf(engine)!;
    const post = driver.post;
    // The calling thread descheduled right after its message to the driver, which runs the call meanwhile.
    driver.post = (m, transfer) => {
      post(m, transfer);
      for (const until = performance.now() + 100; performance.now() < until;);
    };
    try {
      const pending = scaledDotProductAttentionAsync(x, x, x, { engine });
      runtimeOf(engine).pool!.resize(1);
      expect(engine.info.threads, 'spare workers kept while the call is pending').toBe(3);
      expect((await pending).output.data).toEqual(want);
      expect(engine.info.threads).toBe(1);
    } finally {
      driver.post = post;
    }
    engine.close();
  });

  it('a thread that ends mid-call rejects the pending calls with WORKER_FAILED, and the engine goes on', async () => {
    const engine = await sharingEngine(2);
    await expectThreadEndMidCall(engine, () => driverOf(engine)!.terminate());
    expect(engine.info.threads).toBe(2);
    engine.close();
  });

  it('a call that fails in the driver rejects; calls made before that was heard fail too, sync ones included; later calls are right', async () => {
    const engine = await sharingEngine(2);
    const pool = runtimeOf(engine).pool!;
    const y = randomTensor(6, [100, 64]);
    const want = scaledDotProductAttention(y, y, y, { engine }).output.data;
    // A job of an unknown kind fails in the driver; the calls made meanwhile might read what it left unwritten.
    const failing = pool.submit([{ job: [99, 64, 1, 0, 0, 2] }], new Recording());
    const next = scaledDotProductAttentionAsync(y, y, y, { engine });
    expectAttentionError(
      () => scaledDotProductAttention(y, y, y, { engine }),
      'WORKER_FAILED',
      /an async call before this one failed/,
    );
    await expect(failing).rejects.toMatchObject({ code: 'WORKER_FAILED', message: /unknown job 99/ });
    await expect(next).rejects.toMatchObject({
      code: 'WORKER_FAILED',
      message: /an async call before this one failed/,
    });
    expect(usedBytes(engine)).toBe(0);
    expect((await scaledDotProductAttentionAsync(y, y, y, { engine })).output.data).toEqual(want);
    expect(scaledDotProductAttention(y, y, y, { engine }).output.data).toEqual(want);
    engine.close();
  });

  it('memory stays at its high-water mark over many async calls', async () => {
    const engine = await sharingEngine(2);
    await expectSteadyMemory(engine);
    engine.close();
  });

  it('a process awaiting an async call gets its result and then exits on its own', () => {
    const script = `
      import { init, scaledDotProductAttentionAsync, tensor } from LIB;
      const engine = await init({ build: '${BUILD}', threads: 2 });
      const x = tensor(new Float32Array(512 * 64).fill(0.5), [512, 64]);
      const r = await scaledDotProductAttentionAsync(x, x, x);
      console.log(r.output.data[0], engine.info.threading);
    `;
    const out = runScript(script);
    expect(out.trim()).toBe('0.5 shared-memory');
  });
});
