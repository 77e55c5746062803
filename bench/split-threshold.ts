// Where sharing a call between 2 threads starts to pay (src/runtime/threads/thread-jobs.ts MIN_SPLIT_MADDS_SHARED):
// calls of growing size on engines of 1 and 2 threads, taking turns, each sample a burst of calls back to back (as in a
// decoding loop or a batch); the same calls one at a time after 20 ms idle; and bursts of 5 after 20 ms idle (a rule
// for calls after idle must serve the single calls and the bursts both: CONTRIBUTING.md). A third engine of 2 threads
// shares small jobs right after a sleep too (shareAsleepMadds 0: without SHARE_ASLEEP_MADDS's rule). `node --import tsx
// bench/split-threshold.ts`; prints tables, changes nothing.
import { createEngine, linear, matmul, scaledDotProductAttention, type Tensor } from '../src/index.js';
import { runtimeOf } from '../src/runtime/engine.js';
import { MIN_SPLIT_MADDS_SHARED, SHARE_ASLEEP_MADDS } from '../src/runtime/threads/thread-jobs.js';
import { median, toMarkdown } from './report.js';

const rand = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
const t = (shape: number[]): Tensor => ({ data: rand(shape.reduce((a, b) => a * b, 1)), shape });

const one = await createEngine({ threads: 1 });
const two = await createEngine({ threads: 2 });
const noRule = await createEngine({ threads: 2 });
runtimeOf(noRule).pool!.shareAsleepMadds = 0;
await new Promise((resolve) => setTimeout(resolve, 300));

type Case = [name: string, madds: number, run: (engine: typeof one) => unknown];
const cases: Case[] = [
  ...[1024, 2048, 4096].map((lk): Case => {
    const [q, k] = [t([12, 1, 64]), t([12, lk, 64])];
    return [
      `attention, 12 heads × 1 query × ${lk} keys (a decode step's)`,
      12 * lk * 128,
      (engine) => scaledDotProductAttention(q, k, k, { engine }),
    ];
  }),
  ...[128, 256, 384, 512, 768].map((n): Case => {
    const x = t([n, 64]);
    return [`attention ${n}×${n}×64`, n * n * 128, (engine) => scaledDotProductAttention(x, x, x, { engine })];
  }),
  ...[4, 16, 64, 128].map((m): Case => {
    const [x, w] = [t([m, 768]), t([768, 768])];
    return [`linear ${m}×768 → 768`, m * 768 * 768, (engine) => linear(x, w, undefined, { engine })];
  }),
  ...[128, 256, 320, 400, 512].map((n): Case => {
    const a = t([n, n]);
    return [`matmul ${n}³`, n ** 3, (engine) => matmul(a, a, { engine })];
  }),
];

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rows: string[][] = [];
for (const [name, madds, run] of cases) {
  const row = [name, (madds / 2 ** 20).toFixed(2)];
  for (const [burst, idle] of [
    [10, 0],
    [1, 20],
    [5, 20],
  ]) {
    const ms: number[][] = [[], [], []];
    for (let round = 0; round < (burst > 1 ? 15 : 30); round++) {
      const order = [...[one, two, noRule].entries()];
      for (const [i, engine] of round % 2 ? order.reverse() : order) {
        await pause(idle);
        const t0 = performance.now();
        for (let c = 0; c < burst; c++) run(engine);
        ms[i].push((performance.now() - t0) / burst);
      }
    }
    const [m1, m2, m3] = ms.map(median);
    row.push((m1 * 1000).toFixed(0), (m2 * 1000).toFixed(0), `${(m1 / m2).toFixed(2)}×`, `${(m1 / m3).toFixed(2)}×`);
  }
  rows.push(row);
  console.log(row.join(' | '));
}
console.log(
  `\nMIN_SPLIT_MADDS_SHARED is ${MIN_SPLIT_MADDS_SHARED / 2 ** 20}·2^20: jobs with fewer multiply-adds run on one thread even at 2. SHARE_ASLEEP_MADDS is ${SHARE_ASLEEP_MADDS / 2 ** 20}·2^20.\n`,
);
const head = [
  'call',
  'multiply-adds, 2^20',
  'back to back: 1 thread, µs',
  '2 threads, µs',
  'speed-up',
  'without the rule',
  'after 20 ms idle: 1 thread, µs',
  '2 threads, µs',
  'speed-up',
  'without the rule',
  'bursts of 5 after 20 ms idle: 1 thread, µs per call',
  '2 threads, µs',
  'speed-up',
  'without the rule',
];
console.log(toMarkdown([head, ...rows]));
one.close();
two.close();
noRule.close();
