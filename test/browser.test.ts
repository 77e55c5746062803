// Bundled for the browser with esbuild, Vite and webpack 5 — no configuration, no copied files — and run in a real
// Chromium behind a strict Content Security Policy. The page computes attention; Node checks it.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe as describeAll, expect, it } from 'vitest';
import { refAttention } from '../src/reference.js';
import { expectClose, ATOL, RTOL } from './helpers.js';
import { launchChromium, NO_CHROMIUM } from '../scripts/chromium.mjs';
import { installPacked, repoRoot, run } from './support/pack.js';
import { serve } from '../scripts/serve.mjs';

// Without a browser these tests are skipped with one line saying why (CI installs Debian's Chromium and runs them).
if (NO_CHROMIUM) console.warn(`browser tests skipped: ${NO_CHROMIUM}`);
const describe = NO_CHROMIUM ? describeAll.skip : describeAll;

// What a user writes: import the package (and its heatmap entry), init, compute, draw. The bundlers see nothing else.
const app = (lib = 'wasm-attention', heatmapLib = 'wasm-attention/heatmap', initArgs = '') => `
import { AttentionError, init, scaledDotProductAttention, tensor } from '${lib}';
import { heatmapSvg } from '${heatmapLib}';
const t0 = performance.now();
init(${initArgs}).then((engine) => {
  const q = tensor(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), [6, 4]);
  const r = scaledDotProductAttention(q, q, q, { causal: true });
  // performance.now() counts from the navigation: this is navigation to first result.
  const ms = performance.now() - t0;
  const sinceNavigation = performance.now();
  document.body.innerHTML = heatmapSvg(scaledDotProductAttention(q, q, q, { causal: true, returnWeights: true }).weights);
  let sharedError = false;
  try { heatmapSvg(q.data); } catch (e) { sharedError = e instanceof AttentionError; }
  window.__result = { build: engine.info.build, output: Array.from(r.output.data), ms, sinceNavigation, cells: document.querySelectorAll('rect.cell').length, sharedError };
}, (e) => { window.__result = { error: String(e && e.message || e) }; });
`;
const APP = app();
// `preload`: the README's recipe for the standalone file, fetched alongside the app script rather than after it.
const PAGE = (script: string, preload?: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>wasm-attention</title>${preload ? `<link rel="modulepreload" href="${preload}">` : ''}</head><body><script type="module" src="${script}"></script></body></html>`;

const q = { data: Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), shape: [6, 4] };
const expected = refAttention(q, q, q, { causal: true }).output.data;

let project: string;
let browser: Browser;
const servers: Server[] = [];

beforeAll(async () => {
  if (NO_CHROMIUM) return;
  ({ project } = installPacked('wasm-attention-web-'));
  mkdirSync(join(project, 'src'), { recursive: true });
  writeFileSync(join(project, 'src/index.js'), APP);
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  for (const s of servers) s.close();
});

/** Bytes under a folder, recursively. */
function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, f) => {
    const p = join(dir, f);
    return sum + (statSync(p).isDirectory() ? folderBytes(p) : statSync(p).size);
  }, 0);
}

async function openPage(dir: string, isolated = false) {
  const { url, server } = await serve(dir, 0, { isolated });
  servers.push(server);
  return openUrl(url);
}

async function openUrl(url: string) {
  const page = await browser.newPage();
  const problems: string[] = [];
  const urls: string[] = [];
  let downloaded = 0;
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  const bodies: Array<Promise<number>> = [];
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} for ${r.url()}`);
    urls.push(r.url());
    bodies.push(
      r.body().then(
        (b) => b.length,
        () => 0,
      ),
    );
  });
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result, undefined, {
    timeout: 30_000,
  });
  const result = await page.evaluate(
    () =>
      (
        window as unknown as {
          __result: {
            build?: string;
            output?: number[];
            error?: string;
            ms?: number;
            sinceNavigation?: number;
            cells?: number;
            sharedError?: boolean;
          };
        }
      ).__result,
  );
  const wall = Date.now() - t0;
  downloaded = (await Promise.all(bodies)).reduce((a, b) => a + b, 0);
  await page.close();
  return { result, problems, downloaded, wall, urls };
}

