import { createEngine, scaledDotProductAttention } from '../src/index.js';
import { runtimeOf } from '../src/engine.js';
const n = Number(process.argv[2] ?? 512), d = 64;
const r = (s: number) => Float32Array.from({ length: n * d }, (_, i) => Math.sin(i * s));
const [q, k, v] = [1, 2, 3].map((s) => ({ data: r(s), shape: [n, d] }));
const es = [await createEngine({ threads: 1 }), await createEngine({ threads: 2 })];
await new Promise((res) => setTimeout(res, 300));
const phases = es.map(() => ({ kernel: 0, read: 0, calls: 0 }));
es.forEach((e, i) => {
  const rt = runtimeOf(e) as any;
  const kf = rt.kernels.f32_attention_fused;
  rt.kernels.f32_attention_fused = (...a: number[]) => { const t0 = performance.now(); kf(...a); phases[i].kernel += performance.now() - t0; };
  const rf = rt.heap.readF32;
  rt.heap.readF32 = (...a: number[]) => { const t0 = performance.now(); const x = rf(...a); phases[i].read += performance.now() - t0; return x; };
});
const settle = () => new Promise((res) => setTimeout(res, 30));
const tot = [0, 0];
for (let round = 0; round < 41; round++) {
  for (const i of round % 2 ? [1, 0] : [0, 1]) {
    const t0 = performance.now();
    for (let c = 0; c < 15; c++) scaledDotProductAttention(q, k, v, { engine: es[i] });
    if (round > 4) { tot[i] += performance.now() - t0; phases[i].calls += 15; } else { phases[i].kernel = 0; phases[i].read = 0; }
    await settle();
  }
}
es.forEach((_, i) => console.log(i + 1, 'threads', { total: (tot[i] / phases[i].calls).toFixed(3), kernel: (phases[i].kernel / phases[i].calls).toFixed(3), read: (phases[i].read / phases[i].calls).toFixed(3) }));
for (const e of es) e.close();
