// In Chromium: navigation to first result and bytes downloaded for a page that loads the standalone file,
// initialises and runs one attention call. Taking turns with it: the same page whose module script does nothing
// (what the browser and this harness cost before any library runs), and the same page with the library built
// to fetch its .wasm from `new URL(…, import.meta.url)` instead of carrying it inline (the alternative the
// browser entry was chosen over). Each load in a new browser context (empty caches), served with the strict
// CSP of the browser tests.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { browserThreads } from '../scripts/esbuild-embedded.mjs';
import { CHROMIUM_PATH, launchChromium } from '../scripts/chromium.mjs';
import { serve } from '../scripts/serve.mjs';
import { median } from './report.js';

const APP = `import { init, scaledDotProductAttention, tensor } from './lib/wasm-attention.min.js';
const t0 = performance.now();
init().then((engine) => {
  const q = tensor(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), [6, 4]);
  scaledDotProductAttention(q, q, q, { causal: true });
  window.__result = { build: engine.info.build, sinceNavigation: performance.now(), initAndCall: performance.now() - t0 };
});`;
const EMPTY = 'window.__result = { sinceNavigation: performance.now() };';
// The README's recipe for the standalone file: modulepreload fetches it alongside the app script, not after it.
const PAGE = (script: string, preload = '') =>
  `<!doctype html><meta charset="utf-8"><title>start</title>${preload && `<link rel="modulepreload" href="./${preload}">`}<script type="module" src="./${script}"></script>`;

export interface BrowserStart {
  build: string;
  /** Medians over the runs. */
  msToFirstResult: number;
  msEmptyPage: number;
  /** Median of (ours − empty page) over runs taken in turns. */
  msAdded: number;
  msInitAndCall: number;
  bytes: number;
  /** The page with the .wasm fetched from new URL(…, import.meta.url) rather than inline. */
  fetched: { msToFirstResult: number; bytes: number };
  runs: number;
}

export async function measureBrowserStart(runs: number): Promise<BrowserStart | string> {
  if (!existsSync(CHROMIUM_PATH)) return `no ${CHROMIUM_PATH}: install Debian's chromium to measure the browser start`;
  const dir = mkdtempSync(join(tmpdir(), 'wasm-attention-bench-page-'));
  const page = (name: string, lib: string | undefined) => {
    mkdirSync(join(dir, name, 'lib'), { recursive: true });
    if (lib) writeFileSync(join(dir, name, 'lib/wasm-attention.min.js'), lib);
    writeFileSync(join(dir, name, 'app.js'), lib ? APP : EMPTY);
    writeFileSync(join(dir, name, 'index.html'), PAGE('app.js', lib ? 'lib/wasm-attention.min.js' : ''));
  };
  page('empty', undefined);
  page('inline', readFileSync(new URL('../dist/wasm-attention.min.js', import.meta.url), 'utf8'));
  // src/runtime/wasm-source.ts outside Node: fetch new URL('../build/<build>.wasm', import.meta.url), as a bundler's
  // asset.
  const fetching = await build({
    entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    plugins: [browserThreads],
  });
  page('fetched', fetching.outputFiles[0].text);
  mkdirSync(join(dir, 'fetched/build'));
  for (const b of ['simd', 'relaxed-simd'])
    copyFileSync(new URL(`../build/${b}.wasm`, import.meta.url), join(dir, `fetched/build/${b}.wasm`));
  const { url, server } = await serve(dir);
  const browser = await launchChromium();
  type Result = { build?: string; sinceNavigation: number; initAndCall?: number };
  const load = async (path: string) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const bodies: Array<Promise<number>> = [];
    page.on('response', (r) =>
      bodies.push(
        r.body().then(
          (b) => b.length,
          () => 0,
        ),
      ),
    );
    await page.goto(url + path);
    await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result);
    const result = await page.evaluate(() => (window as unknown as { __result: Result }).__result);
    const bytes = (await Promise.all(bodies)).reduce((a, b) => a + b, 0);
    await context.close();
    return { ...result, bytes };
  };
  try {
    await load('empty/'); // the first context of a browser pays extra once
    const ours: Array<Result & { bytes: number }> = [];
    const fetched: Array<Result & { bytes: number }> = [];
    const empty: number[] = [];
    for (let i = 0; i < runs; i++) {
      empty.push((await load('empty/')).sinceNavigation);
      ours.push(await load('inline/'));
      fetched.push(await load('fetched/'));
    }
    return {
      build: ours[0].build!,
      msToFirstResult: median(ours.map((r) => r.sinceNavigation)),
      msEmptyPage: median(empty),
      msAdded: median(ours.map((r, i) => r.sinceNavigation - empty[i])),
      msInitAndCall: median(ours.map((r) => r.initAndCall!)),
      bytes: ours[0].bytes,
      fetched: { msToFirstResult: median(fetched.map((r) => r.sinceNavigation)), bytes: fetched[0].bytes },
      runs,
    };
  } finally {
    await browser.close();
    server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(await measureBrowserStart(Number(process.argv[2] ?? 11)));
