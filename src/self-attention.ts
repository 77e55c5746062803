// The seed's module: single-head self-attention with nn.Linear projections, weights resident in linear memory.
import { AttentionCore, type CoreMask, stepThrough } from './attention-core.js';
import { leadStrides } from './batch.js';
import { getEngine } from './engine.js';
import { type CacheOptions, KVCache } from './kv-cache.js';
import { badArgument, shapeMismatch } from './errors.js';
import { maskLayout } from './mask.js';
import { Options, positiveInteger } from './options.js';
import { mulberry32, uniform } from './random.js';
import type { AttentionResult } from './ops.js';
import { type BoolTensor, checkTensor, formatShape, type StateDict, stateDictTensor, type Tensor } from './tensor.js';

const PROJECTIONS = ['W_q', 'W_k', 'W_v'] as const;

export interface SelfAttentionOptions {
  /** PyTorch state dict (`W_q.weight`, `W_q.bias`, …); without it the weights are initialised as nn.Linear does. */
  weights?: StateDict;
  /** Whether the projections have biases (default true). */
  bias?: boolean;
  /** Seed of the initialisation PRNG (default 0), so a module is reproducible. */
  seed?: number;
}

export interface SelfAttentionForwardOptions {
  /** Float32 data is added to the scores; Uint8Array data keeps a key where 1. Broadcast to `[batch, n, n]`. */
  mask?: Tensor | BoolTensor;
  /** Hide later tokens (the seed's create_causal_mask, without building it). */
  causal?: boolean;
  /** Return the attention weights `[batch, n, n]` (default true, as the seed does). */
  returnWeights?: boolean;
}

/**
 * nn.Linear's default initialisation for the three projections, in the order W_q.weight, W_q.bias, W_k.weight, …:
 * weight and bias uniform in ±1/√embedDim, drawn from mulberry32(seed).
 */
export function initialSelfAttentionWeights(embedDim: number, seed = 0, bias = true): StateDict {
  const next = mulberry32(seed);
  const bound = 1 / Math.sqrt(embedDim);
  const sd: StateDict = {};
  for (const p of PROJECTIONS) {
    sd[`${p}.weight`] = { data: uniform(next, embedDim * embedDim, bound), shape: [embedDim, embedDim] };
    if (bias) sd[`${p}.bias`] = { data: uniform(next, embedDim, bound), shape: [embedDim] };
  }
  return sd;
}

/** PyTorch's SelfAttention of the seed: `Q, K, V = W_q(x), W_k(x), W_v(x)`, `softmax(QKᵀ/√E)·V`. */
export class SelfAttention {
  readonly embedDim: number;
  readonly bias: boolean;
  /** W_q, W_k, W_v packed in linear memory until dispose(): one head of width E, no output projection. */
  readonly #core: AttentionCore;

