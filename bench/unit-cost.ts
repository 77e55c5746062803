// What cutting a call into a pool's work units costs in work, however many cores run them. Each call is cut as the
// pool cuts it for 1 to 16 threads (src/runtime/threads/thread-jobs.ts) and its units run on the calling thread alone,
// in the claims the threads would make (claimSize: long first, short last; K packed once before them, as the pool
// does), taking turns with the same call on an engine of one thread; medians of the turns. The first column is the
// call uncut on an engine that has threads (a shared memory, the pool's bookkeeping). A ratio of 1.10 means a tenth
// more work than the one-thread call, which no number of cores wins back; this machine has 2 cores, and the ratios
// say what 8 or 16 would pay. `node --import tsx bench/unit-cost.ts [rounds = 21]`
import { createEngine, type Engine, matmul, MultiHeadAttention, scaledDotProductAttention } from '../src/index.js';
import { mulberry32, normal } from '../src/modules/random.js';
import { runtimeOf } from '../src/runtime/engine.js';
import { claimSize, CONTROL_SLOTS, type JobKernels, runUnits, SLOT } from '../src/runtime/threads/thread-jobs.js';
import { median, toMarkdown } from './report.js';

const rounds = Number(process.argv[2] ?? 21);
const THREADS = [1, 2, 4, 8, 16];
const tensor = (seed: number, shape: number[]) => ({
  data: normal(
    mulberry32(seed),
    shape.reduce((a, b) => a * b),
  ),
  shape,
});

/** An engine whose calls are cut for `threads` threads and whose units all run on the calling thread, in order. */
async function cutEngine(threads: number): Promise<Engine> {
  const engine = await createEngine({ threads: 2 });
  const pool = runtimeOf(engine).pool! as unknown as Record<string, unknown>;
  Object.assign(pool, {
    learns: false,
    shareAsleepMadds: 0,
    threadsFor: () => threads,
    run: (k: JobKernels, kind: number, args: number[], total: number, chunk: number, scratch: number) => {
      const ctl = new Int32Array(CONTROL_SLOTS);
      ctl.set(args, SLOT.args);
      ctl[SLOT.kind] = kind;
      for (let u = 0, size; u < total; u += size) {
        size = claimSize(total - u, chunk, threads);
        runUnits(k, ctl, u, Math.min(total, u + size), scratch);
      }
    },
  });
  return engine;
}

const works: Record<string, (engine: Engine) => () => unknown> = {
  'SDPA 512×64': (engine) => {
    const [q, k, v] = [1, 2, 3].map((s) => tensor(s, [512, 64]));
    return () => scaledDotProductAttention(q, k, v, { engine });
  },
  'SDPA 2048×64': (engine) => {
    const [q, k, v] = [1, 2, 3].map((s) => tensor(s, [2048, 64]));
    return () => scaledDotProductAttention(q, k, v, { engine });
  },
  'SDPA 2048×64 causal': (engine) => {
    const [q, k, v] = [1, 2, 3].map((s) => tensor(s, [2048, 64]));
    return () => scaledDotProductAttention(q, k, v, { engine, causal: true });
  },
  'matmul 1024³': (engine) => {
    const [a, b] = [4, 5].map((s) => tensor(s, [1024, 1024]));
    return () => matmul(a, b, { engine });
  },
  'MultiHeadAttention 512×768, 12 heads': (engine) => {
    const m = new MultiHeadAttention(768, 12, { engine, seed: 6 });
    const x = tensor(7, [1, 512, 768]);
    return () => m.forward(x, x, x, { needWeights: false });
  },
};

const whole = await createEngine({ threads: 1 });
const cutEngines = await Promise.all(THREADS.map(cutEngine));
const rows: string[][] = [
  ['work', ...THREADS.map((t) => (t === 1 ? 'uncut, on an engine with threads' : `cut for ${t} threads`))],
];
for (const [name, make] of Object.entries(works)) {
  const calls = [whole, ...cutEngines].map(make);
  for (const call of calls) for (const t0 = performance.now(); performance.now() - t0 < 500;) call();
  const times: number[][] = calls.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, call] of calls.entries()) {
      const t0 = performance.now();
      call();
      times[i].push(performance.now() - t0);
    }
  }
  const [one, ...cut] = times.map(median);
  rows.push([name, ...cut.map((t) => (t / one).toFixed(3))]);
  console.error(`${name}: whole ${one.toFixed(2)} ms`);
}
console.log(toMarkdown(rows));
for (const e of [whole, ...cutEngines]) e.close();
