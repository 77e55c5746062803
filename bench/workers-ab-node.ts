// Worker mode's replicas of two builds side by side in Node, in one process: worker mode (src/runtime/threads/
// replica-pool.ts, as a page without cross-origin isolation runs it) on 2 replicas each, one engine starting A's
// thread worker (A/thread-worker.js) and one B's, through MultiHeadAttention 512×768's forwardAsync, and `forward` on
// an engine of 1 thread for A's speed-up; the three take turns in every order in turn, and the results must be the
// same bits. The engine's side is this checkout's src/: for changes to what the replicas run
// (src/runtime/threads/replica-body.ts and what it imports). Quicker and steadier than bench/workers-ab.ts's Chromium
// page, which compares whole builds.
// `node --import tsx bench/workers-ab-node.ts A/dist B/dist [rounds = 42] [simd | relaxed-simd]`
// (relaxed-simd on Node 20: node --experimental-wasm-relaxed-simd --import tsx bench/workers-ab-node.ts …)
import { resolve } from 'node:path';
import { type Build, createEngine, MultiHeadAttention } from '../src/index.js';
import { replicaPool } from '../src/runtime/threads/replica-pool.js';
import { nodeThreads, threadingForTests } from '../src/runtime/threads/threads.js';
import { median } from './report.js';

const [aDir, bDir, rounds = '42', build = 'simd'] = process.argv.slice(2);
if (!aDir || !bDir) throw new Error('usage: bench/workers-ab-node.ts A/dist B/dist [rounds] [simd|relaxed-simd]');
const [L, E, H] = [512, 768, 12];
// Calls per turn, each awaited before the next.
const CALLS = 3;
// The orders of A, B and the 1-thread run, one a round in turn: with A and B alternating around the 1-thread run
// alone, the same dist/ as A and B read B ÷ A 1.06 and 1.07.
const ORDERS = [
  [0, 1, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
  [1, 0, 2],
  [0, 2, 1],
];

/** MultiHeadAttention 512×768 on an engine of 1 thread. */
const alone = async () =>
  new MultiHeadAttention(E, H, { engine: await createEngine({ build: build as Build }), seed: 3 });

/** MultiHeadAttention 512×768 on an engine in worker mode with 2 replicas started from `dir`'s thread worker. */
async function module(dir: string): Promise<MultiHeadAttention> {
  threadingForTests.pool = replicaPool;
  threadingForTests.start = nodeThreads(resolve(dir, 'thread-worker.js'));
  try {
    const engine = await createEngine({ build: build as Build, threads: 2 });
    return new MultiHeadAttention(E, H, { engine, seed: 3 });
  } finally {
    threadingForTests.pool = undefined;
    threadingForTests.start = undefined;
  }
}

const x = { data: Float32Array.from({ length: L * E }, (_, i) => Math.sin(i * 0.37) * 0.8), shape: [1, L, E] };
const sides = [await module(aDir), await module(bDir), await alone()];
const run = async (i: number) =>
  (i < 2
    ? await sides[i].forwardAsync(x, x, x, { needWeights: false })
    : sides[i].forward(x, x, x, { needWeights: false })
  ).output.data;
// The same warm-up for all: at least 5 calls and half a second each.
const outputs: Float32Array[] = [];
for (const i of [0, 1, 2]) {
  const start = performance.now();
  for (let c = 0; c < 5 || performance.now() - start < 500; c++) outputs[i] = await run(i);
}
for (const i of [1, 2])
  if (outputs[0].some((v, j) => !Object.is(v, outputs[i][j]))) throw new Error('the outputs differ in their bits');
const times: number[][] = [[], [], []];
let bFaster = 0;
for (let r = 0; r < Number(rounds); r++) {
  const turn = [0, 0, 0];
  for (const i of ORDERS[r % ORDERS.length]) {
    await new Promise((done) => setTimeout(done, 20));
    const t0 = performance.now();
    for (let c = 0; c < CALLS; c++) await run(i);
    turn[i] = (performance.now() - t0) / CALLS;
    times[i].push(turn[i]);
  }
  if (turn[1] < turn[0]) bFaster++;
}
const [a, b, one] = times.map(median);
console.log(
  `MultiHeadAttention ${L}×${E} forwardAsync, worker mode, 2 replicas (${build}): A ${a.toFixed(2)} ms, ` +
    `B ${b.toFixed(2)} ms, B ÷ A ${(b / a).toFixed(3)}, B faster in ${bFaster} of ${rounds} rounds; ` +
    `forward on 1 thread ${one.toFixed(2)} ms, ${(one / a).toFixed(2)}× A`,
);
process.exit(0);
