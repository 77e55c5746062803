// The demo page as a person uses it: in Chromium, behind the strict CSP, type a sentence, point at a weight, toggle
// causal, time it (the screenshot lands in test/artifacts/demo-web.png).
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
    const cells = async () =>
      page.$$eval('figure', (figs) =>
        figs.map((f) => Array.from(f.querySelectorAll('rect.cell'), (r) => Number(r.getAttribute('data-weight')))),
      );
    const open = await cells();
    expect(open.length).toBe(4);
    for (const head of open) {
      expect(head.length).toBe(25);
      for (let i = 0; i < 5; i++) expect(head.slice(i * 5, i * 5 + 5).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    expect(await page.$$eval('figure text', (t) => t.map((x) => x.textContent))).toContain('attention');
    // Four heads in two rows of two.
    const boxes = await page.$$eval('figure', (figs) =>
      figs.map((f) => f.getBoundingClientRect()).map((r) => [Math.round(r.x), Math.round(r.y)]),
    );
    expect(new Set(boxes.map(([x]) => x)).size).toBe(2);
    expect(new Set(boxes.map(([, y]) => y)).size).toBe(2);

    // Pointing at a cell reads its weight out and lights its row and column in that map only.
    await page.hover('figure[data-head="2"] rect.cell[data-row="1"][data-col="3"]');
    const weight = Number(
      await page.getAttribute('figure[data-head="2"] rect.cell[data-row="1"][data-col="3"]', 'data-weight'),
    );
    expect(await page.textContent('#readout')).toBe(`head 2: "is" → "you" ${weight.toFixed(3)}`);
    expect(
      await page.$$eval('rect.cell.lit', (cs) =>
        cs
          .map(
            (c) =>
              `${c.closest('figure')!.getAttribute('data-head')}:${c.getAttribute('data-row')},${c.getAttribute('data-col')}`,
          )
          .sort(),
      ),
    ).toEqual(['2:0,3', '2:1,0', '2:1,1', '2:1,2', '2:1,3', '2:1,4', '2:2,3', '2:3,3', '2:4,3']);

    // Past 16 words the page says that it draws the first 16.
    await page.fill('#sentence', Array.from({ length: 20 }, (_, i) => `w${i}`).join(' '));
    await page.waitForSelector('body[data-tokens="16"]');
    expect(await page.textContent('#cut')).toBe('The maps show the first 16 of your 20 words.');
    await page.fill('#sentence', 'attention is all you need');
    await page.waitForSelector('body[data-tokens="5"]');
    expect(await page.textContent('#cut')).toBe('');

    await page.check('#causal');
    await page.waitForFunction(
      () => document.querySelector('figure rect.cell:nth-of-type(2)')?.getAttribute('data-weight') === '0',
    );
    for (const head of await cells()) {
      for (let i = 0; i < 5; i++) for (let j = i + 1; j < 5; j++) expect(head[i * 5 + j]).toBe(0);
      expect(head[0]).toBe(1);
    }

    await page.click('#time');
    await page.waitForFunction(() => /wasm-attention is/.test(document.getElementById('timing')?.textContent ?? ''));
    const timing = (await page.textContent('#timing'))!;
    const [, ours, js, ratio, verdict] = timing.match(
      /^5 tokens: wasm-attention ([\d.]+) ms · plain JavaScript \(Float32Array loops\) ([\d.]+) ms · wasm-attention is ([\d.]+)× (faster|slower)$/,
    )!;
    // The verdict follows the figures (to the rounding of what is printed).
    const quotient = Number(js) / Number(ours);
    expect(verdict).toBe(quotient >= 1 ? 'faster' : 'slower');
    expect(Number(ratio)).toBeCloseTo(quotient >= 1 ? quotient : 1 / quotient, 0);

    mkdirSync(new URL('./artifacts/', import.meta.url), { recursive: true });
    await page.hover('figure[data-head="1"] rect.cell[data-row="2"][data-col="1"]');
    await page.screenshot({ path: new URL('./artifacts/demo-web.png', import.meta.url).pathname, fullPage: true });
    // A changed sentence clears the timing of the old one.
    await page.fill('#sentence', 'a new sentence');
    await page.waitForSelector('body[data-tokens="3"]');
    expect(await page.textContent('#timing')).toBe('');
    expect(problems).toEqual([]);
    await page.close();
  });
});
