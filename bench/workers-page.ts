// In Chromium, a page without cross-origin isolation (no COOP/COEP headers), where no peer computes on more than
// one thread: MultiHeadAttention 512×768 (12 heads) through forwardAsync on an engine with 2 threads (worker mode:
// Workers with memories of their own), through forward on an engine with 1 thread, and onnxruntime-web's
// com.microsoft MultiHeadAttention graph (one thread, as such a page gives it), taking turns in one page after the
// same warm-up. Then what 2 Workers can give for that forward on this machine at best: two Workers of the same page,
// each with an engine of 1 thread, each alone and both at once. The page is served with the browser tests' CSP.
// `node --import tsx bench/workers-page.ts [rounds = 15] [pair rounds = 5]`
import { mhaGraph } from './models/graphs.js';
import { modelBytes } from './models/onnx-writer.js';
import { withBenchPage } from './page-bench.js';
import { median } from './report.js';
import { StealMeter } from './steal.js';
import { mhaWeights } from './workloads.js';

const [L, E, H] = [512, 768, 12];

/** Script that reads the module's state dict and the input from the data files in `folder` (relative to the script). */
const STATE = (folder: string) => `
const bin = async (f) => new Float32Array(await (await fetch(f)).arrayBuffer());
const names = ['wq', 'bq', 'wk', 'bk', 'wv', 'bv', 'wo', 'bo'];
const [w, xData] = [Object.fromEntries(await Promise.all(names.map(async (n) => [n, await bin('${folder}' + n + '.bin')]))), await bin('${folder}x.bin')];
const t = (data, shape) => ({ data, shape });
const state = { 'q_proj.weight': t(w.wq, [${E}, ${E}]), 'q_proj.bias': t(w.bq, [${E}]), 'k_proj.weight': t(w.wk, [${E}, ${E}]), 'k_proj.bias': t(w.bk, [${E}]),
  'v_proj.weight': t(w.wv, [${E}, ${E}]), 'v_proj.bias': t(w.bv, [${E}]), 'out_proj.weight': t(w.wo, [${E}, ${E}]), 'out_proj.bias': t(w.bo, [${E}]) };`;

const APP = (rounds: number, pairRounds: number) => `
import { createEngine, MultiHeadAttention } from './lib/wasm-attention.min.js';
import * as ort from './ort/ort.wasm.min.mjs';
${STATE('./data/')}
const two = await createEngine({ threads: 2 });
const one = await createEngine({ threads: 1 });
const m2 = MultiHeadAttention.fromStateDict(state, { numHeads: ${H}, engine: two });
const m1 = MultiHeadAttention.fromStateDict(state, { numHeads: ${H}, engine: one });
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = new URL('./ort/', location.href).href;
const session = await ort.InferenceSession.create('./data/mha.onnx', { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
const x = t(xData, [1, ${L}, ${E}]);
const engines = {
  'wasm-attention, 1 thread (forward)': async () => m1.forward(x, x, x, { needWeights: false }).output.data,
  'wasm-attention, 2 workers (forwardAsync)': async () => (await m2.forwardAsync(x, x, x, { needWeights: false })).output.data,
  'onnxruntime-web, 1 thread': async () => (await session.run({ x: new ort.Tensor('float32', xData, [1, ${L}, ${E}]) }))[session.outputNames[0]].data,
};
const outputs = {};
// The same warm-up for every engine: at least 5 calls and 0.5 s.
for (const [name, run] of Object.entries(engines)) {
  const start = performance.now();
  for (let i = 0; i < 5 || performance.now() - start < 500; i++) outputs[name] = await run();
}
const times = Object.fromEntries(Object.keys(engines).map((n) => [n, []]));
for (let r = 0; r < ${rounds}; r++) {
  for (const [name, run] of Object.entries(engines)) {
    // What a run leaves going (a Worker making the next call's arrays) must not land on the next one's timing.
    await new Promise((resolve) => setTimeout(resolve, 30));
    await stealMeter(name, true);
    const t0 = performance.now();
    await run();
    times[name].push(performance.now() - t0);
    await stealMeter(name, false);
  }
}
const [a, b, c] = Object.values(outputs);
let ortDiff = 0;
for (let i = 0; i < a.length; i++) ortDiff = Math.max(ortDiff, Math.abs(a[i] - c[i]));
// What 2 workers can give for this forward on this machine: two Workers, each with an engine of 1 thread, each alone and
// both at once, taking turns; calls per second. Started now, so that their warm-up does not overlap the timings above.
const pairWorker = () => new Promise((resolve) => {
  const w = new Worker('./data/pair-worker.js', { type: 'module' });
  w.onmessage = (e) => resolve({ w, callMs: e.data.callMs });
});
const pair = [await pairWorker(), await pairWorker()];
const windowMs = Math.max(400, 8 * Math.max(...pair.map((p) => p.callMs)));
const perSecond = async (ws) => {
  const at = performance.timeOrigin + performance.now() + 50;
  const rates = ws.map((w) => new Promise((resolve) => { w.onmessage = (e) => resolve(e.data); w.postMessage({ at, ms: windowMs }); }));
  return (await Promise.all(rates)).reduce((x, y) => x + y, 0);
};
const turns = [() => perSecond([pair[0].w]), () => perSecond([pair[1].w]), () => perSecond(pair.map((p) => p.w))];
const samples = [[], [], []];
for (let r = 0; r < ${pairRounds}; r++) for (let t = 0; t < 3; t++) samples[(t + r) % 3].push(await turns[(t + r) % 3]());
for (const p of pair) p.w.terminate();
window.__result = { times, pair: samples, info: two.info, isolated: self.crossOriginIsolated, bitIdentical: a.length === b.length && a.every((v, i) => Object.is(v, b[i])), ortDiff };
`;

