// Concurrency: engines in worker threads run in parallel, each on its own instance, and agree with the reference.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { refAttention } from '../src/reference.js';
import { BUILD, expectClose, randomTensor, ATOL, RTOL } from './helpers.js';

describe('worker_threads', () => {
  it('two workers, each with its own engine, compute in parallel and match the reference', async () => {
    const jobs = [false, true].map((causal, i) => {
      const q = randomTensor(10 + i, [2, 200, 32]);
      const k = randomTensor(20 + i, [2, 180, 32]);
      const v = randomTensor(30 + i, [2, 180, 16]);
      const worker = new Worker(new URL('./worker-job.mjs', import.meta.url), { workerData: { build: BUILD, q, k, v, causal } });
      const done = new Promise<{ build: string; output: Float32Array; same: boolean }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      return { done: done.finally(() => worker.terminate()), q, k, v, causal };
    });
    for (const job of jobs) {
      const r = await job.done;
      expect(r.build).toBe(BUILD);
      expect(r.same).toBe(true);
      expectClose('worker output', r.output, refAttention(job.q, job.k, job.v, { causal: job.causal }).output.data, ATOL, RTOL);
    }
  });
});
