// The threads section of `npm run bench` (also `npm run bench:threads`): each workload on our engines at 1 and 2
// threads and on onnxruntime-web at ORT_THREADS threads (default 2), all in this one process, taking turns.
// Writes bench/results/threads.md (which bench/run.ts puts into bench/RESULTS.md) and threads.json.
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Build } from '../src/index.js';
import { type Cores, measureCores } from './cores.js';
import { measurePairs, type Pair } from './pairs.js';
import { runnableBuilds } from './peak.js';
import { toMarkdown } from './report.js';
import { StealMeter } from './steal.js';
import type { EngineRun } from './workloads.js';

// Set before the peer loads (below, dynamically): onnxruntime-web reads its thread count once per process.
process.env.ORT_THREADS ??= '2';
const ORT_THREADS = Number(process.env.ORT_THREADS);
const RESULTS = new URL('./results/', import.meta.url);
const quick = process.argv.includes('--quick');

/**
 * Lets the threads of the run before go idle. onnxruntime-web's pool spins for a while after each run, and without
 * this pause the run right after it lost a core: in two runs the runs that followed it in turn (relaxed-simd sync,
 * simd async) were 20–50 % slower than their twins, while alone, in separate processes, sync and async timed alike.
 */
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

/**
 * Median ms per call of each run: a warm-up, then rounds in which the runs take turns (order alternating); and the
 * host's steal during each run's samples.
 */
async function time(runs: EngineRun[]): Promise<{ ms: number[]; steal: StealMeter[] }> {
  const once = async (r: EngineRun) => void (await r.run());
  const calls = runs.map(() => 1);
  for (const [i, r] of runs.entries()) {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < (quick ? 200 : 600)) {
      await once(r);
      n++;
    }
    // Calls per sample: about 30 ms of work.
    calls[i] = Math.max(1, Math.round((30 * n) / (performance.now() - t0)));
  }
  const samples: number[][] = runs.map(() => []);
  const steal = runs.map(() => new StealMeter());
  for (let round = 0; round < (quick ? 5 : 21); round++) {
    const order = round % 2 ? [...runs.keys()].reverse() : [...runs.keys()];
    for (const i of order) {
      steal[i].start();
      const t0 = performance.now();
      for (let c = 0; c < calls[i]; c++) await once(runs[i]);
      samples[i].push((performance.now() - t0) / calls[i]);
      steal[i].stop();
      await settle();
    }
  }
  return { ms: samples.map((s) => s.sort((a, b) => a - b)[s.length >> 1]), steal };
}

