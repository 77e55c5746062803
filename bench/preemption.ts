// Where a 2-thread call's slow tail comes from (Linux only). A call split across threads waits for the last of them:
// if the scheduler gives a thread's core to another thread (one of V8's background threads compiling or collecting
// garbage, another process of this VM), the call waits that long; if a pool thread was asleep, the call waits for it
// to wake. Each call of an engine of 2 threads is classed by the calling thread's and its pool's context switches
// while it ran (/proc/self/task/*/status): switched out against its will (nonvoluntary), or a pool thread that slept
// or went to sleep (voluntary), or neither. An engine of 1 thread takes turns with it, in batches with a pause between
// them as in the threads section, its calls read alike. `node --import tsx bench/preemption.ts [n = 512] [rounds = 40]`
import { readdirSync, readFileSync } from 'node:fs';
import { createEngine, scaledDotProductAttention } from '../src/index.js';
import { mulberry32, normal } from '../src/modules/random.js';
import { median } from './report.js';

const n = Number(process.argv[2] ?? 512);
const ROUNDS = Number(process.argv[3] ?? 40);
const [d, CALLS, WARM_ROUNDS] = [64, 25, 8];
const [q, k, v] = [1, 2, 3].map((seed) => ({ data: normal(mulberry32(seed), n * d), shape: [n, d] }));

const tasks = () => readdirSync('/proc/self/task');
/** Each task's context switches: [voluntary, nonvoluntary]. */
const switches = (tids: string[]) =>
  tids.map((t) => {
    const status = readFileSync(`/proc/self/task/${t}/status`, 'utf8');
    return [/^voluntary_ctxt_switches:\s+(\d+)/m, /^nonvoluntary_ctxt_switches:\s+(\d+)/m].map((re) =>
      Number(re.exec(status)![1]),
    );
  });

const one = await createEngine({ threads: 1 });
const before = new Set(tasks());
const two = await createEngine({ threads: 2 });
// Workers start a few tens of ms after their engine.
await new Promise((resolve) => setTimeout(resolve, 300));
// The calling thread, then the threads the 2-thread engine started.
const ours = [String(process.pid), ...tasks().filter((t) => !before.has(t))];

type Kind = 'switched out' | 'a pool thread slept' | 'neither';
const oneMs: number[] = [];
const calls: { ms: number; kind: Kind; first: boolean }[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const engine of round % 2 ? [two, one] : [one, two]) {
    for (let c = 0; c < CALLS; c++) {
      const s0 = switches(ours);
      const t0 = performance.now();
      scaledDotProductAttention(q, k, v, { engine });
      const ms = performance.now() - t0;
      const s1 = switches(ours);
      if (round < WARM_ROUNDS) continue;
      if (engine === one) {
        oneMs.push(ms);
        continue;
      }
      const kind: Kind = ours.some((_, i) => s1[i][1] > s0[i][1])
        ? 'switched out'
        : ours.some((_, i) => i > 0 && s1[i][0] > s0[i][0])
          ? 'a pool thread slept'
          : 'neither';
      calls.push({ ms, kind, first: c === 0 });
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}
one.close();
two.close();

const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
const all = calls.map((c) => c.ms);
const typical = median(calls.filter((c) => c.kind === 'neither').map((c) => c.ms));
console.log(`SDPA ${n}×${d}: ${ROUNDS - WARM_ROUNDS} rounds of ${CALLS} calls each, after ${WARM_ROUNDS} to warm up`);
console.log(`1 thread: median ${median(oneMs).toFixed(3)} ms, mean ${mean(oneMs).toFixed(3)} ms`);
console.log(`2 threads: median ${median(all).toFixed(3)} ms, mean ${mean(all).toFixed(3)} ms`);
for (const kind of ['switched out', 'a pool thread slept', 'neither'] as Kind[]) {
  const these = calls.filter((c) => c.kind === kind);
  if (these.length === 0) continue;
  const ms = these.map((c) => c.ms);
  // What these calls add to the mean over the typical call's time.
  const over = ms.reduce((sum, x) => sum + x - typical, 0) / calls.length;
  console.log(
    `  ${kind}: ${these.length} calls (${these.filter((c) => c.first).length} the first of a batch), median ${median(ms).toFixed(3)} ms, mean ${mean(ms).toFixed(3)} ms; add ${over.toFixed(3)} ms to the mean`,
  );
}
