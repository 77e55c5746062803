// A worker_threads job: its own engine, then (once every job is ready, at the gate's signal) attention calls timed
// on the clock all threads share, the last output posted back. It goes on calling until every job has started (for at
// most 10 s), so that the calls overlap however late the scheduler starts the other jobs, unless a job cannot compute
// while another does.
import { parentPort, workerData } from 'node:worker_threads';
import { init, scaledDotProductAttention } from '../dist/index.js';

const { build, q, k, v, causal, gate, jobs } = workerData;
const engine = await init({ build });
const flags = new Int32Array(gate);
Atomics.add(flags, 0, 1);
Atomics.notify(flags, 0);
Atomics.wait(flags, 1, 0);
const t0 = performance.now();
const start = performance.timeOrigin + t0;
Atomics.add(flags, 2, 1);
let [first, output, same] = [undefined, undefined, true];
for (let i = 0; i < 20 || (Atomics.load(flags, 2) < jobs && performance.now() - t0 < 10_000); i++) {
  output = scaledDotProductAttention(q, k, v, { causal }).output.data;
  first ??= output;
  same &&= output.every((x, j) => x === first[j]);
}
const end = performance.timeOrigin + performance.now();
parentPort.postMessage({ build: engine.info.build, output, same, start, end });
