// Worker mode, as in a page without cross-origin isolation: async calls run on Workers that each hold an instance
// with a memory of its own (src/replica-pool.ts), sharing jobs and sending one another the rows they wrote. Node
// runs the same pool here with worker_threads; test/browser.test.ts runs it in Chromium.
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine, MultiHeadAttention, scaledDotProductAttention, scaledDotProductAttentionAsync } from '../src/index.js';
import { runtimeOf } from '../src/engine.js';
import { threadingForTests } from '../src/threads.js';
import { everyOp } from './support/every-op.js';
import { BUILD, expectAttentionError, randomTensor, usedBytes } from './helpers.js';

/** An engine in worker mode with `threads` replicas, sharing even small calls. */
async function replicaEngine(threads: number): Promise<Engine> {
  threadingForTests.replicas = true;
  try {
    const engine = await createEngine({ build: BUILD, threads });
    runtimeOf(engine).pool!.minSplitMadds = 2 ** 12;
    return engine;
  } finally {
    threadingForTests.replicas = false;
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
});
