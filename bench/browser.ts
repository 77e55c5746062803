// In Chromium: navigation to first result and bytes downloaded for a page that loads the standalone file,
// initialises and runs one attention call; and, taking turns with it, the same page whose module script does
// nothing (what the browser and this harness cost before any library runs). Each load in a new browser
// context (empty caches), served with the strict CSP of the browser tests.
import { mkdtempSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../scripts/serve.mjs';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const APP = `import { init, scaledDotProductAttention, tensor } from './wasm-attention.min.js';
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
  runs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export async function measureBrowserStart(runs: number): Promise<BrowserStart | string> {
  if (!existsSync(CHROMIUM)) return `no ${CHROMIUM}: install Debian's chromium to measure the browser start`;
  const dir = mkdtempSync(join(tmpdir(), 'wasm-attention-bench-page-'));
  writeFileSync(join(dir, 'wasm-attention.min.js'), readFileSync(new URL('../dist/wasm-attention.min.js', import.meta.url)));
  writeFileSync(join(dir, 'app.js'), APP);
  writeFileSync(join(dir, 'index.html'), PAGE('app.js', 'wasm-attention.min.js'));
  writeFileSync(join(dir, 'empty.js'), EMPTY);
  writeFileSync(join(dir, 'empty.html'), PAGE('empty.js'));
  const { url, server } = await serve(dir);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  type Result = { build?: string; sinceNavigation: number; initAndCall?: number };
  const load = async (path: string) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const bodies: Array<Promise<number>> = [];
    page.on('response', (r) => bodies.push(r.body().then((b) => b.length, () => 0)));
    await page.goto(url + path);
    await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result);
    const result = await page.evaluate(() => (window as unknown as { __result: Result }).__result);
    const bytes = (await Promise.all(bodies)).reduce((a, b) => a + b, 0);
    await context.close();
    return { ...result, bytes };
  };
  try {
    await load('empty.html'); // the first context of a browser pays extra once
    const ours: Array<Result & { bytes: number }> = [];
    const empty: number[] = [];
    for (let i = 0; i < runs; i++) {
      empty.push((await load('empty.html')).sinceNavigation);
      ours.push(await load(''));
    }
    return {
      build: ours[0].build!,
      msToFirstResult: median(ours.map((r) => r.sinceNavigation)),
      msEmptyPage: median(empty),
      msAdded: median(ours.map((r, i) => r.sinceNavigation - empty[i])),
      msInitAndCall: median(ours.map((r) => r.initAndCall!)),
      bytes: ours[0].bytes,
      runs,
    };
  } finally {
    await browser.close();
    server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await measureBrowserStart(Number(process.argv[2] ?? 11)));
