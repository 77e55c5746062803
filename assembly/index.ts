// The wasm exports, and nothing else.
export {
  f32_gemm, f32_gemm_pack, f32_gemm_prepacked, f32_gemm_packed_floats, f32_gemm_packed_a_floats,
  f32_gemm_scratch_floats, f32_gemm_prepacked_scratch_floats,
} from "./gemm";
export { attention_desc_layout } from "./descriptor";
export { f32_softmax_rows } from "./softmax";
export { f32_exp, f32_exp2_flush } from "./exp";
export { f32_attention_weights, f32_attention_weights_scratch_floats } from "./attention";

/** Whether this is the relaxed-SIMD build, so the wrapper can tell which module it was given. */
export function build_relaxed_simd(): bool {
  return ASC_FEATURE_RELAXED_SIMD;
}

/** First byte past the static data: the wrapper's heap starts here. */
export function heap_base(): usize {
  return __heap_base;
}
export { f32_attention_fused, f32_attention_fused_scratch_floats } from "./flash";
export { f32_mean_blocks } from "./reduce";
export { f32_append_rows } from "./copy";
export { warm_up, warm_up_floats } from "./warm-up";
