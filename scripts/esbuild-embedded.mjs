// esbuild plugins for the browser entry. browserThreads: src/runtime/threads/threads.ts (Node's worker_threads)
// becomes threads.browser.ts beside it, src/runtime/recording.ts the browser's shim over it (the pool's own files keep
// the real one), and src/runtime/node-builtins.ts (node:module) one with no built-ins.
// embeddedWasm: that, and src/runtime/wasm-source.ts becomes wasm-source.embedded.ts, which carries both .wasm builds
// inline.
import { join } from 'node:path';

export const browserThreads = {
  name: 'browser-threads',
  setup(b) {
    b.onResolve({ filter: /\/(threads|recording|node-builtins)\.js$/ }, (args) => {
      if (/(worker|browser)-pool\.ts$/.test(args.importer)) return undefined;
      // The browser file beside the one imported.
      return { path: join(args.resolveDir, args.path.replace(/\.js$/, '.browser.ts')) };
    });
  },
};

export const embeddedWasm = {
  name: 'embedded-wasm',
  setup(b) {
    browserThreads.setup(b);
    b.onResolve({ filter: /\/wasm-source\.js$/ }, (args) => ({
      path: join(args.resolveDir, args.path.replace(/\.js$/, '.embedded.ts')),
    }));
  },
};
