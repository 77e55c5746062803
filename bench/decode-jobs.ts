// Where a decode step's time goes at 1 and 2 threads: engines of each count take turns on the same steps (a
// MultiHeadAttention of width E, H heads and KV kv heads, P tokens cached, steps back to back), and print the step's
// median time and each kernel call's (the GEMMs by output width, attention per call), in µs. What chose
// MIN_SPLIT_MADDS_SHARED (src/runtime/threads/thread-jobs.ts). `node --import tsx bench/decode-jobs.ts [E H KV P]
// [rounds = 21] [other.wasm]`: with another build of the module (a simd one, e.g. a worktree's build/simd.wasm), its
// engines take turns with this checkout's too, for kernel changes a decode step should show.
import { readFileSync } from 'node:fs';
import { createEngine, MultiHeadAttention } from '../src/index.js';
import { runtimeOf } from '../src/runtime/engine.js';

const [E, H, KV, P, ROUNDS] = [768, 12, 12, 1024, 21].map((d, i) => Number(process.argv[2 + i] ?? d));
const OTHER = process.argv[7];
const STEPS = 20;
const data = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * s) * 0.5);
const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];

async function decoder(threads: number, wasm?: string) {
  const engine = await createEngine(wasm ? { wasm: readFileSync(wasm), threads } : { build: 'simd', threads });
  const kernels = runtimeOf(engine).kernels as unknown as Record<string, (...a: number[]) => unknown>;
  const calls = new Map<string, number[]>();
  for (const name of ['f32_gemm_prepacked', 'f32_attention_fused']) {
    const kernel = kernels[name];
    kernels[name] = (...a: number[]) => {
      const t0 = performance.now();
      const out = kernel(...a);
      const key = name === 'f32_gemm_prepacked' ? `GEMM to ${a[2]}` : 'attention';
      const times = calls.get(key) ?? calls.set(key, []).get(key)!;
      times.push(performance.now() - t0);
      return out;
    };
  }
  const m = new MultiHeadAttention(E, H, { engine, numKVHeads: KV });
  const cache = m.createCache({ batch: 1, maxLength: P + 1 });
  m.forwardStep({ data: data(P * E, 0.37), shape: [1, P, E] }, cache, { needWeights: false });
  const x = { data: data(E, 0.11), shape: [1, 1, E] };
  const step = () => {
    m.forwardStep(x, cache, { needWeights: false });
    cache.truncate(P);
  };
  const name = `${threads} thread${threads > 1 ? 's' : ''}${OTHER ? (wasm ? ` (${wasm})` : ' (this checkout)') : ''}`;
  return { name, calls, step, steps: [] as number[] };
}

const runs = [await decoder(1), await decoder(2)];
if (OTHER) runs.push(await decoder(1, OTHER), await decoder(2, OTHER));
for (const t0 = performance.now(); performance.now() - t0 < 500;) runs.forEach((r) => r.step());
runs.forEach((r) => r.calls.clear());
for (let round = 0; round < ROUNDS; round++)
  for (const r of round % 2 ? [...runs].reverse() : runs) {
    const t0 = performance.now();
    for (let i = 0; i < STEPS; i++) r.step();
    r.steps.push((performance.now() - t0) / STEPS);
  }
console.log(`decode step, E ${E}, ${H} heads, ${KV} kv heads, ${P} cached; medians in µs (calls per step)`);
for (const r of runs) {
  const calls = [...r.calls].map(([k, v]) => `${k} ${(median(v) * 1000).toFixed(0)} (×${v.length / (ROUNDS * STEPS)})`);
  console.log(`${r.name}: step ${(median(r.steps) * 1000).toFixed(0)}; ${calls.join(', ')}`);
}
console.log(`1 thread ÷ 2 threads: ${(median(runs[0].steps) / median(runs[1].steps)).toFixed(2)}×`);
if (OTHER) {
  const ratio = (i: number) => (median(runs[i].steps) / median(runs[i + 2].steps)).toFixed(3);
  console.log(`this checkout ÷ other, step: 1 thread ${ratio(0)}, 2 threads ${ratio(1)}`);
}
process.exit(0);
