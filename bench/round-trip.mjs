// What handing a small async call to another thread and hearing back costs in Node, two ways: a message each way
// (how the pool's driver takes recorded calls today: src/runtime/threads/worker-pool.ts), and a counter in shared
// memory each way, the worker blocked in Atomics.wait and the calling thread awaiting Atomics.waitAsync (what an async
// decode step could use instead). No library code; medians of 200 round trips each.
// `node bench/round-trip.mjs`
import { Worker } from 'node:worker_threads';

const ROUND_TRIPS = 200;
const ctl = new Int32Array(new SharedArrayBuffer(8));
const worker = new Worker(
  `const { workerData: ctl, parentPort } = require('node:worker_threads');
  parentPort.on('message', (m) => {
    if (m !== 'atomics') return parentPort.postMessage(m);
    for (let seen = Atomics.load(ctl, 0); ; ) {
      Atomics.wait(ctl, 0, seen);
      seen = Atomics.load(ctl, 0);
      if (seen < 0) return;
      Atomics.add(ctl, 1, 1);
      Atomics.notify(ctl, 1);
    }
  });`,
  { eval: true, workerData: ctl },
);
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
// A message the size of a decode step's recording: a few steps of a kernel name and its arguments.
const step = { kernel: 'f32_attention_fused', args: [1024, 0, 12, 4096] };
const byMessage = [];
for (let i = 0; i < ROUND_TRIPS; i++) {
  const t0 = performance.now();
  await new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage({ id: i, steps: [step, step, step, step] });
  });
  byMessage.push(performance.now() - t0);
}
worker.postMessage('atomics');
await new Promise((resolve) => setTimeout(resolve, 50));
const byAtomics = [];
for (let i = 0; i < ROUND_TRIPS; i++) {
  const seen = Atomics.load(ctl, 1);
  const t0 = performance.now();
  Atomics.add(ctl, 0, 1);
  Atomics.notify(ctl, 0);
  const wait = Atomics.waitAsync(ctl, 1, seen);
  if (wait.async) await wait.value;
  byAtomics.push(performance.now() - t0);
}
Atomics.store(ctl, 0, -1);
Atomics.notify(ctl, 0);
await worker.terminate();
const us = (v) => `${(median(v) * 1000).toFixed(0)} µs`;
console.log(`round trip to a worker thread and back, median of ${ROUND_TRIPS}:`);
console.log(`  a message each way: ${us(byMessage)}`);
console.log(`  Atomics each way (worker in Atomics.wait, caller awaiting Atomics.waitAsync): ${us(byAtomics)}`);
