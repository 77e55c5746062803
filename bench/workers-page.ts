// In Chromium, a page without cross-origin isolation (no COOP/COEP headers), where no peer computes on more than
// one thread: MultiHeadAttention 512×768 (12 heads) through forwardAsync on an engine with 2 threads (worker mode:
// Workers with memories of their own), through forward on an engine with 1 thread, and onnxruntime-web's
// com.microsoft MultiHeadAttention graph (one thread, as such a page gives it), taking turns in one page after the
// same warm-up. The page is served with the browser tests' CSP.
import { mhaGraph } from './models/graphs.js';
import { modelBytes } from './models/onnx-writer.js';
import { withBenchPage } from './page-bench.js';
import { median } from './report.js';
import { mhaWeights } from './workloads.js';

const [L, E, H] = [512, 768, 12];

const APP = (rounds: number) => `
import { createEngine, MultiHeadAttention } from './lib/wasm-attention.min.js';
import * as ort from './ort/ort.wasm.min.mjs';
const bin = async (f) => new Float32Array(await (await fetch(f)).arrayBuffer());
const names = ['wq', 'bq', 'wk', 'bk', 'wv', 'bv', 'wo', 'bo'];
const [w, xData] = [Object.fromEntries(await Promise.all(names.map(async (n) => [n, await bin('./data/' + n + '.bin')]))), await bin('./data/x.bin')];
const t = (data, shape) => ({ data, shape });
const state = { 'q_proj.weight': t(w.wq, [${E}, ${E}]), 'q_proj.bias': t(w.bq, [${E}]), 'k_proj.weight': t(w.wk, [${E}, ${E}]), 'k_proj.bias': t(w.bk, [${E}]),
  'v_proj.weight': t(w.wv, [${E}, ${E}]), 'v_proj.bias': t(w.bv, [${E}]), 'out_proj.weight': t(w.wo, [${E}, ${E}]), 'out_proj.bias': t(w.bo, [${E}]) };
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
    const t0 = performance.now();
    await run();
    times[name].push(performance.now() - t0);
  }
}
const [a, b, c] = Object.values(outputs);
let ortDiff = 0;
for (let i = 0; i < a.length; i++) ortDiff = Math.max(ortDiff, Math.abs(a[i] - c[i]));
window.__result = { times, info: two.info, isolated: self.crossOriginIsolated, bitIdentical: a.length === b.length && a.every((v, i) => Object.is(v, b[i])), ortDiff };
`;

export interface WorkersPage {
  /** Median ms per engine. */
  ms: Record<string, number>;
  info: { threads: number; threading: string };
  isolated: boolean;
  bitIdentical: boolean;
  ortDiff: number;
  rounds: number;
}

export async function measureWorkersPage(rounds: number): Promise<WorkersPage | string> {
  const w = mhaWeights(21, E, E);
  const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const x = Float32Array.from({ length: L * E }, (_, i) => Math.sin(i * 0.37) * 0.8);
  const data = {
    ...Object.fromEntries(Object.entries(w).map(([n, a]) => [`${n}.bin`, bytes(a)])),
    'x.bin': bytes(x),
    'mha.onnx': modelBytes(mhaGraph(1, L, E, H, w, 'contrib')),
  };
  const files = {
    lib: ['wasm-attention.min.js', 'browser-pool.js', 'thread-worker.browser.js'],
    data,
    app: APP(rounds),
  };
  return withBenchPage('worker mode', files, async (load) => {
    const r = (await load()) as Omit<WorkersPage, 'ms' | 'rounds'> & { times: Record<string, number[]> };
    return {
      ms: Object.fromEntries(Object.entries(r.times).map(([n, t]) => [n, median(t)])),
      info: r.info,
      isolated: r.isolated,
      bitIdentical: r.bitIdentical,
      ortDiff: r.ortDiff,
      rounds,
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(await measureWorkersPage(Number(process.argv[2] ?? 15)));
