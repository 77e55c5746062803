// A benchmark page in Chromium: a folder with wasm-attention's built files in lib/ and onnxruntime-web's wasm build in
// ort/, the page's data files and its app, served from 127.0.0.1 under the browser tests' CSP. The app leaves its
// result in window.__result; each load runs in a new browser context (no cache from the loads before).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_PATH, launchChromium } from '../scripts/chromium.mjs';
import { serve } from '../scripts/serve.mjs';

export interface BenchPage {
  /** Files of dist/ the page imports from ./lib/. */
  readonly lib: readonly string[];
  /** Files written to ./data/. */
  readonly data: Readonly<Record<string, Uint8Array>>;
  /** The page's module script, ./app.js. */
  readonly app: string;
  /** Functions of this process the page may call (and await) as window[name]. */
  readonly exposed?: Readonly<Record<string, (...args: never[]) => unknown>>;
}

/** Loads the page (with `query`) and returns its __result; throws what the page threw. */
export type LoadPage = (query?: string) => Promise<unknown>;

/** Runs `use` with the page served and a browser to load it, or says why there is no browser. */
export async function withBenchPage<T>(
  name: string,
  files: BenchPage,
  use: (load: LoadPage) => Promise<T>,
): Promise<T | string> {
  if (!existsSync(CHROMIUM_PATH)) return `no ${CHROMIUM_PATH}: install Debian's chromium to measure ${name}`;
  const dir = mkdtempSync(join(tmpdir(), 'wasm-attention-bench-page-'));
  for (const d of ['lib', 'ort', 'data']) mkdirSync(join(dir, d));
  for (const f of files.lib) copyFileSync(new URL(`../dist/${f}`, import.meta.url), join(dir, 'lib', f));
  for (const f of ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'])
    copyFileSync(new URL(`../node_modules/onnxruntime-web/dist/${f}`, import.meta.url), join(dir, 'ort', f));
  for (const [f, bytes] of Object.entries(files.data)) writeFileSync(join(dir, 'data', f), bytes);
  writeFileSync(join(dir, 'app.js'), files.app);
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><meta charset="utf-8"><title>${name}</title><script type="module" src="./app.js"></script>`,
  );
  const { url, server } = await serve(dir);
  const browser = await launchChromium();
  const load: LoadPage = async (query = '') => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      for (const [fn, f] of Object.entries(files.exposed ?? {})) await page.exposeFunction(fn, f);
      const failed = new Promise<never>((_, reject) =>
        page.on('pageerror', (e) => reject(new Error(`the ${name} page failed: ${e.message}`))),
      );
      // It may fail while the page loads, before the race below is listening.
      failed.catch(() => {});
      await page.goto(`${url}${query}`);
      await Promise.race([
        page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result, undefined, {
          timeout: 300_000,
        }),
        failed,
      ]);
      return await page.evaluate(() => (window as unknown as { __result: unknown }).__result);
    } finally {
      await context.close();
    }
  };
  try {
    return await use(load);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    await browser.close();
    server.close();
  }
}
