// The demo page as a person uses it: in Chromium, behind the strict CSP, type a sentence, toggle causal, time it.
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe as describeAll, expect, it } from 'vitest';
import { buildDemo, webDir } from '../scripts/demo-web.mjs';
import { serve } from '../scripts/serve.mjs';
import { launchChromium, NO_CHROMIUM } from '../scripts/chromium.mjs';

// Without a browser these tests are skipped with one line saying why (CI installs Debian's Chromium and runs them).
if (NO_CHROMIUM) console.warn(`demo page tests skipped: ${NO_CHROMIUM}`);
const describe = NO_CHROMIUM ? describeAll.skip : describeAll;

let browser: Browser;
let server: Server;
let url: string;

beforeAll(async () => {
  if (NO_CHROMIUM) return;
  await buildDemo();
  ({ url, server } = await serve(webDir));
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
});

describe('demo page', () => {
  it('draws a heatmap per head for a typed sentence, honours causal, times against plain JS', async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.textContent('#build')).toMatch(/^build: relaxed-simd/);

    await page.fill('#sentence', 'attention is all you need');
    await page.waitForSelector('body[data-tokens="5"]');
    const cells = async () => page.$$eval('figure', (figs) => figs.map((f) => Array.from(f.querySelectorAll('rect.cell'), (r) => Number(r.getAttribute('data-weight')))));
    const open = await cells();
    expect(open.length).toBe(4);
    for (const head of open) {
      expect(head.length).toBe(25);
      for (let i = 0; i < 5; i++) expect(head.slice(i * 5, i * 5 + 5).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    expect(await page.$$eval('figure text', (t) => t.map((x) => x.textContent))).toContain('attention');

    await page.check('#causal');
    await page.waitForFunction(() => document.querySelector('figure rect.cell:nth-of-type(2)')?.getAttribute('data-weight') === '0');
    for (const head of await cells()) {
      for (let i = 0; i < 5; i++) for (let j = i + 1; j < 5; j++) expect(head[i * 5 + j]).toBe(0);
      expect(head[0]).toBe(1);
    }

    await page.click('#time');
    await page.waitForFunction(() => /faster/.test(document.getElementById('timing')?.textContent ?? ''));
    expect(await page.textContent('#timing')).toMatch(/^wasm-attention [\d.]+ ms · plain JavaScript \(float64\) [\d.]+ ms · [\d.]+× faster$/);

    mkdirSync(new URL('./artifacts/', import.meta.url), { recursive: true });
    await page.screenshot({ path: new URL('./artifacts/demo-web.png', import.meta.url).pathname, fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });
});
