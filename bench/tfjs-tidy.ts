// Why tfjs-wasm's rows read results outside tf.tidy: a 512³ matMul timed both ways in one process (tidy walks what
// its function returns, element by element, so returning dataSync() from inside pays per element of the result).
import { median } from './report.js';
import { tf, tfjsReady, tfRun } from './peers/tfjs.js';

await tfjsReady();
const n = 512;
const a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
const ways: Record<string, () => unknown> = {
  'dataSync() returned from inside tf.tidy': () =>
    tf.tidy(() => tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(a, [n, n])).dataSync()),
  'tidy returns the tensor, read outside (tfRun)': () =>
    tfRun(() => tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(a, [n, n]))),
};
for (const [name, run] of Object.entries(ways)) {
  for (let i = 0; i < 5; i++) run();
  const times: number[] = [];
  for (let i = 0; i < 11; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  console.log(`${name}: ${median(times).toFixed(1)} ms (matmul ${n}³, median of 11)`);
}
