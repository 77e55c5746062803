// What a second thread can give on this machine at best: bench/assembly/peak.ts's micro-kernel (operands in L1, no
// memory traffic, nothing shared) on one worker alone and on two workers at once, taking turns. The two together ÷
// one alone is the ceiling of any 2-thread speed-up here; a shared VM's second core can be slower than its first.
// `node --experimental-wasm-relaxed-simd --import tsx bench/cores.ts` (both builds; without the flag on Node 20, simd).
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Build } from '../src/index.js';
import { runnableBuilds } from './peak.js';
import { medianOfTurns } from './report.js';
import { StealMeter } from './steal.js';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
const { exports } = new WebAssembly.Instance(new WebAssembly.Module(workerData.bytes), { env: { memory } });
const perRep = exports.FLOPS_PER_REP.value;
const go = new Int32Array(workerData.go);
parentPort.on('message', ({ ms, round }) => {
  // Starts when every worker of the round has been told (the main thread stores the round in go[0]).
  while (Atomics.load(go, 0) !== round);
  let reps = 0;
  const t0 = performance.now();
  for (; performance.now() - t0 < ms; reps += 2000) exports.f32_peak_tile(2000);
  parentPort.postMessage((reps * perRep) / ((performance.now() - t0) / 1000) / 1e9);
});
`;

/** What bench/cores.ts measures of the peak micro-kernel. */
export interface Cores {
  /** GFLOP/s of each worker alone. */
  alone: [number, number];
  /** GFLOP/s of both at once. */
  together: number;
  /** together ÷ the faster alone: the ceiling of a 2-thread speed-up. */
  ceiling: number;
  /** The host's steal in the turns of both at once (bench/steal.ts): "12 %", or "n/a" off Linux. */
  steal: string;
}

/**
 * GFLOP/s of each of two workers alone and of both at once (their sum), medians of `rounds` turns of `ms` each. A
 * thread tends to stay on one core, so the two alone show the two cores (the machine may move them).
 */
export async function measureCores(rounds = 15, ms = 150, build: Build = 'simd'): Promise<Cores> {
  const bytes = readFileSync(new URL(`../build/peak-${build}.wasm`, import.meta.url));
  const go = new SharedArrayBuffer(4);
  const workers = [0, 1].map(() => new Worker(WORKER, { eval: true, workerData: { bytes, go } }));
  let round = 0;
  const run = async (which: Worker[]) => {
    round++;
    const done = which.map(
      (w) =>
        new Promise<number>((resolve) => {
          w.once('message', resolve);
          w.postMessage({ ms, round });
        }),
    );
    Atomics.store(new Int32Array(go), 0, round);
    return (await Promise.all(done)).reduce((a, b) => a + b, 0);
  };
  try {
    // Warm-up: V8 swaps in the optimised kernel in the background.
    for (let i = 0; i < 4; i++) await run(workers);
    const steal = new StealMeter();
    const turns = [() => run([workers[0]]), () => run([workers[1]]), () => steal.around(() => run(workers))];
    const [a, b, both] = await medianOfTurns(turns, rounds);
    return { alone: [a, b], together: both, ceiling: both / Math.max(a, b), steal: steal.cell };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const builds = runnableBuilds();
  for (const build of builds) {
    const { alone, together, ceiling, steal } = await measureCores(15, 150, build);
    console.log(
      `${build} peak micro-kernel, GFLOP/s: one thread alone ${alone.map((x) => x.toFixed(1)).join(' or ')}, two at once ${together.toFixed(1)} together: ${ceiling.toFixed(2)}× the faster alone (the host's steal meanwhile: ${steal})`,
    );
  }
}
