// Public exports only.
export {
  init,
  initSync,
  createEngine,
  getEngine,
  Engine,
  type Build,
  type EngineInfo,
  type InitOptions,
  type WasmSource,
} from './engine.js';
export { AttentionError, type AttentionErrorCode } from './errors.js';
export { tensor, type Tensor, type BoolTensor, type StateDict } from './tensor.js';
export { createCausalMask } from './mask.js';
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
} from './ops.js';
export { scaledDotProductAttentionAsync, matmulAsync, linearAsync } from './ops-async.js';
export {
  SelfAttention,
  initialSelfAttentionWeights,
  type SelfAttentionOptions,
  type SelfAttentionForwardOptions,
} from './self-attention.js';
export { MultiHeadAttention, type MultiHeadAttentionOptions, type MultiHeadForwardOptions } from './multi-head.js';
export type { StepOptions } from './attention-core.js';
export { KVCache, type CacheOptions } from './kv-cache.js';
// heatmap and heatmapSvg: `wasm-attention/heatmap`.