async function main(): Promise<void> {
  const { makeEngines, setUpOnly, THREADS_WORKLOADS, useThreads, workloads } = await import('./workloads.js');
  const { releaseSessions } = await import('./peers/onnxruntime.js');
  const builds = runnableBuilds();
  // Before the engines start their workers: nothing else computes while the cores are measured.
  // One build at a time: each measurement needs the two cores to itself.
  const cores = {} as Record<Build, Cores>;
  for (const b of builds) cores[b] = await measureCores(15, 150, b);
  // Then each workload's own ceiling, the same way: nothing else computes while the pairs run.
  const pairs = {} as Record<Build, Record<string, Pair>>;
  for (const b of builds) pairs[b] = await measurePairs(b, THREADS_WORKLOADS, quick ? 2 : 5);
  await makeEngines(builds, [1, 2]);
  // Workers start a few tens of ms after their engine: let them.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const rows: string[][] = [];
  const asyncRows: string[][] = [];
  const json: Record<string, Record<string, number>> = {};
  for (const w of workloads(builds).filter((x) => THREADS_WORKLOADS.includes(x.name))) {
    // Only the runs timed are made: the 1-thread runs are ours alone, the peer runs at 2 threads only.
    useThreads(1);
    setUpOnly((engine) => engine.startsWith('wasm-attention'));
    const one = await w.engines();
    useThreads(2);
    setUpOnly((engine) => engine.startsWith('wasm-attention') || engine === 'onnxruntime-web');
    const two = await w.engines();
    setUpOnly(undefined);
    // The async twins at 2 threads: the same work, the calling thread free (see the async table).
    const twins = two.flatMap((r) => (r.async ? [{ engine: `${r.engine}, async`, run: r.async }] : []));
    const runs = [...one, ...two, ...twins];
    const label = (r: EngineRun) => (r.variant ? `${r.engine} (${r.variant})` : r.engine);
    console.log(`${w.name}: ${runs.map(label).join(' | ')}`);
    const { ms, steal } = await time(runs);
    json[w.name] = Object.fromEntries(runs.map((r, i) => [label(r), ms[i]]));
    const index = (engine: string) => runs.findIndex((r) => r.engine === engine);
    const at = (engine: string) => ms[index(engine)];
    const ortMs = Math.min(...runs.flatMap((r, i) => (r.engine === 'onnxruntime-web' ? [ms[i]] : [])));
    for (const build of builds) {
      const [t1, t2] = [at(`wasm-attention ${build}`), at(`wasm-attention ${build}, 2 threads`)];
      rows.push([
        w.name,
        build,
        t1.toPrecision(3),
        t2.toPrecision(3),
        `${(t1 / t2).toFixed(2)}×`,
        `${pairs[build][w.name].ceiling.toFixed(2)}×`,
        ortMs.toPrecision(3),
        `${(ortMs / t2).toFixed(2)}×`,
        [build, `${build}, 2 threads`].map((e) => steal[index(`wasm-attention ${e}`)].cell).join(' / '),
      ]);
      const ta = at(`wasm-attention ${build}, 2 threads, async`);
      if (ta !== undefined)
        asyncRows.push([
          w.name,
          build,
          t2.toPrecision(3),
          ta.toPrecision(3),
          `${(ta - t2).toFixed(3)}`,
          `${(t2 / ta).toFixed(2)}×`,
        ]);
    }
    // No session is needed past its workload (see bench/run.ts).
    await releaseSessions();
  }
  const header = [
    'work',
    'build',
    '1 thread, ms',
    '2 threads, ms',
    'speed-up',
    'two 1-thread calls at once ÷ one',
    `onnxruntime-web, ${ORT_THREADS} threads, ms (best graph)`,
    'ours at 2 threads ÷ peer',
    "host's steal, 1 / 2 threads",
  ];
  const md = [
    `Our engines at 1 and 2 threads (the same build, separate engines) and onnxruntime-web ${ORT_THREADS === 1 ? 'at 1 thread' : `at numThreads = ${ORT_THREADS}`}, all in one process on a ${availableParallelism()}-core machine, taking turns; medians of ${quick ? 5 : 21} rounds after a warm-up, inputs copied in and results copied out on every call. Speed-up is 1 thread ÷ 2 threads; "ours at 2 threads ÷ peer" is the peer's time ÷ ours (above 1: we are faster).`,
    '',
    `What two threads can give here at best (\`node --experimental-wasm-relaxed-simd --import tsx bench/cores.ts\`, at the start of this run): the peak micro-kernel of each build (operands in L1, nothing shared) ran at ${builds.map((b) => `${cores[b].alone.map((x) => x.toFixed(1)).join(' and ')} GFLOP/s (${b})`).join(', ')} on one thread alone (each of two workers in turn: the machine's two cores), and at ${builds.map((b) => `${cores[b].together.toFixed(1)}, ${cores[b].ceiling.toFixed(2)}× the faster alone (${b})`).join('; ')} on two at once. A 1-thread call on the faster core can be sped up by at most that; the cores of this shared VM need not be equal. The same for each workload's own 1-thread call, which also moves data through the caches and memory the cores share: two processes run it, each alone and both at once, taking turns (\`bench/pairs.ts\`, ${quick ? 2 : 5} rounds, before the engines below start); both at once ÷ the faster alone is the column "two 1-thread calls at once ÷ one", the most a 2-thread split of that call could give. The two at once of the peak micro-kernel ran while the host took ${builds.map((b) => `${cores[b].steal} (${b})`).join(', ')} of the CPU time the VM's cores wanted ("steal" in /proc/stat: the share of busy and stolen time that was stolen); the last column is the same for our runs' samples, at 1 and at 2 threads (\`bench/steal.ts\`). Stolen time is time a thread of the run waited for a core while the host ran something else.`,
    '',
    toMarkdown([header, ...rows]),
    '',
    'The async twins on the same 2-thread engines (each call awaited before the next): the calling thread computes nothing and stays free, a thread of the pool runs the recorded kernels with the other as its helper. The difference is what an async call costs on top (recording, a message each way, copying out on the calling thread).',
    '',
    toMarkdown([
      ['work', 'build', 'sync, 2 threads, ms', 'async, 2 threads, ms', 'async − sync, ms', 'sync ÷ async'],
      ...asyncRows,
    ]),
  ].join('\n');
  console.log(`\n${md}`);
  writeFileSync(new URL('threads.md', RESULTS), `${md}\n`);
  writeFileSync(
    new URL('threads.json', RESULTS),
    JSON.stringify({ date: new Date().toISOString(), ortThreads: ORT_THREADS, cores, pairs, ms: json }, null, 2),
  );
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
