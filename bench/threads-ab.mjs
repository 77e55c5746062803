// Two builds of the library side by side on 2 threads, in one process: A's dist/ and B's dist/, each on an engine of
// 2 threads, and B on 1 thread for the speed-ups; calls take turns, the order alternating each round, and the results
// must be the same bits. For changes to how threads share work (src/runtime/threads/), which kernel-ab.mjs cannot see.
// A's dist/ from another commit: `git worktree add /tmp/a <commit>`, link node_modules, copy build/*.wasm and
// src/generated, `node scripts/build-bundles.mjs` there.
// `node --experimental-wasm-relaxed-simd bench/threads-ab.mjs A/dist B/dist [simd|relaxed-simd] [work] [rounds]
// [tight|async][N]`, work one of matmul (1024³), mha (MultiHeadAttention 512×768), sdpaN (SDPA N×64, no weights),
// decodeN (a decode step of MultiHeadAttention 768 wide, 12 heads, N kv heads, 1024 tokens cached, no weights;
// decodeNw with weights).
// Each turn is one call after a pause of 20 ms; with `tight`, N calls back to back (a loop with no pauses; 5 unless
// given, e.g. `tight60`), timed per call; with `async`, as `tight` through the async twins, each call awaited before
// the next. The side that runs second can be favoured: for streams of async decode steps, the same build as A and B
// read B ÷ A 0.83 and 0.89. Compare both orders before trusting a few per cent.
import { resolve } from 'node:path';
import { decodeStep } from './decode-step.mjs';

const [aDir, bDir, build = 'simd', work = 'matmul', rounds = '21', mode] = process.argv.slice(2);
const [, kind, count] = (mode ?? '').match(/^(tight|async)(\d*)$/) ?? [];
if (!aDir || !bDir || (mode && !kind))
  throw new Error('usage: bench/threads-ab.mjs A/dist B/dist [build] [work] [rounds] [tight|async][N]');
const calls = kind ? Number(count || 5) : 1;
const async = kind === 'async';
const [A, B] = await Promise.all([aDir, bDir].map((d) => import(resolve(d, 'index.js'))));

const [n, L, E] = [1024, 512, 768];
const a = { data: Float32Array.from({ length: n * n }, (_, i) => Math.sin(i)), shape: [n, n] };
const x = { data: Float32Array.from({ length: L * E }, (_, i) => Math.sin(i * 0.37)), shape: [L, E] };
/** One call of the workload on `lib` at `threads` threads. */
async function call(lib, threads) {
  const engine = await lib.createEngine({ build, threads });
  if (work === 'matmul') {
    if (async) return async () => (await lib.matmulAsync(a, a, { engine })).data;
    return () => lib.matmul(a, a, { engine }).data;
  }
  const sdpa = work.match(/^sdpa(\d+)$/);
  if (sdpa) {
    const L = Number(sdpa[1]);
    const q = { data: Float32Array.from({ length: L * 64 }, (_, i) => Math.sin(i * 0.37)), shape: [L, 64] };
    const options = { engine, returnWeights: false };
    if (async) return async () => (await lib.scaledDotProductAttentionAsync(q, q, q, options)).output.data;
    return () => lib.scaledDotProductAttention(q, q, q, options).output.data;
  }
  const decode = work.match(/^decode(\d+)(w?)$/);
  if (decode) {
    const step = decodeStep(lib, engine, Number(decode[1]), decode[2] === 'w');
    return async ? step.async : step.sync;
  }
  const m = new lib.MultiHeadAttention(E, 12, { engine, seed: 1 });
  if (async) return async () => (await m.forwardAsync(x, x, x, { needWeights: false })).output.data;
  return () => m.forward(x, x, x, { needWeights: false }).output.data;
}
const runs = { 'B, 1 thread': await call(B, 1), 'A, 2 threads': await call(A, 2), 'B, 2 threads': await call(B, 2) };
// The workers start a few tens of ms after their engine.
await new Promise((r) => setTimeout(r, 300));
const outputs = [];
for (const run of Object.values(runs)) {
  let out;
  for (let i = 0; i < 5; i++) out = await run();
  outputs.push(out);
}
if (!outputs.every((o) => o.every((v, i) => Object.is(v, outputs[0][i])))) throw new Error('the results differ');

const names = Object.keys(runs);
const times = Object.fromEntries(names.map((k) => [k, []]));
for (let r = 0; r < Number(rounds); r++) {
  for (const k of r % 2 ? [...names].reverse() : names) {
    // As the threads section: the helpers of the call before go idle first.
    await new Promise((res) => setTimeout(res, 20));
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await runs[k]();
    times[k].push((performance.now() - t0) / calls);
  }
}
const median = (v) => [...v].sort((p, q) => p - q)[v.length >> 1];
const [one, ta, tb] = names.map((k) => median(times[k]));
const bFaster = times['B, 2 threads'].filter((t, i) => t < times['A, 2 threads'][i]).length;
console.log(
  `${build} ${work}${async ? ', async' : ''}${calls > 1 ? ` (${calls} calls back to back)` : ''}: 1 thread ${one.toFixed(1)} ms; 2 threads A ${ta.toFixed(1)} ms (${(one / ta).toFixed(2)}×), ` +
    `B ${tb.toFixed(1)} ms (${(one / tb).toFixed(2)}×); B ÷ A ${(tb / ta).toFixed(3)}, B faster in ${bFaster} of ${rounds} rounds; same bits`,
);
