// What a first call in Chromium waits for: SDPA N×64 for a few N, the first call right after init() or after the page
// has idled a while (when V8's optimising compiles, which the warm-up asks for, are done), against the steady time.
// An excess that waiting removes is code still being compiled; one that stays and grows with N is the first touch of
// the memory the call grows into. A new browser context per load; medians over loads taking turns.
// `node --import tsx bench/first-call-sizes-page.ts [loads = 5] [sizes = 64,512,1024] [pauses = 0,1000]`
import { withBenchPage } from './page-bench.js';
import { median, toMarkdown } from './report.js';

const [loads = '5', sizes = '64,512,1024', pauses = '0,1000'] = process.argv.slice(2);
const D = 64;
const CALLS = 40;

const APP = `
const params = new URLSearchParams(location.search);
const [n, pause] = [Number(params.get('n')), Number(params.get('pause'))];
const data = (seed) => Float32Array.from({ length: n * ${D} }, (_, i) => Math.sin(i * 0.37 + seed));
const [q, k, v] = [1, 2, 3].map((seed) => ({ data: data(seed), shape: [n, ${D}] }));
const { init, scaledDotProductAttention } = await import('./lib/wasm-attention.min.js');
await init();
if (pause) await new Promise((resolve) => setTimeout(resolve, pause));
const times = [];
for (let i = 0; i < ${CALLS}; i++) {
  const t0 = performance.now();
  scaledDotProductAttention(q, k, v);
  times.push(performance.now() - t0);
}
window.__result = times;
`;

const cases = sizes
  .split(',')
  .flatMap((n) => pauses.split(',').map((pause) => ({ n: Number(n), pause: Number(pause) })));
const result = await withBenchPage(
  'first calls by size',
  { lib: ['wasm-attention.min.js'], data: {}, app: APP },
  async (load) => {
    const times = cases.map(() => [] as number[][]);
    for (let i = 0; i < Number(loads); i++)
      for (const [c, { n, pause }] of cases.entries())
        times[c].push((await load(`?n=${n}&pause=${pause}`)) as number[]);
    return times;
  },
);
if (typeof result === 'string') {
  console.log(result);
  process.exit(0);
}
const rows = cases.map(({ n, pause }, c) => {
  const loadsOf = result[c];
  const first = median(loadsOf.map((t) => t[0]));
  const second = median(loadsOf.map((t) => t[1]));
  const steady = median(loadsOf.map((t) => median(t.slice(30))));
  return [
    `SDPA ${n}×${D}`,
    String(pause),
    first.toFixed(1),
    second.toFixed(1),
    steady.toFixed(2),
    `${(first / steady).toFixed(1)}×`,
    (first - steady).toFixed(1),
  ];
});
console.log(
  toMarkdown([
    [
      'work',
      'idle after init(), ms',
      'first call, ms',
      'second call, ms',
      'steady, ms',
      'first ÷ steady',
      'first − steady, ms',
    ],
    ...rows,
  ]),
);
console.log(`Medians over ${loads} loads of each; steady is the median of calls 31–${CALLS}.`);
