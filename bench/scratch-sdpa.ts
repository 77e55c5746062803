import { init, scaledDotProductAttention } from '../src/index.js';
const build = (process.argv[2] as any) ?? 'simd';
await init({ build });
const rnd = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
for (const L of [512, 2048]) {
  const q = { data: rnd(L * 64), shape: [L, 64] }, k = { data: rnd(L * 64), shape: [L, 64] }, v = { data: rnd(L * 64), shape: [L, 64] };
  for (const [causal, returnWeights] of [[false, false], [true, false], [false, true]]) {
    const f = () => scaledDotProductAttention(q, k, v, { causal, returnWeights });
    f(); f();
    const times: number[] = [];
    for (let r = 0; r < (L > 1000 ? 7 : 31); r++) { const t0 = performance.now(); f(); times.push(performance.now() - t0); }
    times.sort((a, b) => a - b);
    const ms = times[times.length >> 1];
    console.log(build, L, causal ? 'causal' : '      ', returnWeights ? 'weights' : 'fused  ', ms.toFixed(2), 'ms', (4 * L * L * 64 / ms / 1e6 / (causal ? 2 : 1)).toFixed(1), 'GFLOP/s');
  }
}
