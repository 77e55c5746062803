// Threads on a busy machine: engines of 1 thread, of 2 threads, and of 2 threads that share every job the size rules
// allow (pool.learns false: what the pool did before it learnt whether sharing pays), taking turns on the same work,
// first on an idle machine, then beside a process that keeps one core busy (another program of the user's, a build).
// On two cores, two threads and that process take turns on them. `node --import tsx bench/busy-machine.ts [rounds =
// 21]`
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createEngine, type Engine, MultiHeadAttention, scaledDotProductAttention } from '../src/index.js';
import { runtimeOf } from '../src/runtime/engine.js';
import { median } from './report.js';
import { StealMeter } from './steal.js';

const ROUNDS = Number(process.argv[2] ?? 21);
const WARM_UP_MS = 2000;
const data = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * s) * 0.5);

/** Work to time: `make` prepares it on an engine and returns one call of it; `calls` of them are timed together. */
interface Work {
  name: string;
  calls: number;
  make(engine: Engine): () => void;
}

/** A decode step of a 768-wide MultiHeadAttention, 12 heads and `kv` kv heads, 1024 tokens cached. */
const decode = (kv: number): Work => ({
  name: `decode step, 1024 cached, 12 heads${kv < 12 ? `, ${kv} kv heads` : ''}`,
  calls: 20,
  make(engine) {
    const m = new MultiHeadAttention(768, 12, { engine, numKVHeads: kv, seed: 1 });
    const cache = m.createCache({ batch: 1, maxLength: 1025 });
    m.forwardStep({ data: data(1024 * 768, 0.37), shape: [1, 1024, 768] }, cache, { needWeights: false });
    const x = { data: data(768, 0.11), shape: [1, 1, 768] };
    return () => {
      m.forwardStep(x, cache, { needWeights: false });
      cache.truncate(1024);
    };
  },
});

const sdpa = (n: number): Work => ({
  name: `SDPA ${n}×64`,
  calls: Math.max(1, Math.round(2 ** 19 / (n * n))),
  make(engine) {
    const q = { data: data(n * 64, 0.37), shape: [n, 64] };
    return () => void scaledDotProductAttention(q, q, q, { engine });
  },
});

const WORK = [decode(12), decode(4), sdpa(256), sdpa(512), sdpa(2048)];

const engines = {
  '1 thread': await createEngine({ build: 'simd', threads: 1 }),
  '2 threads': await createEngine({ build: 'simd', threads: 2 }),
  '2 threads, sharing every job': await createEngine({ build: 'simd', threads: 2 }),
};
runtimeOf(engines['2 threads, sharing every job']).pool!.learns = false;

/**
 * Median ms per call of each engine on `work`, taking turns, after a warm-up as long as a loop's first seconds (the
 * learning pool tries both ways at first); and the host's steal meanwhile.
 */
function measure(work: Work): { ms: Record<string, number>; steal: string } {
  const runs = Object.entries(engines).map(([name, engine]) => ({ name, call: work.make(engine), ms: [] as number[] }));
  for (const t0 = performance.now(); performance.now() - t0 < WARM_UP_MS;) runs.forEach((r) => r.call());
  const steal = new StealMeter();
  steal.start();
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of round % 2 ? [...runs].reverse() : runs) {
      const t0 = performance.now();
      for (let i = 0; i < work.calls; i++) r.call();
      r.ms.push((performance.now() - t0) / work.calls);
    }
  }
  steal.stop();
  return { ms: Object.fromEntries(runs.map((r) => [r.name, median(r.ms)])), steal: steal.cell };
}

const names = Object.keys(engines);
console.log(`| machine | work | ${names.map((n) => `${n}, ms`).join(' | ')} | 1 thread ÷ 2 threads | host's steal |`);
console.log(`| --- | --- | ${names.map(() => '---:').join(' | ')} | ---: | ---: |`);
for (const busy of [false, true]) {
  // A process that spins on one core for as long as the rows below take.
  const neighbour = busy ? fork(fileURLToPath(new URL('./spin.mjs', import.meta.url))) : undefined;
  for (const work of WORK) {
    const { ms, steal } = measure(work);
    const cells = names.map((n) => ms[n].toPrecision(3));
    const ratios = names.slice(1).map((n) => `${(ms[names[0]] / ms[n]).toFixed(2)}×`);
    console.log(
      `| ${busy ? 'one core busy' : 'idle'} | ${work.name} | ${cells.join(' | ')} | ${ratios.join(' / ')} | ${steal} |`,
    );
  }
  neighbour?.kill();
}
Object.values(engines).forEach((e) => e.close());
