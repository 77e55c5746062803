// The functional ops' async twins: the sync op, recorded on the calling thread and run off it
// (src/runtime/recording.ts).
import type {
  EngineOption,
  MatmulOptions,
  AttentionOptions,
  AttentionResult,
  AttentionResultWithWeights,
} from './ops.js';
import { linear, matmul, scaledDotProductAttention } from './ops.js';
import { recorded } from '../runtime/recording.js';
import type { Tensor } from './tensor.js';

/**
 * scaledDotProductAttention without blocking the calling thread: checks and copies in happen at the call (a bad
 * argument rejects), the kernels run on the engine's threads, and the result is bit for bit the sync call's.
 * Calls on one engine run in the order they were made; a sync call waits for the async calls made before it.
 */
export function scaledDotProductAttentionAsync(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions & { returnWeights: true },
): Promise<AttentionResultWithWeights>;
export function scaledDotProductAttentionAsync(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options?: AttentionOptions,
): Promise<AttentionResult>;
export function scaledDotProductAttentionAsync(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options?: AttentionOptions,
): Promise<AttentionResult> {
  return recorded(() => scaledDotProductAttention(q, k, v, options));
}

/** matmul without blocking the calling thread (see scaledDotProductAttentionAsync). */
export const matmulAsync = (a: Tensor, b: Tensor, options?: MatmulOptions): Promise<Tensor> =>
  recorded(() => matmul(a, b, options));

/** linear without blocking the calling thread (see scaledDotProductAttentionAsync). */
export const linearAsync = (x: Tensor, weight: Tensor, bias?: Tensor, options?: EngineOption): Promise<Tensor> =>
  recorded(() => linear(x, weight, bias, options));
