// What onnxruntime-web's past/present decode path copies every step, alone: a graph that adds 0 to a cache of
// 1024 tokens (past in, present out, as the decode rows' graph moves them), single thread, after the suite's
// warm-up; the median of 100 runs. Prints JSON on its last line.
import { cacheCopyGraph } from './models/graphs.js';
import { modelBytes } from './models/onnx-writer.js';
import { ortRunner } from './peers/onnxruntime.js';
import { median } from './report.js';

const [P, hd] = [1024, 64];
const out: Array<{ kvHeads: number; ms: number }> = [];
for (const kvHeads of [12, 4]) {
  const shape = [1, kvHeads, P, hd];
  const run = await ortRunner(modelBytes(cacheCopyGraph(1, P, kvHeads, hd)), { past_key: shape, past_value: shape });
  const cache = Float32Array.from({ length: kvHeads * P * hd }, (_, i) => Math.sin(i));
  const start = performance.now();
  for (let i = 0; i < 5 || performance.now() - start < 500; i++) await run([cache, cache]);
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t0 = performance.now();
    await run([cache, cache]);
    times.push(performance.now() - t0);
  }
  out.push({ kvHeads, ms: median(times) });
}
console.log(JSON.stringify(out));
