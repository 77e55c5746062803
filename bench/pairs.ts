// What two threads can give for each workload itself: its 1-thread call, set up as the suite sets it up, in two
// processes, each alone and both at once, taking turns. bench/cores.ts measures the same for the peak micro-kernel,
// whose operands stay in L1; a real call also moves data through the caches and memory the two cores share, so its
// ceiling can be lower. Both at once ÷ the faster alone is the most any 2-thread split of the call can give on this
// machine (a split adds costs of its own: handing out work, waiting for the last unit).
// `node --experimental-wasm-relaxed-simd --import tsx bench/pairs.ts [rounds = 5]`
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Build } from '../src/index.js';
import { runnableBuilds } from './peak.js';
import { medianOfTurns } from './report.js';

/** Calls per second of a workload's 1-thread call: in each process alone, and of both processes at once. */
export interface Pair {
  alone: [number, number];
  together: number;
  /** together ÷ the faster alone. */
  ceiling: number;
}

interface Ready {
  /** ms per call of each workload after the warm-up. */
  callMs: Record<string, number>;
}

const now = () => performance.timeOrigin + performance.now();

/** In a child process: our engine on `build` alone, the named workloads' 1-thread calls, run when told. */
async function child(build: Build, names: string[]): Promise<void> {
  const { makeEngines, setUpOnly, workloads } = await import('./workloads.js');
  const label = `wasm-attention ${build}`;
  setUpOnly(label);
  await makeEngines([build]);
  const runs = new Map<string, () => unknown>();
  const callMs: Record<string, number> = {};
  for (const w of workloads([build]).filter((x) => names.includes(x.name))) {
    const run = (await w.engines()).find((r) => r.engine === label)!.run;
    // The threads section's warm-up.
    const t0 = performance.now();
    let n = 0;
    for (; n < 5 || performance.now() - t0 < 600; n++) await run();
    callMs[w.name] = (performance.now() - t0) / n;
    runs.set(w.name, run);
  }
  process.on('message', async ({ name, at, ms }: { name: string; at: number; ms: number }) => {
    // Both processes start at the same moment: spin, not sleep, so that neither wakes late.
    while (now() < at);
    const run = runs.get(name)!;
    const t0 = now();
    let [calls, t] = [0, t0];
    for (; t - t0 < ms; t = now(), calls++) await run();
    process.send!({ perSecond: (calls * 1000) / (t - t0) });
  });
  process.send!({ callMs } satisfies Ready);
}

/** Each workload's pair for one build: medians of `rounds` turns (each alone, both at once) of `ms` at least. */
export async function measurePairs(build: Build, names: string[], rounds = 5, ms = 400): Promise<Record<string, Pair>> {
  const kids: ChildProcess[] = [0, 1].map(() =>
    fork(fileURLToPath(import.meta.url), ['--child', build, JSON.stringify(names)], {
      execArgv: process.execArgv,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    }),
  );
  try {
    const [ready] = (await Promise.all(kids.map((k) => once(k, 'message')))).map(([m]) => m as Ready);
    const out: Record<string, Pair> = {};
    for (const name of names) {
      // Long enough for 8 calls: the one that ends last runs its last call alone, and that should count little.
      const window = Math.max(ms, 8 * ready.callMs[name]);
      const turn = async (which: ChildProcess[]) => {
        const at = now() + 50;
        const rates = which.map(async (k) => {
          const answer = once(k, 'message');
          k.send({ name, at, ms: window });
          return ((await answer)[0] as { perSecond: number }).perSecond;
        });
        return (await Promise.all(rates)).reduce((a, b) => a + b, 0);
      };
      const turns = [() => turn([kids[0]]), () => turn([kids[1]]), () => turn(kids)];
      const [a, b, both] = await medianOfTurns(turns, rounds);
      out[name] = { alone: [a, b], together: both, ceiling: both / Math.max(a, b) };
    }
    return out;
  } finally {
    for (const k of kids) k.kill();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--child');
  if (i >= 0) await child(process.argv[i + 1] as Build, JSON.parse(process.argv[i + 2]));
  else {
    const { THREADS_WORKLOADS } = await import('./workloads.js');
    for (const build of runnableBuilds()) {
      const pairs = await measurePairs(build, THREADS_WORKLOADS, Number(process.argv[2] ?? 5));
      for (const [name, p] of Object.entries(pairs))
        console.log(`${build} ${name}: two 1-thread calls at once ${p.ceiling.toFixed(2)}× the faster alone`);
    }
  }
}
