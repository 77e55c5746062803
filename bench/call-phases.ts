// Where a call's time goes, at 1 and 2 threads: in the kernels (a pool's jobs included, with what the caller does
// while its helpers start), copying results out, and the rest (reading arguments, copying them in). Batches of calls
// take turns with a pause between them, as in the threads section. `node --import tsx bench/call-phases.ts [n]`.
import { createEngine, type Engine, scaledDotProductAttention } from '../src/index.js';
import { runtimeOf } from '../src/runtime/engine.js';
import { mulberry32, normal } from '../src/modules/random.js';
import { median } from './report.js';

const n = Number(process.argv[2] ?? 512);
const d = 64;
const [q, k, v] = [1, 2, 3].map((seed) => ({ data: normal(mulberry32(seed), n * d), shape: [n, d] }));
const engines = [await createEngine({ threads: 1 }), await createEngine({ threads: 2 })];
// Workers start a few tens of ms after their engine.
await new Promise((resolve) => setTimeout(resolve, 300));

// The batch in progress, per engine; then each batch's ms per call, whose medians are printed (a slow spell of this
// shared machine moves a mean, not a median).
const spent = engines.map(() => ({ kernels: 0, results: 0 }));
const batches = engines.map(() => ({ total: [] as number[], kernels: [] as number[], results: [] as number[] }));
/** `fn`, adding the time each call takes through `add`. */
const timed = <F extends (...a: never[]) => unknown>(fn: F, add: (ms: number) => void) =>
  ((...a: Parameters<F>) => {
    const t0 = performance.now();
    try {
      return fn(...a);
    } finally {
      add(performance.now() - t0);
    }
  }) as F;
engines.forEach((engine: Engine, i) => {
  const { kernels, heap } = runtimeOf(engine) as unknown as {
    kernels: Record<string, unknown>;
    heap: { readF32: (...a: never[]) => unknown };
  };
  for (const [name, fn] of Object.entries(kernels)) {
    if (typeof fn === 'function' && !/_floats$|^heap_base$|^build_/.test(name))
      kernels[name] = timed(fn as (...a: never[]) => unknown, (ms) => (spent[i].kernels += ms));
  }
  heap.readF32 = timed(heap.readF32.bind(heap), (ms) => (spent[i].results += ms));
});

const [WARM_ROUNDS, CALLS] = [5, 15];
for (let round = 0; round < 41; round++) {
  for (const i of round % 2 ? [1, 0] : [0, 1]) {
    Object.assign(spent[i], { kernels: 0, results: 0 });
    const t0 = performance.now();
    for (let c = 0; c < CALLS; c++) scaledDotProductAttention(q, k, v, { engine: engines[i] });
    const total = performance.now() - t0;
    if (round >= WARM_ROUNDS) {
      batches[i].total.push(total / CALLS);
      batches[i].kernels.push(spent[i].kernels / CALLS);
      batches[i].results.push(spent[i].results / CALLS);
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}
console.log(`SDPA ${n}×${d}, ms per call (medians of ${41 - WARM_ROUNDS} batches of ${CALLS} calls)`);
batches.forEach((b, i) => {
  const rest = b.total.map((t, j) => t - b.kernels[j] - b.results[j]);
  const [total, kernels, results] = [b.total, b.kernels, b.results].map((x) => median(x).toFixed(3));
  console.log(
    `${i + 1} thread${i ? 's' : ''}: total ${total}, kernels ${kernels}, results ${results}, rest ${median(rest).toFixed(3)}`,
  );
});
for (const e of engines) e.close();
