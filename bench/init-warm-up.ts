// What a warm-up inside init() would buy (issue "Fast from the first call"): in a new Node process per run, init(),
// then `k` SDPA calls on a small input (what init could make), a 50 ms pause (a script preparing its inputs), then
// SDPA 512×64 eight times. For each k: the warm-up's time, the first call and the worst of calls 2–5; medians over
// runs. `node --import tsx bench/init-warm-up.ts [runs]`.
import { execFileSync } from 'node:child_process';
import { median } from './report.js';

const COUNTS = [0, 5, 20, 100];
const SCRIPT = (k: number) => `
const { init, scaledDotProductAttention } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
await init();
const t = (n, s) => ({ data: Float32Array.from({ length: n * 64 }, (_, i) => Math.sin(i * s)), shape: [n, 64] });
const small = t(64, 0.1);
let t0 = performance.now();
for (let i = 0; i < ${k}; i++) scaledDotProductAttention(small, small, small);
const warm = performance.now() - t0;
await new Promise((resolve) => setTimeout(resolve, 50));
const [q, k, v] = [t(512, 1), t(512, 2), t(512, 3)];
const calls = [];
for (let i = 0; i < 8; i++) { t0 = performance.now(); scaledDotProductAttention(q, k, v); calls.push(performance.now() - t0); }
console.log(JSON.stringify({ warm, calls }));
`;

const runs = Number(process.argv[2] ?? 7);
console.log(
  `SDPA 512×64 after init() and k calls on 64×64 (plain build, Node ${process.version}; medians of ${runs} processes)`,
);
console.log('k      warm-up, ms   first call, ms   worst of calls 2–5, ms   call 8, ms');
for (const k of COUNTS) {
  const r = Array.from(
    { length: runs },
    () =>
      JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', SCRIPT(k)], { encoding: 'utf8' }).trim(),
      ) as { warm: number; calls: number[] },
  );
  const m = (f: (x: (typeof r)[number]) => number) => median(r.map(f)).toFixed(1);
  console.log(
    `${String(k).padEnd(7)}${m((x) => x.warm).padStart(11)}${m((x) => x.calls[0]).padStart(17)}${m((x) => Math.max(...x.calls.slice(1, 5))).padStart(25)}${m((x) => x.calls[7]).padStart(13)}`,
  );
}
