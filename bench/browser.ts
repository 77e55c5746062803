// In Chromium: navigation to first result and bytes downloaded for a page that loads the standalone file,
// initialises and runs one attention call. Each load in a new browser context (empty caches).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../scripts/serve.mjs';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const APP = `import { init, scaledDotProductAttention, tensor } from './wasm-attention.min.js';
init().then((engine) => {
  const q = tensor(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), [6, 4]);
  scaledDotProductAttention(q, q, q, { causal: true });
  window.__result = { build: engine.info.build, sinceNavigation: performance.now() };
});`;

export interface BrowserStart {
  build: string;
  msToFirstResult: number;
  bytes: number;
  runs: number;
}

export async function measureBrowserStart(runs: number): Promise<BrowserStart | string> {
  if (!existsSync(CHROMIUM)) return `no ${CHROMIUM}: install Debian's chromium to measure the browser start`;
  const dir = mkdtempSync(join(tmpdir(), 'wasm-attention-bench-page-'));
  writeFileSync(join(dir, 'wasm-attention.min.js'), readFileSync(new URL('../dist/wasm-attention.min.js', import.meta.url)));
  writeFileSync(join(dir, 'app.js'), APP);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>start</title><script type="module" src="./app.js"></script>');
  const { url, server } = await serve(dir);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const times: number[] = [];
    let bytes = 0;
    let build = '';
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const bodies: Array<Promise<number>> = [];
      page.on('response', (r) => bodies.push(r.body().then((b) => b.length, () => 0)));
      await page.goto(url);
      await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result);
      const r = await page.evaluate(() => (window as unknown as { __result: { build: string; sinceNavigation: number } }).__result);
      times.push(r.sinceNavigation);
      bytes = (await Promise.all(bodies)).reduce((a, b) => a + b, 0);
      build = r.build;
      await context.close();
    }
    times.sort((a, b) => a - b);
    return { build, msToFirstResult: times[times.length >> 1], bytes, runs };
  } finally {
    await browser.close();
    server.close();
  }
}
