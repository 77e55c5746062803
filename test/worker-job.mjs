// A worker_threads job: its own engine, then (once every job is ready, at the gate's signal) attention calls timed
// on the clock all threads share, the last output posted back.
import { parentPort, workerData } from 'node:worker_threads';
import { init, scaledDotProductAttention } from '../dist/index.js';

const { build, q, k, v, causal, gate } = workerData;
const engine = await init({ build });
const flags = new Int32Array(gate);
Atomics.add(flags, 0, 1);
Atomics.notify(flags, 0);
Atomics.wait(flags, 1, 0);
const start = performance.timeOrigin + performance.now();
const results = [];
for (let i = 0; i < 20; i++) results.push(scaledDotProductAttention(q, k, v, { causal }).output.data);
const end = performance.timeOrigin + performance.now();
parentPort.postMessage({
  build: engine.info.build,
  output: results[results.length - 1],
  same: results.every((r) => r.every((x, j) => x === results[0][j])),
  start,
  end,
});