/** `production`: a built page, held to the download budget (a dev server's unbundled modules are not). */
function checkPage(name: string, r: Awaited<ReturnType<typeof openPage>>, production = true): void {
  expect(r.result.error, `${name}: page error`).toBeUndefined();
  expect(r.problems, `${name}: console errors (CSP violations show up here): ${r.problems.join(' | ')}`).toEqual([]);
  // Chromium validates relaxed SIMD, so the relaxed build is the one chosen.
  expect(r.result.build).toBe('relaxed-simd');
  expectClose(name, r.result.output!, expected, ATOL, RTOL);
  // The heatmap entry drew the 6 × 6 weights, and its errors are the main entry's AttentionError.
  expect(r.result.cells, `${name}: heatmap cells`).toBe(36);
  expect(r.result.sharedError, `${name}: heatmap errors are instances of AttentionError`).toBe(true);
  console.log(
    `${name}: ${r.downloaded} bytes downloaded; first result ${r.result.sinceNavigation!.toFixed(1)} ms after navigation (init + call ${r.result.ms!.toFixed(1)} ms)`,
  );
  // The download budget is deterministic, so it is a test; times are printed here and belong to benchmarks.
  if (production) expect(r.downloaded).toBeLessThanOrEqual(100 * 1024);
}

/** A Vite project in the temporary project's folder: index.html and the app, nothing else. */
function viteProject(name: string, code = APP): string {
  const root = join(project, name);
  mkdirSync(join(root, 'src'), { recursive: true });
  writeFileSync(join(root, 'src/index.js'), code);
  writeFileSync(join(root, 'index.html'), PAGE('/src/index.js'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  return root;
}

describe("in Chromium, behind script-src 'self' 'wasm-unsafe-eval'", () => {
  it('an esbuild bundle works with no configuration and no copied files', async () => {
    const out = join(project, 'esbuild-out');
    run(
      join(repoRoot, 'node_modules/.bin/esbuild'),
      ['src/index.js', '--bundle', `--outfile=${join(out, 'app.js')}`, '--log-level=warning'],
      project,
    );
    writeFileSync(join(out, 'index.html'), PAGE('./app.js'));
    expect(readdirSync(out).sort()).toEqual(['app.js', 'index.html']);
    checkPage('esbuild', await openPage(out));
  });

  it("the README's app, bundled with its esbuild line, shows what it computed", async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const block = readme.split('\n## In the browser')[1].match(/```js\n([\s\S]*?)```/)![1];
    const root = join(project, 'readme-app');
    mkdirSync(join(root, 'src'), { recursive: true });
    writeFileSync(join(root, 'src/index.js'), block);
    run(join(repoRoot, 'node_modules/.bin/esbuild'), ['src/index.js', '--bundle', '--outfile=out/app.js'], root);
    writeFileSync(join(root, 'out/index.html'), PAGE('./app.js'));
    const { url, server } = await serve(join(root, 'out'), 0);
    servers.push(server);
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => document.body.textContent!.includes(':'), undefined, { timeout: 30_000 });
    const [build, numbers] = (await page.evaluate(() => document.body.textContent!)).split(': ');
    await page.close();
    expect(problems).toEqual([]);
    expect(build).toBe('relaxed-simd');
    expectClose('README app', numbers.split(', ').map(Number), expected.slice(0, 4), ATOL, RTOL);
  });

  it('a Vite production build works with no configuration and no copied files', async () => {
    const root = viteProject('vite-app');
    run(process.execPath, [join(repoRoot, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], root);
    const out = join(root, 'dist');
    checkPage('vite', await openPage(out));
    console.log(`vite: ${folderBytes(out)} bytes in its dist/`);
  });

  it('the Vite dev server serves a working page too, with no configuration', async () => {
    const root = viteProject('vite-dev');
    // The browser asks for /favicon.ico by itself; without one the dev server's 404 would read as a page error.
    mkdirSync(join(root, 'public'));
    writeFileSync(join(root, 'public/favicon.ico'), '');
    // This repository's Vite, serving the temporary project as `vite` (dev) would.
    const { createServer } = (await import(
      pathToFileURL(join(repoRoot, 'node_modules/vite/dist/node/index.js')).href
    )) as typeof import('vite');
    const dev = await createServer({
      root,
      configFile: false,
      logLevel: 'warn',
      server: { host: '127.0.0.1', port: 0, hmr: false },
    });
    try {
      await dev.listen();
      checkPage('vite dev', await openUrl(dev.resolvedUrls!.local[0]), false);
    } finally {
      await dev.close();
    }
  });

  it('the standalone file works from a plain <script type="module">, as from a CDN', async () => {
    const out = join(project, 'cdn');
    mkdirSync(join(out, 'npm'), { recursive: true });
    // A CDN serves the package's files as they are; here 127.0.0.1 does.
    writeFileSync(
      join(out, 'npm/wasm-attention.min.js'),
      readFileSync(join(project, 'node_modules/wasm-attention/dist/wasm-attention.min.js')),
    );
    writeFileSync(join(out, 'app.js'), app('./npm/wasm-attention.min.js', './npm/wasm-attention.min.js'));
    writeFileSync(join(out, 'index.html'), PAGE('./app.js', './npm/wasm-attention.min.js'));
    checkPage('standalone', await openPage(out));
  });

  it('the standalone file works in a module Worker, off the main thread', async () => {
    const out = join(project, 'worker');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      join(out, 'lib.js'),
      readFileSync(join(project, 'node_modules/wasm-attention/dist/wasm-attention.min.js')),
    );
    writeFileSync(
      join(out, 'worker.js'),
      `
      import { AttentionError, init, scaledDotProductAttention, tensor, heatmapSvg } from './lib.js';
      const t0 = performance.now();
      init().then((engine) => {
        const q = tensor(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), [6, 4]);
        const r = scaledDotProductAttention(q, q, q, { causal: true });
        const ms = performance.now() - t0;
        const svg = heatmapSvg(scaledDotProductAttention(q, q, q, { causal: true, returnWeights: true }).weights);
        let sharedError = false;
        try { heatmapSvg(q.data); } catch (e) { sharedError = e instanceof AttentionError; }
        postMessage({ build: engine.info.build, output: Array.from(r.output.data), ms, cells: svg.match(/class="cell"/g).length, sharedError });
      }, (e) => postMessage({ error: String(e && e.message || e) }));
    `,
    );
    writeFileSync(
      join(out, 'app.js'),
      `
      const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
      worker.onmessage = (m) => { window.__result = { ...m.data, sinceNavigation: performance.now() }; };
      worker.onerror = (e) => { window.__result = { error: 'worker: ' + e.message }; };
    `,
    );
    writeFileSync(join(out, 'index.html'), PAGE('./app.js'));
    checkPage('worker', await openPage(out));
  });

  it('init({ wasm: url }) loads a self-hosted .wasm, even from a server that sends the wrong MIME type', async () => {
    const out = join(project, 'self-hosted');
    mkdirSync(join(out, 'wasm'), { recursive: true });
    // Served as application/octet-stream: instantiateStreaming refuses it, the fallback compiles the bytes.
    writeFileSync(
      join(out, 'wasm/relaxed.bin'),
      readFileSync(join(project, 'node_modules/wasm-attention/build/relaxed-simd.wasm')),
    );
    writeFileSync(
      join(out, 'lib.js'),
      readFileSync(join(project, 'node_modules/wasm-attention/dist/wasm-attention.min.js')),
    );
    writeFileSync(
      join(out, 'app.js'),
      app('./lib.js', './lib.js', "{ wasm: new URL('./wasm/relaxed.bin', location.href) }"),
    );
    writeFileSync(join(out, 'index.html'), PAGE('./app.js'));
    const r = await openPage(out);
    checkPage('self-hosted .wasm', r);
    expect(r.urls.some((u) => u.endsWith('/wasm/relaxed.bin'))).toBe(true);
  });

  it('a webpack 5 build works with no configuration and no copied files', async () => {
    run(process.execPath, [join(repoRoot, 'node_modules/webpack-cli/bin/cli.js'), '--mode', 'production'], project);
    const out = join(project, 'dist');
    writeFileSync(join(out, 'index.html'), PAGE('./main.js'));
    checkPage('webpack', await openPage(out));
  });
});

