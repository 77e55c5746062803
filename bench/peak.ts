// This CPU's WASM SIMD peak per build, as our 4×8 micro-kernel reaches it with its operands in L1.
import { readFileSync } from 'node:fs';
import type { Build } from '../src/index.js';
import { supportsRelaxedSimd } from '../src/runtime/features.js';

/** The builds this runtime runs: relaxed-simd where it validates (Node 20: under --experimental-wasm-relaxed-simd). */
export const runnableBuilds = (): Build[] => (supportsRelaxedSimd() ? ['simd', 'relaxed-simd'] : ['simd']);

/** Best GFLOP/s of bench/assembly/peak.ts over runs of ~10 ms, after half a second of warm-up. */
export async function measurePeak(build: Build): Promise<number> {
  const bytes = readFileSync(new URL(`../build/peak-${build}.wasm`, import.meta.url));
  // asc reads asconfig.json's options for this build too: the module imports its memory, as the kernels do.
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  const { instance } = await WebAssembly.instantiate(bytes, { env: { memory } });
  const peak = instance.exports.f32_peak_tile as (reps: number) => number;
  const flopsPerRep = (instance.exports.FLOPS_PER_REP as WebAssembly.Global).value as number;
  const reps = 20_000;
  // V8 first runs Liftoff's code and swaps in optimised code when it is ready, in the background: on a busy
  // 2-core machine that can take longer than a few runs, which would report the baseline compiler's speed.
  for (const start = performance.now(); performance.now() - start < 500;) peak(reps);
  let best = 0;
  for (let r = 0; r < 15; r++) {
    const t0 = performance.now();
    peak(reps);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (reps * flopsPerRep) / s / 1e9);
  }
  return best;
}
