// V8 runs a wasm function in baseline code until it has done enough work, then optimises it in the background and
// uses the optimised code from its next call. The wrapper calls warm_up once per engine, so that the kernels' hot
// functions are optimised by the time the first real call comes, not during (or after) it.
import { AttentionDesc } from "./descriptor";
import { f32_attention_weights, f32_attention_weights_scratch_floats } from "./attention";
import { f32_attention_fused, f32_attention_fused_scratch_floats } from "./flash";
import { f32_gemm, f32_gemm_scratch_floats } from "./gemm";

/** Rows, keys and widths of the warm-up problem. */
const N = 64;
/**
 * Times the problem runs. V8 optimises a function once it has spent a budget (`--wasm-tiering-budget`, roughly bytes
 * of code executed): six rounds spend Node 20's 1,800,000 in every hot function (bench/compile-times.ts). Chromium's
 * and Node 22's 13,000,000 would take more rounds than start-up can afford; six spend enough of it that the first
 * call asks for optimised code early.
 */
const ROUNDS = 6;
const MATRIX: usize = N * N * 4;
const DESC: usize = (offsetof<AttentionDesc>() + 15) & ~15;

function workBytes(): usize {
  const floats = max(
    max(f32_attention_fused_scratch_floats(N, N, N, N), f32_attention_weights_scratch_floats(N, N, N, N)),
    f32_gemm_scratch_floats(N, N, N),
  );
  return <usize>floats << 2;
}

/** Floats warm_up takes at its pointer. */
export function warm_up_floats(): f64 {
  return <f64>((DESC + 3 * MATRIX + workBytes()) >> 2);
}

/**
 * Runs each kernel family ROUNDS times on an N × N problem of zeros in the warm_up_floats() floats at `at`
 * (16-byte aligned), the caller's own: both attention kernels and the GEMM (which the attention kernels, the
 * projections and matmul share).
 */
export function warm_up(at: usize): void {
  const desc = at, x = desc + DESC, out = x + MATRIX, weights = out + MATRIX, work = weights + MATRIX;
  memory.fill(desc, 0, <usize>warm_up_floats() << 2);
  const d = changetype<AttentionDesc>(desc);
  d.batch = 1; d.lq = N; d.lk = N; d.dk = N; d.dv = N; d.unitRows = N;
  d.q = x; d.ldq = N; d.k = x; d.ldk = N; d.v = x; d.ldv = N; d.o = out; d.ldo = N; d.w = weights;
  d.scale = 1;
  for (let r = 0; r < ROUNDS; r++) {
    f32_attention_fused(desc, 0, 1, work);
    f32_attention_weights(desc, 0, 1, work);
    f32_gemm(1, N, N, N, x, N, 0, x, N, 0, false, out, N, 0, 1, 0, work);
  }
}