// Threads: two engines (1 and 2 threads) compute the same calls, sync and async; the page reports what runs and
// whether every result is bit for bit the one-thread result.
const THREADS_APP = `
import { createEngine, MultiHeadAttention, scaledDotProductAttention, scaledDotProductAttentionAsync } from 'wasm-attention';
let seed = 1;
const rand = (n) => Float32Array.from({ length: n }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5);
const same = (a, b) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
(async () => {
  const two = await createEngine({ threads: 2 });
  const one = await createEngine({ threads: 1 });
  // A Worker whose script does not load says so within this time; one that loads stays counted.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const q = { data: rand(2 * 300 * 64), shape: [2, 300, 64] };
  const want = scaledDotProductAttention(q, q, q, { causal: true, engine: one }).output.data;
  const sync = scaledDotProductAttention(q, q, q, { causal: true, engine: two }).output.data;
  const async = (await scaledDotProductAttentionAsync(q, q, q, { causal: true, engine: two })).output.data;
  // A call of 2 · 1024² scores with weights takes the threads far longer than a turn of this thread's event loop:
  // the timer runs before it is done unless the call computes on this thread.
  const b = { data: rand(2 * 1024 * 64), shape: [2, 1024, 64] };
  let done = false;
  const big = scaledDotProductAttentionAsync(b, b, b, { returnWeights: true, engine: two }).finally(() => (done = true));
  const freeMeanwhile = await new Promise((resolve) => setTimeout(() => resolve(!done), 0));
  await big;
  const x = { data: rand(200 * 96), shape: [200, 96] };
  const m1 = new MultiHeadAttention(96, 6, { seed: 1, engine: one });
  const m2 = new MultiHeadAttention(96, 6, { seed: 1, engine: two });
  const m = m1.forward(x).output.data;
  window.__result = {
    info: two.info,
    isolated: self.crossOriginIsolated,
    freeMeanwhile,
    same: [same(want, sync), same(want, async), same(m, m2.forward(x).output.data), same(m, (await m2.forwardAsync(x)).output.data)],
  };
})().catch((e) => { window.__result = { error: String(e && e.message || e) }; });
`;

