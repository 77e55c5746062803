// esbuild plugin: src/wasm-source.ts becomes src/wasm-source.embedded.ts, which carries both .wasm builds inline.
export const embeddedWasm = {
  name: 'embedded-wasm',
  setup(b) {
    b.onResolve({ filter: /\/wasm-source\.js$/ }, () => ({ path: new URL('../src/wasm-source.embedded.ts', import.meta.url).pathname }));
  },
};
