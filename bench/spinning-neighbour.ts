// What a thread spinning on the other core costs the calling thread here: a 1-thread engine's matmul 400³ after 20 ms
// idle, alone and beside a worker that spins for 5 ms from the moment the call starts, taking turns. What a pool's
// helpers cost while they spin for the next job (src/runtime/threads/thread-jobs.ts SPIN_MS), and so how long they may.
// `node --import tsx bench/spinning-neighbour.ts [rounds = 40]`
import { Worker } from 'node:worker_threads';
import { createEngine, matmul } from '../src/index.js';
import { median } from './report.js';

const ROUNDS = Number(process.argv[2] ?? 40);
const SPIN = `
const { workerData: go } = require('node:worker_threads');
for (;;) {
  Atomics.wait(go, 0, 0);
  for (const t0 = performance.now(); performance.now() - t0 < 5;) Atomics.load(go, 1);
  Atomics.store(go, 0, 0);
}`;

const engine = await createEngine({ threads: 1 });
const n = 400;
const a = { data: Float32Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.37)), shape: [n, n] };
const go = new Int32Array(new SharedArrayBuffer(8));
const spinner = new Worker(SPIN, { eval: true, workerData: go });
spinner.unref();
const ms: Record<'alone' | 'beside a spinning thread', number[]> = { alone: [], 'beside a spinning thread': [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const spin of round % 2 ? [true, false] : [false, true]) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (spin) {
      Atomics.store(go, 0, 1);
      Atomics.notify(go, 0);
    }
    const t0 = performance.now();
    matmul(a, a, { engine });
    ms[spin ? 'beside a spinning thread' : 'alone'].push(performance.now() - t0);
  }
}
console.log(
  `matmul ${n}³ on 1 thread after 20 ms idle, median ms:`,
  Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, Number(median(v).toFixed(2))])),
);
await spinner.terminate();
