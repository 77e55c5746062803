// Bundles dist/ from src/: the main entry and the heatmap entry in three flavours (Node ESM, Node CJS, browser
// ESM with both .wasm builds inline), one self-contained minified file for a plain <script type="module">, and
// the CLI. (tsc writes only the declarations.)
// The heatmap entry takes AttentionError from its flavour's main entry, so `instanceof` holds across the two.
import { build } from 'esbuild';
import { embeddedWasm } from './esbuild-embedded.mjs';

const src = (f) => new URL(`../src/${f}`, import.meta.url).pathname;
const dist = (f) => new URL(`../dist/${f}`, import.meta.url).pathname;

const common = { bundle: true, target: 'es2022', logLevel: 'warning', allowOverwrite: true };
// For Node: whitespace and syntax minified (about 1 ms less to parse), names kept for stack traces.
const node = { ...common, platform: 'node', target: 'node20', minifySyntax: true, minifyWhitespace: true };
// For bundlers: syntax minified (3 KB less for a bundle that is not minified again), names and lines kept, so stack
// traces still read.
const browser = {
  ...common,
  platform: 'browser',
  format: 'esm',
  packages: 'external',
  plugins: [embeddedWasm],
  minifySyntax: true,
};
// CJS has no import.meta: the module's own URL stands in for it.
const cjs = {
  format: 'cjs',
  define: { 'import.meta.url': '__moduleUrl' },
  banner: { js: "const __moduleUrl = require('node:url').pathToFileURL(__filename).href;" },
};

const errorsFrom = (main) => ({
  name: 'errors-from-main-entry',
  setup(b) {
    b.onResolve({ filter: /^\.\/attention-error\.js$/ }, () => ({ path: `./${main}`, external: true }));
  },
});

const flavours = [
  { options: { ...node, format: 'esm' }, main: 'index.js', heatmap: 'heatmap.js' },
  { options: { ...node, ...cjs }, main: 'index.cjs', heatmap: 'heatmap.cjs' },
  { options: browser, main: 'browser.js', heatmap: 'heatmap.browser.js' },
];

await Promise.all([
  ...flavours.flatMap(({ options, main, heatmap }) => [
    build({ ...options, entryPoints: [src('index.ts')], outfile: dist(main) }),
    build({
      ...options,
      plugins: [...(options.plugins ?? []), errorsFrom(main)],
      entryPoints: [src('heatmap.ts')],
      outfile: dist(heatmap),
    }),
  ]),
  build({ ...node, format: 'esm', entryPoints: [src('cli.ts')], outfile: dist('cli.js') }),
  // The worker of Node's thread pool: every flavour's pool starts dist/thread-worker.js.
  build({
    ...node,
    format: 'esm',
    entryPoints: [src('runtime/threads/thread-worker.ts')],
    outfile: dist('thread-worker.js'),
  }),
  // The browser's threads, two files with no imports beside the browser entry: the pool it loads when an engine
  // asks for threads, and the Worker the pool starts.
  ...['browser-pool', 'thread-worker.browser'].map((f) =>
    build({
      ...common,
      platform: 'browser',
      format: 'esm',
      minify: true,
      entryPoints: [src(`runtime/threads/${f}.ts`)],
      outfile: dist(`${f}.js`),
    }),
  ),
]);

// For a CDN or any static host: everything, the heatmaps included, in one file.
await build({
  ...common,
  platform: 'browser',
  format: 'esm',
  minify: true,
  plugins: [embeddedWasm],
  entryPoints: [src('standalone.ts')],
  outfile: dist('wasm-attention.min.js'),
});
