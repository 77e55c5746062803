import { defineConfig } from 'vitest/config';

// Every test runs twice: on the plain SIMD build and on the relaxed SIMD build. Node 20 validates relaxed
// SIMD only behind a V8 flag that NODE_OPTIONS refuses, so that project's workers get it as execArgv.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'simd',
          include: ['test/**/*.test.ts'],
          env: { WASM_ATTENTION_BUILD: 'simd' },
        },
      },
      {
        test: {
          name: 'relaxed-simd',
          include: ['test/**/*.test.ts'],
          execArgv: ['--experimental-wasm-relaxed-simd'],
          env: { WASM_ATTENTION_BUILD: 'relaxed-simd' },
        },
      },
    ],
  },
});