interface ThreadsResult {
  info?: { threads: number; threading: string };
  isolated?: boolean;
  freeMeanwhile?: boolean;
  same?: boolean[];
  error?: string;
}

/** Checks a threads page: what runs, and every result bit for bit the one-thread result. */
function checkThreads(
  name: string,
  r: Awaited<ReturnType<typeof openPage>>,
  want: { threads: number; threading: string; isolated: boolean },
): void {
  const result = r.result as ThreadsResult;
  expect(result.error, `${name}: page error`).toBeUndefined();
  expect(r.problems, `${name}: console errors: ${r.problems.join(' | ')}`).toEqual([]);
  expect(result.isolated, `${name}: crossOriginIsolated`).toBe(want.isolated);
  expect(result.info, `${name}: engine.info`).toMatchObject({ threads: want.threads, threading: want.threading });
  expect(result.same, `${name}: sync, async, module sync, module async equal to one thread`).toEqual([
    true,
    true,
    true,
    true,
  ]);
}

describe('threads in Chromium', () => {
  beforeAll(() => {
    writeFileSync(join(project, 'src/threads.js'), THREADS_APP);
  });

  it('a webpack 5 build: two threads over shared memory where cross-origin isolated, else Workers of their own; no configuration', async () => {
    run(
      process.execPath,
      [
        join(repoRoot, 'node_modules/webpack-cli/bin/cli.js'),
        '--mode',
        'production',
        '--entry',
        './src/threads.js',
        '--output-path',
        'dist-threads',
      ],
      project,
    );
    const out = join(project, 'dist-threads');
    writeFileSync(join(out, 'index.html'), PAGE('./main.js'));
    const r = await openPage(out, true);
    checkThreads('webpack, isolated', r, { threads: 2, threading: 'shared-memory', isolated: true });
    expect((r.result as ThreadsResult).freeMeanwhile).toBe(true);
    expect(r.urls.filter((u) => /\.js$/.test(u)).length, 'the pool and its worker were fetched').toBeGreaterThanOrEqual(
      3,
    );
    // The same build without the isolation headers: Workers with memories of their own run the async calls.
    const plain = await openPage(out);
    checkThreads('webpack, not isolated', plain, { threads: 2, threading: 'workers', isolated: false });
    expect((plain.result as ThreadsResult).freeMeanwhile).toBe(true);
  });

  it("an esbuild ES module bundle with the two files copied beside it (the README's line), and the standalone file beside them", async () => {
    const out = join(project, 'esbuild-threads');
    run(
      join(repoRoot, 'node_modules/.bin/esbuild'),
      ['src/threads.js', '--bundle', '--format=esm', `--outfile=${join(out, 'app.js')}`, '--log-level=warning'],
      project,
    );
    const dist = join(project, 'node_modules/wasm-attention/dist');
    for (const f of ['browser-pool.js', 'thread-worker.browser.js'])
      writeFileSync(join(out, f), readFileSync(join(dist, f)));
    writeFileSync(join(out, 'index.html'), PAGE('./app.js'));
    checkThreads('esbuild, isolated', await openPage(out, true), {
      threads: 2,
      threading: 'shared-memory',
      isolated: true,
    });
    checkThreads('esbuild, not isolated', await openPage(out), { threads: 2, threading: 'workers', isolated: false });
    // Without the copies: one thread, said so, and every result still right.
    const bare = join(project, 'esbuild-threads-bare');
    mkdirSync(bare, { recursive: true });
    writeFileSync(join(bare, 'app.js'), readFileSync(join(out, 'app.js')));
    writeFileSync(join(bare, 'index.html'), PAGE('./app.js'));
    for (const isolated of [true, false]) {
      const r = await openPage(bare, isolated);
      expect((r.result as ThreadsResult).info).toMatchObject({ threads: 1, threading: 'none' });
      expect((r.result as ThreadsResult).same).toEqual([true, true, true, true]);
    }
    // A CDN serves the package's dist/ as it is: the standalone file finds the pool and the Worker beside it.
    const cdn = join(project, 'cdn-threads');
    mkdirSync(join(cdn, 'npm'), { recursive: true });
    for (const f of ['wasm-attention.min.js', 'browser-pool.js', 'thread-worker.browser.js'])
      writeFileSync(join(cdn, 'npm', f), readFileSync(join(dist, f)));
    writeFileSync(
      join(cdn, 'app.js'),
      THREADS_APP.replace("from 'wasm-attention'", "from './npm/wasm-attention.min.js'"),
    );
    writeFileSync(join(cdn, 'index.html'), PAGE('./app.js'));
    checkThreads('standalone, isolated', await openPage(cdn, true), {
      threads: 2,
      threading: 'shared-memory',
      isolated: true,
    });
    checkThreads('standalone, not isolated', await openPage(cdn), {
      threads: 2,
      threading: 'workers',
      isolated: false,
    });
  });

  it('a Vite production build: two threads, over shared memory where cross-origin isolated, else Workers of their own; no configuration', async () => {
    const root = viteProject('vite-threads', THREADS_APP);
    run(process.execPath, [join(repoRoot, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], root);
    checkThreads('vite, isolated', await openPage(join(root, 'dist'), true), {
      threads: 2,
      threading: 'shared-memory',
      isolated: true,
    });
    checkThreads('vite, not isolated', await openPage(join(root, 'dist')), {
      threads: 2,
      threading: 'workers',
      isolated: false,
    });
  });
});