  constructor(embedDim: number, options?: SelfAttentionOptions) {
    const engine = getEngine();
    this.embedDim = positiveInteger('embedDim', embedDim);
    const opts = new Options(options);
    const seed = opts.seed('seed');
    const sd = opts.raw.weights ?? initialSelfAttentionWeights(embedDim, seed, opts.boolean('bias', true));
    this.bias = checkStateDict(sd, embedDim, opts.raw.bias);
    const E = embedDim;
    const w = (p: string) => sd[`${p}.weight`].data;
    const b = (p: string) => (this.bias ? sd[`${p}.bias`].data : undefined);
    this.#core = new AttentionCore(
      engine,
      { embedDim: E, numHeads: 1, numKVHeads: 1, headDim: E, kdim: E, vdim: E, outProj: false, scale: 1 / Math.sqrt(E) },
      { wq: w('W_q'), bq: b('W_q'), wk: w('W_k'), bk: b('W_k'), wv: w('W_v'), bv: b('W_v') },
    );
  }

  /** A module with PyTorch's weights; embedDim and bias are read from the dict. */
  static fromStateDict(sd: StateDict): SelfAttention {
    const w = (sd as StateDict | undefined)?.['W_q.weight'];
    if (typeof sd !== 'object' || sd === null || !w) {
      throw badArgument("state dict must be an object with 'W_q.weight', 'W_k.weight', 'W_v.weight' (and their biases)");
    }
    checkTensor("state dict 'W_q.weight'", w, 2);
    return new SelfAttention(w.shape[0], { weights: sd });
  }

  /** `x [batch, n, E]` or `[n, E]` → `{ output (shape of x), weights [batch, n, n] or [n, n] }`. */
  forward(x: Tensor, options?: SelfAttentionForwardOptions): AttentionResult {
    this.#core.resident('SelfAttention.forward');
    checkTensor('x', x, 2);
    const E = this.embedDim;
    const rank = x.shape.length;
    if (rank > 3 || x.shape[rank - 1] !== E) {
      throw shapeMismatch(`x must be [batch, n, ${E}] or [n, ${E}], got ${formatShape(x.shape)}`);
    }
    const opts = new Options(options);
    const causal = opts.boolean('causal', false);
    const returnWeights = opts.boolean('returnWeights', true);
    const batch = rank === 3 ? [x.shape[0]] : [];
    const B = rank === 3 ? x.shape[0] : 1;
    const n = x.shape[rank - 2];
    const masks: CoreMask[] = [];
    if (opts.raw.mask !== undefined) {
      const layout = maskLayout('options.mask', opts.raw.mask, batch, n, n);
      masks.push({ layout, strides: [leadStrides(batch, layout.lead, layout.matrixSize)[0] ?? 0, 0] });
    }
    return this.#core.forward('SelfAttention.forward', x, x, x, B, masks, causal, returnWeights ? 'average' : 'none', 'options.returnWeights', [...x.shape], batch);
  }

  /** A KV cache for decoding with forwardStep: `{ batch, maxLength }`. */
  createCache(options: CacheOptions): KVCache {
    this.#core.resident('SelfAttention.createCache');
    return new KVCache(this.#core.engine, this, 2 * this.embedDim, options);
  }

  /**
   * Decodes new tokens `x [B, t, E]` (or `[t, E]` for a cache of batch 1): appends their keys and values to the
   * cache and attends causally; equal, to float32 rounding, to the rows of a full causal forward.
   * Weights (default on) are `[B, t, length]`.
   */
  forwardStep(x: Tensor, cache: KVCache, options?: { needWeights?: boolean }): AttentionResult {
    return stepThrough(this, this.#core, 'SelfAttention.forwardStep', this.embedDim, x, cache, options);
  }

  /** Frees the resident weights; later calls throw DISPOSED. Safe to call twice. */
  dispose(): void {
    this.#core.dispose();
  }

  /** `using m = new SelfAttention(…)` disposes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Checks a SelfAttention state dict (PyTorch strict loading); returns whether it has biases. */
function checkStateDict(sd: StateDict, E: number, biasOption: boolean | undefined): boolean {
  if (typeof sd !== 'object' || sd === null) throw badArgument(`options.weights must be a state dict object, got ${String(sd)}`);
  const hasBias = 'W_q.bias' in sd;
  if (biasOption !== undefined && biasOption !== hasBias) {
    throw badArgument(`options.bias is ${biasOption} but the state dict ${hasBias ? 'has' : 'has no'} 'W_q.bias'`);
  }
  const expected = PROJECTIONS.flatMap((p) => (hasBias ? [`${p}.weight`, `${p}.bias`] : [`${p}.weight`]));
  for (const key of Object.keys(sd)) {
    if (!expected.includes(key)) throw badArgument(`unexpected key '${key}' in state dict; expected ${expected.join(', ')}`);
  }
  for (const key of expected) stateDictTensor(sd, key, key.endsWith('.weight') ? [E, E] : [E]);
  return hasBias;
}
