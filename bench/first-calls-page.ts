// First calls in Chromium: a fresh browser context per load (nothing cached), the page imports the engine, makes it
// ready and makes the same SDPA 512×64 call 40 times; the first call, the worst of calls 2–5, the median of calls
// 6–12 and the steady time (median of calls 31–40), medians over loads taking turns between engines. wasm-attention's standalone file (relaxed SIMD in
// Chromium) and onnxruntime-web's opset-23 Attention graph on one thread, each as a page would load it.
// `node --import tsx bench/first-calls-page.ts [loads]`.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_PATH, launchChromium } from '../scripts/chromium.mjs';
import { serve } from '../scripts/serve.mjs';
import { attentionOpGraph } from './models/graphs.js';
import { modelBytes } from './models/onnx-writer.js';
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
  if (!existsSync(CHROMIUM_PATH)) return `no ${CHROMIUM_PATH}: install Debian's chromium to measure first calls in a page`;
  const dir = mkdtempSync(join(tmpdir(), 'wasm-attention-bench-first-'));
  for (const d of ['lib', 'ort', 'data']) mkdirSync(join(dir, d));
  copyFileSync(new URL('../dist/wasm-attention.min.js', import.meta.url), join(dir, 'lib', 'wasm-attention.min.js'));
  for (const f of ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) copyFileSync(new URL(`../node_modules/onnxruntime-web/dist/${f}`, import.meta.url), join(dir, 'ort', f));
  writeFileSync(join(dir, 'data', 'sdpa.onnx'), modelBytes(attentionOpGraph(N, N, D, false)));
  writeFileSync(join(dir, 'app.js'), APP);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>first calls</title><script type="module" src="./app.js"></script>');
  const { url, server } = await serve(dir);
  const browser = await launchChromium();
  const times = new Map<string, { build: string; runs: number[][] }>();
  try {
    for (let load = 0; load < loads; load++) {
      for (const engine of load % 2 ? [...PAGE_ENGINES].reverse() : PAGE_ENGINES) {
        // A context of its own: no HTTP or code cache from the loads before.
        const context = await browser.newContext();
        const page = await context.newPage();
        const problems: string[] = [];
        page.on('pageerror', (e) => problems.push(e.message));
        await page.goto(`${url}?engine=${engine}`);
        await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result, undefined, { timeout: 120_000 });
        if (problems.length) return `the ${engine} page failed: ${problems.join(' | ')}`;
        const r = await page.evaluate(() => (window as unknown as { __result: { times: number[]; build: string } }).__result);
        const entry = times.get(engine) ?? { build: r.build, runs: [] };
        entry.runs.push(r.times);
        times.set(engine, entry);
        await context.close();
      }
    }
  } finally {
    await browser.close();
    server.close();
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
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await measureFirstCallsPage(Number(process.argv[2] ?? 5)));
