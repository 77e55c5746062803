// The WASM SIMD peak as this CPU runs our micro-kernel: the 4×8 tile (8 f32x4 accumulators, 6 loads and
// 8 madds per k-step) over operands that sit in L1, with nothing else in the loop.
// A register-only loop is no better measure: V8 hoists its loop-invariant products and spills.
import { EPILOGUE_NONE, microTile, MR, NR } from "../../assembly/gemm";

// Steps of k per tile. On the AMD EPYC of 2026-12 this loop, its bound a constant, ran about 8 % slower in tiles of 256
// steps or fewer than in tiles of 320 to 640, and the kernels' loops (bounds read at run time) as the short tiles at
// any length (`node bench/peak-steps.mjs`); a peak is the best the micro-kernel reaches.
const K = 512;
// A packed A micro-panel (K steps of MR floats), one packed panel of B (K rows of NR floats), one output tile:
// 24 KiB, in L1.
const A: usize = memory.data(MR * K * 4, 64);
const B: usize = memory.data(K * NR * 4, 64);
const C: usize = memory.data(4 * NR * 4, 64);

/** Runs the tile `reps` times; FLOPs = reps · 4 · 8 · K · 2. */
export function f32_peak_tile(reps: i32): f32 {
  for (let i = 0; i < MR * K; i++) store<f32>(A + (<usize>i << 2), <f32>((i % 7) - 3) * 0.01);
  for (let i = 0; i < K * NR; i++) store<f32>(B + (<usize>i << 2), <f32>((i % 5) - 2) * 0.01);
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  for (let r = 0; r < reps; r++) microTile(A, B, NR * 4, K, false, EPILOGUE_NONE, one, zero, zero, C, NR * 4, MR);
  return load<f32>(C);
}

/** FLOPs of one f32_peak_tile repetition. */
export const FLOPS_PER_REP: i32 = MR * NR * K * 2;
