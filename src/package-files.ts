// The package's own files, found from this module's URL: it sits one folder below the package's root, in src/ as
// every Node bundle does in dist/, so the same relative URLs hold when running from source and when bundled.

/** The .wasm of a build. */
export const wasmUrl = (build: 'simd' | 'relaxed-simd'): URL =>
  build === 'simd'
    ? new URL('../build/simd.wasm', import.meta.url)
    : new URL('../build/relaxed-simd.wasm', import.meta.url);

/** The worker that Node's thread pool starts (bundled: dist/thread-worker.js). */
export const workerUrl = (): URL => new URL('../dist/thread-worker.js', import.meta.url);
