// This CPU's WASM SIMD peak per build, as our 4×8 micro-kernel reaches it with its operands in L1.
import { readFileSync } from 'node:fs';
import type { Build } from '../src/index.js';

/** Best GFLOP/s of bench/assembly/peak.ts over a few runs of ~10 ms. */
export async function measurePeak(build: Build): Promise<number> {
  const bytes = readFileSync(new URL(`../build/peak-${build}.wasm`, import.meta.url));
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const peak = instance.exports.f32_peak_tile as (reps: number) => number;
  const flopsPerRep = (instance.exports.FLOPS_PER_REP as WebAssembly.Global).value as number;
  const reps = 20_000;
  peak(reps);
  let best = 0;
  for (let r = 0; r < 9; r++) {
    const t0 = performance.now();
    peak(reps);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (reps * flopsPerRep) / s / 1e9);
  }
  return best;
}
