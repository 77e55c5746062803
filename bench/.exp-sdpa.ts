import { createEngine, scaledDotProductAttention } from '../src/index.js';
import { runtimeOf } from '../src/engine.js';
const n = Number(process.argv[2] ?? 512), d = 64;
const r = (s: number) => Float32Array.from({ length: n * d }, (_, i) => Math.sin(i * s));
const [q, k, v] = [1, 2, 3].map((s) => ({ data: r(s), shape: [n, d] }));
const e1 = await createEngine({ threads: 1 });
const e2 = await createEngine({ threads: 2 });
await new Promise((res) => setTimeout(res, 300));
const pool = runtimeOf(e2).pool!;
const t = (e: typeof e1, reps: number) => { const t0 = performance.now(); for (let i = 0; i < reps; i++) scaledDotProductAttention(q, k, v, { engine: e }); return (performance.now() - t0) / reps; };
for (let i = 0; i < 200; i++) { t(e1, 1); t(e2, 1); }
const s1: number[] = [], s2: number[] = [];
let wu = pool.workerUnits;
for (let round = 0; round < 21; round++) { s1.push(t(e1, 20)); s2.push(t(e2, 20)); }
const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];
console.log({ n, one: med(s1).toFixed(3), two: med(s2).toFixed(3), speedup: (med(s1) / med(s2)).toFixed(2), workerShare: ((pool.workerUnits - wu) / (21 * 20)).toFixed(2) });
e1.close(); e2.close();
// Phase timing on each engine: wrap the attention kernel and the pack.
for (const [name, e] of [['one', await createEngine({ threads: 1 })], ['two', await createEngine({ threads: 2 })]] as const) {
  await new Promise((res) => setTimeout(res, 300));
  const kern = runtimeOf(e).kernels as unknown as Record<string, (...a: number[]) => unknown>;
  const orig = kern.f32_attention_fused;
  let inKernel = 0;
  kern.f32_attention_fused = (...a: number[]) => { const t0 = performance.now(); const r = orig(...a); inKernel += performance.now() - t0; return r; };
  for (let i = 0; i < 200; i++) scaledDotProductAttention(q, k, v, { engine: e });
  inKernel = 0;
  const t0 = performance.now();
  for (let i = 0; i < 400; i++) scaledDotProductAttention(q, k, v, { engine: e });
  const total = (performance.now() - t0) / 400;
  console.log(name, { total: total.toFixed(3), kernel: (inKernel / 400).toFixed(3), outside: (total - inKernel / 400).toFixed(3) });
  e.close();
}
