// `npm run bench`: every engine on every workload in one process, side by side; writes bench/results/ and
// bench/RESULTS.md.
// `npm run bench -- --quick`: fewer samples, no slow workloads.
// `npm run bench -- --only 'SDPA 512×64;SDPA 2048×64'`: those workloads' rows alone (in suite order), printed, nothing
// written: to look again at rows of a full run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import b from 'benny';
import type { Build } from '../src/index.js';
import { measureBrowserStart } from './browser.js';
import { measureColdStarts } from './cold-start.js';
import { measureFirstCalls } from './first-calls.js';
import { measureFirstCallsPage } from './first-calls-page.js';
import { measureWorkersPage } from './workers-page.js';
import { measurePeak, runnableBuilds } from './peak.js';
import { ortVersion, releaseSessions } from './peers/onnxruntime.js';
import { tfjsVersion } from './peers/tfjs.js';
import { machine, type Row, table, toMarkdown, toText } from './report.js';
import { StealMeter } from './steal.js';
import { makeEngines, workloads } from './workloads.js';

const quick = process.argv.includes('--quick');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt < 0 ? undefined : (process.argv[onlyAt + 1] ?? '').split(';');
const RESULTS = new URL('./results/', import.meta.url);

function maxAbsDiff(got: Float32Array, ref: { data: Float64Array; fromRow: number; rowLength: number }): number {
  const from = ref.fromRow * ref.rowLength;
  let worst = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const d = Math.abs(got[from + i] - ref.data[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? NaN : d;
    if (Number.isNaN(worst)) break;
  }
  return worst;
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

async function main(): Promise<void> {
  const builds = runnableBuilds();
  await makeEngines(builds);
  // The peak is an upper bound: measured again before every workload, the best so far kept, so one slow moment of
  // this shared machine does not lower it (one run measured 38.8 GFLOP/s for the plain build, where
  // others measure 49).
  const peaks = Object.fromEntries(builds.map((bd) => [bd, 0])) as Record<Build, number>;
  const updatePeaks = async () => {
    for (const bd of builds) peaks[bd] = Math.max(peaks[bd], await measurePeak(bd));
  };
  await updatePeaks();
  console.log(`machine: ${machine()}`);
  console.log(
    `WASM SIMD peak (the 4×8 micro-kernel, operands in L1): ${builds.map((bd) => `${bd} ${peaks[bd].toFixed(1)} GFLOP/s`).join(', ')}`,
  );
  if (!builds.includes('relaxed-simd'))
    console.log(
      'relaxed-simd is not available in this runtime: run under `node --experimental-wasm-relaxed-simd` (npm run bench does).',
    );
  mkdirSync(RESULTS, { recursive: true });
  const rows: Row[] = [];
  const options = quick ? { minSamples: 3, maxTime: 0.25, delay: 0 } : { minSamples: 8, maxTime: 1 };
  // The machine is shared and noisy: every engine runs in each of several rounds, engines taking turns,
  // and each reports its best round's median, so a burst of load elsewhere does not decide a ratio.
  const rounds = quick ? 1 : 3;
  const all = workloads(builds).filter((w) => (only === undefined ? !(quick && w.slow) : only.includes(w.name)));
  const unknown = only?.filter((name) => !all.some((w) => w.name === name));
  if (unknown?.length) throw new Error(`--only: no workload is named '${unknown.join("', '")}'`);
  for (const [index, w] of all.entries()) {
    console.log(`\n[${index + 1}/${all.length}] ${w.name}`);
    await updatePeaks();
    const ref = w.reference();
    const runs = await w.engines();
    const diffs = new Map<string, number>();
    const label = (r: { engine: string; variant?: string }) => (r.variant ? `${r.engine} (${r.variant})` : r.engine);
    for (const r of runs) {
      const out = (await r.run()) ?? r.output!();
      diffs.set(label(r), maxAbsDiff(out, ref));
    }
    // The same warm-up for every engine before any timing: at least 5 calls and 0.5 s (wasm tier-up, caches).
    for (const r of runs) {
      const start = performance.now();
      for (let i = 0; i < 5 || performance.now() - start < 500; i++) await r.run();
    }
    const best = new Map<string, { ms: number; samples: number }>();
    const steal = new StealMeter();
    steal.start();
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 0 ? [...runs].reverse() : runs;
      const file = `${only === undefined ? '' : 'only-'}${rounds > 1 ? `${slug(w.name)}-round${round}` : slug(w.name)}`;
      const summary = await b.suite(
        rounds > 1 ? `${w.name} (round ${round} of ${rounds})` : w.name,
        ...order.map((r) => {
          const fn = r.run;
          const isAsync = r.engine === 'onnxruntime-web';
          return b.add(label(r), isAsync ? async () => void (await fn()) : () => void fn(), options);
        }),
        b.cycle(),
        b.save({ file, folder: RESULTS.pathname, details: true, format: 'json' }),
        b.save({ file, folder: RESULTS.pathname, format: 'chart.html' }),
      );
      for (const res of summary.results) {
        const ms = res.details.median * 1000;
        const prev = best.get(res.name);
        if (!prev || ms < prev.ms) best.set(res.name, { ms, samples: res.samples });
      }
    }
    steal.stop();
    for (const r of runs) {
      const { ms, samples } = best.get(label(r))!;
      rows.push({
        workload: w.name,
        suite: w.suite,
        engine: r.engine,
        variant: r.variant,
        ms,
        samples,
        flops: w.flops,
        peak: 0,
        maxDiff: diffs.get(label(r))!,
        steal: steal.cell,
      });
    }
    await releaseSessions();
  }
  await updatePeaks();
  for (const r of rows)
    r.peak = r.engine.startsWith('wasm-attention')
      ? peaks[r.engine.replace('wasm-attention ', '') as Build]
      : peaks.simd;
  console.log(
    `WASM SIMD peak, the best of every measurement: ${builds.map((bd) => `${bd} ${peaks[bd].toFixed(1)}`).join(', ')}`,
  );
  const t = table(rows);
  console.log(`\n${toText(t)}`);
  if (only !== undefined) return;
  const cold = measureColdStarts(quick ? 3 : 11);
  const coldTable = [
    ['engine', 'import + init() in a new Node process, ms (median; one row: init() alone)', 'its time / ours'],
    ...cold.map((c) => [c.engine, c.ms.toFixed(1), (c.ms / cold[0].ms).toFixed(1) + '×']),
  ];
  console.log(`\n${toText(coldTable)}`);
  // onnxruntime-web's decode path copies its cache in and out every step: those copies alone, in a process of their own
  // (a session that only copies, run in the suite's process, made a later onnxruntime-web run throw).
  const copies = JSON.parse(
    execFileSync(process.execPath, [...process.execArgv, new URL('./ort-cache-copy.ts', import.meta.url).pathname], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop()!,
  ) as Array<{ kvHeads: number; ms: number }>;
  const cacheCopyText = `copying a 1024-token cache in and out alone (a graph that adds 0 to it, \`bench/ort-cache-copy.ts\`) takes ${copies.map((c) => `${c.ms.toFixed(2)} ms with ${c.kvHeads} kv heads`).join(' and ')} per step.`;
  const firsts = measureFirstCalls(builds, quick ? 1 : 3);
  const firstTable = [
    ['work', 'engine', 'first call, ms', 'first ÷ steady', 'worst of calls 2–5 ÷ steady', 'steady, ms'],
    ...firsts.map((f) => [
      f.workload,
      f.engine,
      f.firstMs.toFixed(1),
      (f.firstMs / f.steadyMs).toFixed(1) + '×',
      (f.worst2to5Ms / f.steadyMs).toFixed(2) + '×',
      f.steadyMs.toFixed(1),
    ]),
  ];
  console.log(`\n${toText(firstTable)}`);
  const page = await measureBrowserStart(quick ? 3 : 21);
  const pageText =
    typeof page === 'string'
      ? page
      : [
          `A page loading dist/wasm-attention.min.js (the standalone file: code and both .wasm builds, with \`<link rel="modulepreload">\` as the README shows) from 127.0.0.1 under the browser tests' CSP, in Debian's Chromium with a new context per load (build ${page.build}); medians of ${page.runs} loads:`,
          '',
          toMarkdown([
            ['', 'ms'],
            ['navigation to first result (import, init(), one attention call)', page.msToFirstResult.toFixed(1)],
            [
              'navigation to an empty module script running (same server, same harness, loads taking turns)',
              page.msEmptyPage.toFixed(1),
            ],
            ['added by wasm-attention (median of the paired differences)', page.msAdded.toFixed(1)],
            ['of which init() and the call, timed in the page', page.msInitAndCall.toFixed(1)],
            [
              'the same page with the library fetching its .wasm from `new URL(…, import.meta.url)` instead of inline',
              page.fetched.msToFirstResult.toFixed(1),
            ],
          ]),
          '',
          `${page.bytes} bytes downloaded with the .wasm inline, ${page.fetched.bytes} with it fetched: the inline page has more to download and less to wait for.`,
        ].join('\n');
  console.log(`\n${pageText}`);
  writeFileSync(
    new URL('summary.json', RESULTS),
    JSON.stringify(
      { date: new Date().toISOString(), machine: machine(), quick, peaks, rows, cold, firsts, page },
      null,
      2,
    ),
  );
  // Threads: a process of its own, since onnxruntime-web takes its thread count once per process.
  execFileSync(
    process.execPath,
    [...process.execArgv, new URL('./threads.ts', import.meta.url).pathname, ...(quick ? ['--quick'] : [])],
    { stdio: 'inherit', env: { ...process.env, ORT_THREADS: '2' } },
  );
  const threadsText = readFileSync(new URL('threads.md', RESULTS), 'utf8');
  const workers = await measureWorkersPage(quick ? 5 : 21, quick ? 2 : 5);
  const workersText = typeof workers === 'string' ? workers : workersMarkdown(workers);
  console.log(`\n${workersText}`);
  const pageFirsts = await measureFirstCallsPage(quick ? 2 : 7);
  const pageFirstsText =
    typeof pageFirsts === 'string'
      ? pageFirsts
      : toMarkdown([
          [
            'engine',
            'first call, ms',
            'worst of calls 2–5, ms',
            'calls 6–12, ms',
            'steady (calls 31–40), ms',
            'first ÷ steady',
          ],
          ...pageFirsts.map((f) => [
            `${f.engine} (${f.build})`,
            f.firstMs.toFixed(1),
            f.worst2to5Ms.toFixed(1),
            f.calls6to12Ms.toFixed(1),
            f.steadyMs.toFixed(1),
            (f.firstMs / f.steadyMs).toFixed(1) + '×',
          ]),
        ]);
  console.log(`\n${pageFirstsText}`);
  const date = new Date().toISOString().slice(0, 10);
  const md = `# Benchmark results

${date} · ${machine()} · ${quick ? '`npm run bench -- --quick`' : '`npm run bench`'} · onnxruntime-web ${ortVersion}, @tensorflow/tfjs-backend-wasm ${tfjsVersion}

Medians of benny samples, all engines in one process; ${rounds > 1 ? `each workload runs ${rounds} rounds with the engines taking turns, and each engine reports its best round's median` : 'one round per workload'}. Inputs are copied in and results
copied out on every call, weights resident where a module has them. GFLOP/s counts multiplies and adds apart;
causal work counts only the visible half. % of peak is against this CPU's WASM SIMD peak for the engine's build, the best of
the measurements made before every workload and after the last (${builds.map((bd) => `${bd}: ${peaks[bd].toFixed(1)} GFLOP/s`).join(', ')}; the peers run plain SIMD). max |diff| is against the float64
reference (\`src/reference.ts\`); long sequences compare their last 64 rows. Kernel rows time the kernel alone on data
already in linear memory. Before any timing every engine gets the same warm-up: at least 5 calls and 0.5 s. The last
column is the share of the CPU time this VM's cores wanted, while the workload's engines were timed, that the host
gave to others ("steal" in /proc/stat, \`bench/steal.ts\`): every engine of a workload shares it, turn by turn.
Each peer runs its fastest formulation found here: tfjs-wasm computes inside \`tf.tidy\` and its result is read
outside it (tidy walks a returned typed array element by element: \`node --import tsx bench/tfjs-tidy.ts\` times a
512³ matmul both ways); onnxruntime-web's multi-head rows include the
\`com.microsoft\` \`Attention\` op with packed QKV weights (what its BERT optimiser emits). Its decode rows feed the
cache through the past/present inputs and outputs, copying it in and out on every step; ${cacheCopyText}

${toMarkdown(t)}

## Threads

${threadsText}
## Worker mode in a page without cross-origin isolation

${workersText}
## Cold start

A new Node process per run imports the engine and initialises it (onnxruntime-web: creates a session on a small
model, which is when it instantiates its wasm; tfjs: sets and readies its wasm backend); median of ${cold[0].runs}.

${toMarkdown(coldTable)}

## First calls

A new Node process per engine and workload makes the engine, the inputs and its objects as the suite above does,
then the same call 12 times with no warm-up; steady is the median of calls 6–12; medians over ${firsts[0]?.processes ?? 0}
processes (\`node --import tsx bench/first-calls.ts\` runs it alone).

${toMarkdown(firstTable)}

In Debian's Chromium, SDPA 512×64: a new browser context per load (no cache), the page imports the engine, makes
it ready and makes the call 40 times; medians over ${typeof pageFirsts === 'string' ? 0 : pageFirsts[0].loads} loads of each, taking turns (\`node --import tsx bench/first-calls-page.ts\`
runs it alone). onnxruntime-web runs its opset-23 Attention graph on one thread.

${pageFirstsText}

## Browser start

${pageText}
`;
  // A quick run is a smoke test: it never replaces the committed table.
  const target = quick ? new URL('RESULTS.quick.md', RESULTS) : new URL('../RESULTS.md', RESULTS);
  writeFileSync(target, md);
  console.log(`\nwrote ${quick ? 'bench/results/RESULTS.quick.md' : 'bench/RESULTS.md'} and bench/results/`);
}

function workersMarkdown(w: Exclude<Awaited<ReturnType<typeof measureWorkersPage>>, string>): string {
  const [one, two, ort] = Object.entries(w.ms);
  return [
    `MultiHeadAttention 512×768, 12 heads, no weights returned, in Debian's Chromium, on a page served without COOP/COEP (crossOriginIsolated ${w.isolated}; engine.info: ${w.info.threads} threads, '${w.info.threading}'), with the browser tests' CSP; the three take turns over ${w.rounds} rounds after the same warm-up (≥ 5 calls and 0.5 s each), each call after a 30 ms pause (what one leaves going, such as a Worker making the next call's result arrays, does not land on the next one's timing); medians. The last column is the share of the CPU time the VM's cores wanted during each one's timed calls that the host gave to others ("steal" in /proc/stat, \`bench/steal.ts\`). \`node --import tsx bench/workers-page.ts\` runs it alone.`,
    '',
    toMarkdown([
      ['', 'ms', 'one thread ÷ it', "host's steal meanwhile"],
      ...[one, two, ort].map(([name, ms]) => [name, ms.toFixed(1), (one[1] / ms).toFixed(2) + '×', w.steal[name]]),
    ]),
    '',
    `The async result is ${w.bitIdentical ? 'bit for bit' : 'NOT bit for bit'} the one-thread forward's; onnxruntime-web's differs from it by at most ${w.ortDiff.toExponential(1)}. Such a page gives onnxruntime-web one thread.`,
    '',
    `What 2 Workers can give for this forward here at best: two Workers of the same page, each with an engine of 1 thread, ran it alone and both at once, taking turns (${w.pairRounds} rounds, after the timings above); both at once did ${w.pairCeiling.toFixed(2)}× the calls per second of the faster alone. The 2 workers' ${(one[1] / two[1]).toFixed(2)}× is ${((one[1] / two[1] / w.pairCeiling) * 100).toFixed(0)} % of that.`,
    '',
  ].join('\n');
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
