// Concurrency: engines in worker threads run in parallel, each on its own instance, and agree with the reference.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { refAttention } from '../src/reference.js';
import { BUILD, expectClose, randomTensor, ATOL, RTOL } from './helpers.js';

describe('worker_threads', () => {
  it('two workers, each with its own engine, compute at the same time and match the reference', async () => {
    // [jobs ready, go, jobs started]: both jobs start computing together and go on until both have started, so their
    // calls overlap in time unless one thread waits for the other.
    const gate = new SharedArrayBuffer(12);
    const flags = new Int32Array(gate);
    const jobs = [false, true].map((causal, i) => {
      const q = randomTensor(10 + i, [2, 200, 32]);
      const k = randomTensor(20 + i, [2, 180, 32]);
      const v = randomTensor(30 + i, [2, 180, 16]);
      const worker = new Worker(new URL('./worker-job.mjs', import.meta.url), {
        workerData: { build: BUILD, q, k, v, causal, gate, jobs: 2 },
      });
      const done = new Promise<{ build: string; output: Float32Array; same: boolean; start: number; end: number }>(
        (resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        },
      );
      return { done: done.finally(() => worker.terminate()), q, k, v, causal };
    });
    // A job that fails before the gate rejects its promise (awaited below); the wait for the gate gives up.
    for (const job of jobs) job.done.catch(() => {});
    for (const deadline = Date.now() + 20_000; Atomics.load(flags, 0) < jobs.length && Date.now() < deadline;)
      await new Promise((resolve) => setTimeout(resolve, 5));
    Atomics.store(flags, 1, 1);
    Atomics.notify(flags, 1);
    const [a, b] = await Promise.all(jobs.map((job) => job.done));
    expect(a.start < b.end && b.start < a.end, `[${a.start}, ${a.end}] and [${b.start}, ${b.end}] overlap`).toBe(true);
    for (const job of jobs) {
      const r = await job.done;
      expect(r.build).toBe(BUILD);
      expect(r.same).toBe(true);
      expectClose(
        'worker output',
        r.output,
        refAttention(job.q, job.k, job.v, { causal: job.causal }).output.data,
        ATOL,
        RTOL,
      );
    }
  });
});
