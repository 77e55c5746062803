// Public exports only.
export { init, initSync, createEngine, getEngine } from './ops/engines.js';
export { Engine, type Build, type EngineInfo, type InitOptions, type WasmSource } from './runtime/engine.js';
export { AttentionError, type AttentionErrorCode } from './runtime/errors.js';
export { tensor, type Tensor, type BoolTensor, type StateDict } from './ops/tensor.js';
export { createCausalMask } from './ops/mask.js';
export {
  matmul,
  linear,
  softmax,
  scaledDotProductAttention,
  type MatmulOptions,
  type AttentionOptions,
  type AttentionResult,
  type AttentionResultWithWeights,
  type EngineOption,
} from './ops/ops.js';
export { scaledDotProductAttentionAsync, matmulAsync, linearAsync } from './ops/ops-async.js';
export {
  SelfAttention,
  initialSelfAttentionWeights,
  type SelfAttentionOptions,
  type SelfAttentionForwardOptions,
} from './modules/self-attention.js';
export {
  MultiHeadAttention,
  type MultiHeadAttentionOptions,
  type MultiHeadForwardOptions,
} from './modules/multi-head.js';
export type { StepOptions } from './modules/attention-core.js';
export { KVCache, type CacheOptions } from './modules/kv-cache.js';
// heatmap and heatmapSvg: `wasm-attention/heatmap`.
