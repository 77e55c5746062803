import { init, matmul, scaledDotProductAttention } from '../src/index.js';
await init({ build: (process.argv[2] as any) ?? 'simd' });
const rnd = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
const a = { data: rnd(512 * 512), shape: [512, 512] }, b = { data: rnd(512 * 512), shape: [512, 512] };
for (let r = 0; r < 4; r++) { const t0 = performance.now(); for (let i = 0; i < 5; i++) matmul(a, b); const ms = (performance.now() - t0) / 5; console.log('mm512', ms.toFixed(2), 'ms', (2 * 512 ** 3 / ms / 1e6).toFixed(1), 'GFLOP/s'); }
const q = { data: rnd(512 * 64), shape: [512, 64] };
for (let r = 0; r < 3; r++) { const t0 = performance.now(); for (let i = 0; i < 20; i++) scaledDotProductAttention(q, q, q); const ms = (performance.now() - t0) / 20; console.log('sdpa', ms.toFixed(2), 'ms', (4 * 512 * 512 * 64 / ms / 1e6).toFixed(1), 'GFLOP/s'); }
