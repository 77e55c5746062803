// Builds dist/browser.js: the ESM entry bundlers pick with the "browser" condition. It carries both .wasm builds
// inline (src/wasm-source.embedded.ts in place of src/wasm-source.ts), so a bundle needs no copied file and no
// configuration, and a page fetches nothing but its own scripts.
import { build } from 'esbuild';

const embedded = {
  name: 'embedded-wasm',
  setup(b) {
    b.onResolve({ filter: /\/wasm-source\.js$/ }, (args) => ({ path: new URL('../src/wasm-source.embedded.ts', import.meta.url).pathname }));
  },
};

await build({
  entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  packages: 'external',
  outfile: new URL('../dist/browser.js', import.meta.url).pathname,
  plugins: [embedded],
  logLevel: 'warning',
});
