import { createEngine, scaledDotProductAttention } from '../src/index.js';
const n = 512, d = 64;
const r = (s: number) => Float32Array.from({ length: n * d }, (_, i) => Math.sin(i * s));
const [q, k, v] = [1, 2, 3].map((s) => ({ data: r(s), shape: [n, d] }));
const e1 = await createEngine({ threads: 1 });
const t0 = performance.now();
for (let i = 0; i < 3000; i++) scaledDotProductAttention(q, k, v, { engine: e1 });
console.log(((performance.now() - t0) / 3000).toFixed(3));
