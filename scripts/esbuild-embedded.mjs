// esbuild plugins for the browser entry. browserThreads: src/threads.ts (Node's worker_threads) becomes
// src/threads.browser.ts, src/recording.ts the browser's shim over it (the pool's own files keep the real one), and
// src/node-builtins.ts (node:module) one with no built-ins.
// embeddedWasm: that, and src/wasm-source.ts becomes src/wasm-source.embedded.ts, which carries both .wasm builds
// inline.
export const browserThreads = {
  name: 'browser-threads',
  setup(b) {
    b.onResolve({ filter: /\/(threads|recording|node-builtins)\.js$/ }, (args) => {
      if (/(worker|browser)-pool\.ts$/.test(args.importer)) return undefined;
      return { path: new URL(`../src/${args.path.match(/([\w-]+)\.js$/)[1]}.browser.ts`, import.meta.url).pathname };
    });
  },
};

export const embeddedWasm = {
  name: 'embedded-wasm',
  setup(b) {
    browserThreads.setup(b);
    b.onResolve({ filter: /\/wasm-source\.js$/ }, () => ({
      path: new URL('../src/wasm-source.embedded.ts', import.meta.url).pathname,
    }));
  },
};
