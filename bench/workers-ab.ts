// Two builds of the library side by side in worker mode, in one Chromium page without cross-origin isolation: this
// checkout's dist/ (A) and another dist/ (B, e.g. another commit's: see bench/threads-ab.mjs), each on an engine of 2
// threads (2 Workers) through MultiHeadAttention 512×768's forwardAsync, and A's forward on 1 thread for the speed-ups;
// the calls take turns, the order alternating each round, and the results must be the same bits. The page moves a lot
// on this VM: with B a copy of this dist/, five runs gave B ÷ A from 0.89 to 1.03; a difference smaller than that needs
// many runs to show.
// `node --import tsx bench/workers-ab.ts B/dist [rounds = 21]`
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { withBenchPage } from './page-bench.js';
import { median } from './report.js';

const [other, rounds = '21'] = process.argv.slice(2);
if (!other) throw new Error('usage: bench/workers-ab.ts B/dist [rounds]');
const FILES = ['wasm-attention.min.js', 'browser-pool.js', 'thread-worker.browser.js'];
const [L, E, H] = [512, 768, 12];

const APP = `
const [A, B] = await Promise.all([import('./lib/wasm-attention.min.js'), import('./data/wasm-attention.min.js')]);
const x = { data: Float32Array.from({ length: ${L * E} }, (_, i) => Math.sin(i * 0.37) * 0.8), shape: [1, ${L}, ${E}] };
const mha = async (lib, threads) => new lib.MultiHeadAttention(${E}, ${H}, { engine: await lib.createEngine({ threads }), seed: 3 });
const [a2, b2, a1] = [await mha(A, 2), await mha(B, 2), await mha(A, 1)];
const runs = {
  'A, 1 thread': async () => a1.forward(x, x, x, { needWeights: false }).output.data,
  'A, 2 workers': async () => (await a2.forwardAsync(x, x, x, { needWeights: false })).output.data,
  'B, 2 workers': async () => (await b2.forwardAsync(x, x, x, { needWeights: false })).output.data,
};
const outputs = [];
for (const run of Object.values(runs)) {
  const start = performance.now();
  let out;
  for (let i = 0; i < 5 || performance.now() - start < 500; i++) out = await run();
  outputs.push(out);
}
const names = Object.keys(runs);
const times = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < ${Number(rounds)}; r++) {
  for (const n of r % 2 ? [...names].reverse() : names) {
    // What a run leaves going (a Worker making the next call's arrays) must not land on the next one's timing.
    await new Promise((resolve) => setTimeout(resolve, 30));
    const t0 = performance.now();
    await runs[n]();
    times[n].push(performance.now() - t0);
  }
}
const same = outputs.every((o) => o.every((v, i) => Object.is(v, outputs[0][i])));
window.__result = { times, same };
`;

const data = Object.fromEntries(FILES.map((f) => [f, readFileSync(resolve(other, f))]));
const r = await withBenchPage('worker mode A/B', { lib: FILES, data, app: APP }, (load) => load());
if (typeof r === 'string') console.log(r);
else {
  const { times, same } = r as { times: Record<string, number[]>; same: boolean };
  if (!same) throw new Error('the results differ');
  const [one, a, b] = Object.values(times).map(median);
  const bFaster = times['B, 2 workers'].filter((t, i) => t < times['A, 2 workers'][i]).length;
  console.log(
    `1 thread ${one.toFixed(1)} ms; 2 workers A ${a.toFixed(1)} ms (${(one / a).toFixed(2)}×), B ${b.toFixed(1)} ms ` +
      `(${(one / b).toFixed(2)}×); B ÷ A ${(b / a).toFixed(3)}, B faster in ${bFaster} of ${rounds} rounds; same bits`,
  );
}
