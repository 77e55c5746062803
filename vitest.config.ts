import { defineConfig } from 'vitest/config';

// Most suites run twice: on the plain SIMD build and on the relaxed SIMD build (the package, browser and demo tests
// once). Node 20 validates relaxed SIMD only behind a V8 flag that NODE_OPTIONS refuses, so that project's workers
// get it as execArgv.
export default defineConfig({
  test: {
    // The machines are shared and noisy: time limits catch hangs, they do not measure speed.
    testTimeout: 60_000,
    // Stops a run that would test an old build (after editing src/ or assembly/ without `npm run build`).
    globalSetup: ['test/support/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'simd',
          include: ['test/**/*.test.ts'],
          // --expose-gc lets the lifetime tests collect forgotten modules on demand.
          execArgv: ['--expose-gc'],
          env: { WASM_ATTENTION_BUILD: 'simd' },
        },
      },
      {
        extends: true,
        test: {
          name: 'relaxed-simd',
          include: ['test/**/*.test.ts'],
          // The package, browser and Node-version tests, and the pool's learning, do not depend on Node's build: once,
          // in the simd project, is enough.
          exclude: [
            'test/package.test.ts',
            'test/browser.test.ts',
            'test/demo-web.test.ts',
            'test/node-versions.test.ts',
            'test/split-gains.test.ts',
          ],
          execArgv: ['--experimental-wasm-relaxed-simd', '--expose-gc'],
          env: { WASM_ATTENTION_BUILD: 'relaxed-simd' },
        },
      },
    ],
  },
});