/** A Worker with its own engine of 1 thread and the page's MultiHeadAttention; runs the forward for `ms` when told. */
const PAIR_WORKER = `
import { createEngine, MultiHeadAttention } from '../lib/wasm-attention.min.js';
${STATE('./')}
const m = MultiHeadAttention.fromStateDict(state, { numHeads: ${H}, engine: await createEngine({ threads: 1 }) });
const x = t(xData, [1, ${L}, ${E}]);
const run = () => m.forward(x, x, x, { needWeights: false });
const t0 = performance.now();
let n = 0;
for (; n < 5 || performance.now() - t0 < 500; n++) run();
const now = () => performance.timeOrigin + performance.now();
self.onmessage = ({ data: { at, ms } }) => {
  // Both Workers start at the same moment: spin, not sleep, so that neither wakes late.
  while (now() < at);
  const start = now();
  let [calls, t] = [0, start];
  for (; t - start < ms; t = now(), calls++) run();
  self.postMessage((calls * 1000) / (t - start));
};
self.postMessage({ callMs: (performance.now() - t0) / n });
`;

export interface WorkersPage {
  /** Median ms per engine. */
  ms: Record<string, number>;
  /** The host's steal during each engine's timed calls (bench/steal.ts). */
  steal: Record<string, string>;
  info: { threads: number; threading: string };
  isolated: boolean;
  bitIdentical: boolean;
  ortDiff: number;
  rounds: number;
  /** Two 1-thread Workers at once ÷ the faster alone (medians of calls per second over `pairRounds` turns each). */
  pairCeiling: number;
  pairRounds: number;
}

export async function measureWorkersPage(rounds: number, pairRounds = 5): Promise<WorkersPage | string> {
  const w = mhaWeights(21, E, E);
  const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const x = Float32Array.from({ length: L * E }, (_, i) => Math.sin(i * 0.37) * 0.8);
  const data = {
    ...Object.fromEntries(Object.entries(w).map(([n, a]) => [`${n}.bin`, bytes(a)])),
    'x.bin': bytes(x),
    'mha.onnx': modelBytes(mhaGraph(1, L, E, H, w, 'contrib')),
    'pair-worker.js': new TextEncoder().encode(PAIR_WORKER),
  };
  const steal: Record<string, StealMeter> = {};
  const files = {
    lib: ['wasm-attention.min.js', 'browser-pool.js', 'thread-worker.browser.js'],
    data,
    app: APP(rounds, pairRounds),
    exposed: { stealMeter: (name: string, on: boolean) => (steal[name] ??= new StealMeter())[on ? 'start' : 'stop']() },
  };
  return withBenchPage('worker mode', files, async (load) => {
    const r = (await load()) as Pick<WorkersPage, 'info' | 'isolated' | 'bitIdentical' | 'ortDiff'> & {
      times: Record<string, number[]>;
      pair: number[][];
    };
    const [a, b, both] = r.pair.map(median);
    return {
      ms: Object.fromEntries(Object.entries(r.times).map(([n, t]) => [n, median(t)])),
      steal: Object.fromEntries(Object.entries(steal).map(([n, m]) => [n, m.cell])),
      info: r.info,
      isolated: r.isolated,
      bitIdentical: r.bitIdentical,
      ortDiff: r.ortDiff,
      rounds,
      pairCeiling: both / Math.max(a, b),
      pairRounds,
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(await measureWorkersPage(Number(process.argv[2] ?? 15), Number(process.argv[3] ?? 5)));
