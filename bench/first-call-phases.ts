// Where a first call's time goes, in new Node processes: SDPA 512×64 right after init() (which warms the kernels up)
// and a 50 ms pause, eight times; for the first call and the 8th, the whole call and the attention kernel alone. Then
// the same with 4 MiB of linear memory touched before the calls (in the pause), to show what the first touch of new
// memory pages costs the first call on this machine. Medians over processes.
// `node --import tsx bench/first-call-phases.ts [processes = 5]`
import { execFileSync } from 'node:child_process';
import { median } from './report.js';

const SCRIPT = (touch: boolean) => `
const { init, scaledDotProductAttention } = await import(${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)});
const { runtimeOf } = await import(${JSON.stringify(new URL('../src/runtime/engine.ts', import.meta.url).href)});
const rt = runtimeOf(await init({ build: 'simd' }));
if (${touch}) rt.heap.scoped([4 << 20], ([p]) => new Uint8Array(rt.heap.f32().buffer, p, 4 << 20).fill(1));
await new Promise((resolve) => setTimeout(resolve, 50));
const t = (n, s) => ({ data: Float32Array.from({ length: n * 64 }, (_, i) => Math.sin(i * s)), shape: [n, 64] });
const [q, k, v] = [t(512, 1), t(512, 2), t(512, 3)];
let inKernel = 0;
const kernel = rt.kernels.f32_attention_fused;
rt.kernels.f32_attention_fused = (...a) => { const t0 = performance.now(); kernel(...a); inKernel += performance.now() - t0; };
const calls = [], kernels = [];
for (let i = 0; i < 8; i++) {
  inKernel = 0;
  const t0 = performance.now();
  scaledDotProductAttention(q, k, v);
  calls.push(performance.now() - t0);
  kernels.push(inKernel);
}
console.log(JSON.stringify({ calls, kernels }));`;

const processes = Number(process.argv[2] ?? 5);
console.log(`SDPA 512×64, plain build, Node ${process.version}: ms, medians of ${processes} processes`);
console.log('memory before the calls       first call (kernel)   call 8 (kernel)');
for (const touch of [false, true]) {
  const runs = Array.from({ length: processes }, () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT(touch)], {
      encoding: 'utf8',
    });
    return JSON.parse(out.trim().split('\n').pop()!) as { calls: number[]; kernels: number[] };
  });
  const m = (f: (r: (typeof runs)[number]) => number) => median(runs.map(f)).toFixed(2);
  const label = touch ? '4 MiB touched' : 'as init() leaves it';
  console.log(
    `${label.padEnd(30)}${`${m((r) => r.calls[0])} (${m((r) => r.kernels[0])})`.padEnd(22)}${m((r) => r.calls[7])} (${m((r) => r.kernels[7])})`,
  );
}
