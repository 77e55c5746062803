// Builds dist/browser.js: the ESM entry bundlers pick with the "browser" condition. It carries both .wasm builds
// inline, so a bundle needs no copied file and no configuration, and a page fetches nothing but its scripts.
import { build } from 'esbuild';
import { embeddedWasm } from './esbuild-embedded.mjs';

await build({
  entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  packages: 'external',
  outfile: new URL('../dist/browser.js', import.meta.url).pathname,
  plugins: [embeddedWasm],
  logLevel: 'warning',
});
