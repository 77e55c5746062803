// First calls in Chromium: a fresh browser context per load (nothing cached), the page imports the engine, makes it
// ready and makes the same SDPA 512×64 call 40 times; the first call, the worst of calls 2–5, the median of calls
// 6–12 and the steady time (median of calls 31–40), medians over loads taking turns between engines. wasm-attention's
// standalone file (relaxed SIMD in
// Chromium) and onnxruntime-web's opset-23 Attention graph on one thread, each as a page would load it.
// `node --import tsx bench/first-calls-page.ts [loads]`.
import { attentionOpGraph } from './models/graphs.js';
import { modelBytes } from './models/onnx-writer.js';
import { withBenchPage } from './page-bench.js';
import { median } from './report.js';

const [N, D] = [512, 64];
const CALLS = 40;
export const PAGE_ENGINES = ['wasm-attention', 'onnxruntime-web'] as const;

const APP = `
const engine = new URLSearchParams(location.search).get('engine');
const data = (seed) => Float32Array.from({ length: ${N * D} }, (_, i) => Math.sin(i * 0.37 + seed));
const [q, k, v] = [1, 2, 3].map(data);
const times = [];
const timed = async (call) => {
  for (let i = 0; i < ${CALLS}; i++) {
    const t0 = performance.now();
    await call();
    times.push(performance.now() - t0);
  }
};
if (engine === 'wasm-attention') {
  const { init, scaledDotProductAttention } = await import('./lib/wasm-attention.min.js');
  const { build } = (await init()).info;
  const t = (d) => ({ data: d, shape: [${N}, ${D}] });
  await timed(() => scaledDotProductAttention(t(q), t(k), t(v)).output.data);
  window.__result = { times, build };
} else {
  const ort = await import('./ort/ort.wasm.min.mjs');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = new URL('./ort/', location.href).href;
  const session = await ort.InferenceSession.create('./data/sdpa.onnx', { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const feeds = () => Object.fromEntries(['Q', 'K', 'V'].map((name, i) => [name, new ort.Tensor('float32', [q, k, v][i], [1, 1, ${N}, ${D}])]));
  await timed(async () => (await session.run(feeds()))[session.outputNames[0]].data);
  window.__result = { times, build: 'plain SIMD, 1 thread' };
}
`;

export interface PageFirstCalls {
  engine: string;
  build: string;
  firstMs: number;
  worst2to5Ms: number;
  calls6to12Ms: number;
  steadyMs: number;
  loads: number;
}

export async function measureFirstCallsPage(loads: number): Promise<PageFirstCalls[] | string> {
  const files = {
    lib: ['wasm-attention.min.js'],
    data: { 'sdpa.onnx': modelBytes(attentionOpGraph(N, N, D, false)) },
    app: APP,
  };
  return withBenchPage('first calls', files, async (load) => {
    const times = new Map<string, { build: string; runs: number[][] }>();
    for (let i = 0; i < loads; i++) {
      for (const engine of i % 2 ? [...PAGE_ENGINES].reverse() : PAGE_ENGINES) {
        const r = (await load(`?engine=${engine}`)) as { times: number[]; build: string };
        const entry = times.get(engine) ?? { build: r.build, runs: [] };
        entry.runs.push(r.times);
        times.set(engine, entry);
      }
    }
    return [...times].map(([engine, { build, runs }]) => ({
      engine,
      build,
      firstMs: median(runs.map((t) => t[0])),
      worst2to5Ms: median(runs.map((t) => Math.max(...t.slice(1, 5)))),
      calls6to12Ms: median(runs.map((t) => median(t.slice(5, 12)))),
      steadyMs: median(runs.map((t) => median(t.slice(30)))),
      loads: runs.length,
    }));
  });
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(await measureFirstCallsPage(Number(process.argv[2] ?? 5)));
