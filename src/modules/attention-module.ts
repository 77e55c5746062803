// What SelfAttention and MultiHeadAttention share: the core that holds their weights, KV caches, decoding
// steps and disposal. The core stays private: only the module's own checked methods reach it.
import { type AttentionCore, stepThrough, type StepOptions } from './attention-core.js';
import { type CacheOptions, type KVCache, makeCache } from './kv-cache.js';
import type { AttentionResult, AttentionResultWithWeights } from '../ops/ops.js';
import { recorded } from '../runtime/recording.js';
import type { Tensor } from '../ops/tensor.js';

/** A module's core, for its own methods. */
export let moduleCore: (m: AttentionModule) => AttentionCore;

/** A module's sync call as its async twin: recorded on the module's engine, its steps run off the calling thread. */
export const inBackground = <T>(m: AttentionModule, body: () => T): Promise<T> => recorded(body, moduleCore(m).rt);

export abstract class AttentionModule {
  readonly #core: AttentionCore;
  /** The class name, for messages ('SelfAttention.forward: …'). */
  readonly #name: string;

  protected constructor(core: AttentionCore, name: string) {
    this.#core = core;
    this.#name = name;
  }

  /** A KV cache for decoding with forwardStep: `{ batch, maxLength }`, only the kv heads stored. */
  createCache(options: CacheOptions): KVCache {
    const core = this.#core;
    core.check(`${this.#name}.createCache`);
    return makeCache(core.rt, this, 2 * core.kvDim, options);
  }

  /**
   * Decodes new tokens `x [B, t, E]` (or `[t, E]` for a cache of batch 1): appends their keys and values to the
   * cache and attends from them to every cached token, causally among themselves. Equal, to float32
   * rounding, to the rows of a full causal forward. Weights (default on) are `[B, t, length]`.
   */
  forwardStep(x: Tensor, cache: KVCache, options?: StepOptions & { needWeights?: true }): AttentionResultWithWeights;
  forwardStep(x: Tensor, cache: KVCache, options?: StepOptions): AttentionResult;
  forwardStep(x: Tensor, cache: KVCache, options?: StepOptions): AttentionResult {
    return stepThrough(this, this.#core, `${this.#name}.forwardStep`, x, cache, options);
  }

  /**
   * forwardStep without blocking the calling thread: the same results, bit for bit (see
   * scaledDotProductAttentionAsync).
   */
  forwardStepAsync(
    x: Tensor,
    cache: KVCache,
    options?: StepOptions & { needWeights?: true },
  ): Promise<AttentionResultWithWeights>;
  forwardStepAsync(x: Tensor, cache: KVCache, options?: StepOptions): Promise<AttentionResult>;
  forwardStepAsync(x: Tensor, cache: KVCache, options?: StepOptions): Promise<AttentionResult> {
    return inBackground(this, () => this.forwardStep(x, cache, options));
  }

  /** Frees the resident weights (after a call in progress); later calls throw DISPOSED. Safe to call twice. */
  dispose(): void {
    this.#core.dispose();
  }

  /** `using m = new …(…)` disposes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  static {
    moduleCore = (m) => m.#core;
  }
}
