// Builds dist/browser.js: the ESM entry bundlers pick with the "browser" condition. It carries both .wasm builds
// inline, so a bundle needs no copied file and no configuration, and a page fetches nothing but its scripts.
import { build } from 'esbuild';
import { embeddedWasm } from './esbuild-embedded.mjs';

const common = {
  entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  plugins: [embeddedWasm],
  logLevel: 'warning',
};

// For bundlers: the loader stays an import they resolve (and share).
await build({ ...common, packages: 'external', outfile: new URL('../dist/browser.js', import.meta.url).pathname });
// For a plain <script type="module"> from a CDN or any static host: one self-contained, minified file.
await build({ ...common, minify: true, outfile: new URL('../dist/wasm-attention.min.js', import.meta.url).pathname });
