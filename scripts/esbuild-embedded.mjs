// esbuild plugin for the browser entry: src/wasm-source.ts becomes src/wasm-source.embedded.ts, which carries both
// .wasm builds inline, and src/threads.ts (Node's worker_threads) becomes src/threads.browser.ts.
export const embeddedWasm = {
  name: 'embedded-wasm',
  setup(b) {
    b.onResolve({ filter: /\/wasm-source\.js$/ }, () => ({ path: new URL('../src/wasm-source.embedded.ts', import.meta.url).pathname }));
    b.onResolve({ filter: /\/threads\.js$/ }, () => ({ path: new URL('../src/threads.browser.ts', import.meta.url).pathname }));
  },
};
