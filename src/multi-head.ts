// nn.MultiheadAttention(batch_first=True), with grouped-query heads and a KV cache for decoding.
import { AttentionCore, type CoreMask, type CoreWeights, stepThrough, type StepOptions, weightsMode } from './attention-core.js';
import { getEngine } from './engine.js';
import { badArgument, shapeMismatch } from './errors.js';
import { type CacheOptions, KVCache } from './kv-cache.js';
import { MaskKind } from './kernels.js';
import { maskLayout } from './mask.js';
import { Options, positiveInteger } from './options.js';
import { mulberry32, uniform } from './random.js';
import { type BoolTensor, checkMaskTensor, checkTensor, formatShape, sameShape, type StateDict, stateDictTensor, type Tensor } from './tensor.js';
import type { AttentionResult } from './ops.js';

export interface MultiHeadAttentionOptions {
  /** Key/value heads (grouped-query when fewer than numHeads; each serves numHeads / numKVHeads query heads). */
  numKVHeads?: number;
  /** Width of the key input (default embedDim). */
  kdim?: number;
  /** Width of the value input (default embedDim). */
  vdim?: number;
  /** Whether the projections have biases (default true). */
  bias?: boolean;
  /** Seed of the initialisation PRNG (default 0). */
  seed?: number;
  /** PyTorch state dict; see MultiHeadAttention.fromStateDict for the accepted keys. */
  weights?: StateDict;
}

export interface MultiHeadForwardOptions {
  /** [B, Lk] (or [Lk] unbatched): Uint8Array data with 1 = padding (ignored by every query and head), or float added. */
  keyPaddingMask?: Tensor | BoolTensor;
  /** [Lq, Lk] or [B·numHeads, Lq, Lk]: float data added to the scores, or Uint8Array data with 1 = not allowed. */
  attnMask?: Tensor | BoolTensor;
  /** Hide later keys: key j from query i when j > i + (Lk − Lq). */
  causal?: boolean;
  /** Return attention weights (default true, as nn.MultiheadAttention). */
  needWeights?: boolean;
  /** Average the weights over heads, [B, Lq, Lk] (default true); false gives [B, numHeads, Lq, Lk]. */
  averageWeights?: boolean;
}


function xavier(next: () => number, rows: number, cols: number): Float32Array {
  return uniform(next, rows * cols, Math.sqrt(6 / (rows + cols)));
}

/**
 * PyTorch's nn.MultiheadAttention(embedDim, numHeads, batch_first=True): q/k/v projections, scaled dot-product
 * attention per head (head_dim = embedDim / numHeads), concatenated heads, output projection.
 */
export class MultiHeadAttention {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly numKVHeads: number;
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly bias: boolean;
  readonly #core: AttentionCore;

  constructor(embedDim: number, numHeads: number, options?: MultiHeadAttentionOptions) {
    const engine = getEngine();
    this.embedDim = positiveInteger('embedDim', embedDim);
    this.numHeads = positiveInteger('numHeads', numHeads);
    const opts = new Options(options);
    this.numKVHeads = opts.positiveInteger('numKVHeads', numHeads);
    if (embedDim % numHeads !== 0) throw badArgument(`embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`);
    if (numHeads % this.numKVHeads !== 0) throw badArgument(`numHeads (${numHeads}) must be divisible by options.numKVHeads (${this.numKVHeads})`);
    this.headDim = embedDim / numHeads;
    this.kdim = opts.positiveInteger('kdim', embedDim);
    this.vdim = opts.positiveInteger('vdim', embedDim);
    const seed = opts.seed('seed');
    const sd = opts.raw.weights;
    const bias = opts.boolean('bias', sd ? hasBias(sd) : true);
    const weights = sd ? this.#readStateDict(sd, bias) : this.#initialWeights(seed, bias);
    this.bias = bias;
    this.#core = new AttentionCore(engine, {
      embedDim, numHeads, numKVHeads: this.numKVHeads, headDim: this.headDim, kdim: this.kdim, vdim: this.vdim,
      outProj: true, scale: 1 / Math.sqrt(this.headDim),
    }, weights);
  }

  /**
   * A module with PyTorch's weights: `in_proj_weight` [3E, E] (+ `in_proj_bias`), or `q_proj_weight`,
   * `k_proj_weight`, `v_proj_weight` (+ `in_proj_bias`) as nn.MultiheadAttention stores them when kdim/vdim
   * differ, or `q_proj.weight`, `k_proj.weight`, `v_proj.weight` with `.bias` (grouped-query layouts); and
   * `out_proj.weight`, `out_proj.bias`. kdim and vdim are read from the weights.
   */
  static fromStateDict(sd: StateDict, options: { numHeads: number; numKVHeads?: number }): MultiHeadAttention {
    if (typeof sd !== 'object' || sd === null) throw badArgument(`state dict must be an object of tensors, got ${String(sd)}`);
    const opts = new Options(options);
    const numHeads = opts.positiveInteger('numHeads');
    const out = sd['out_proj.weight'];
    if (!out) throw badArgument("state dict is missing 'out_proj.weight'");
    checkTensor("state dict 'out_proj.weight'", out, 2);
    const E = out.shape[0];
    const k = sd['k_proj_weight'] ?? sd['k_proj.weight'];
    const v = sd['v_proj_weight'] ?? sd['v_proj.weight'];
    return new MultiHeadAttention(E, numHeads, {
      numKVHeads: opts.raw.numKVHeads,
      kdim: k?.shape?.[1],
      vdim: v?.shape?.[1],
      weights: sd,
    });
  }

  /** `query [B, Lq, E]` (or `[Lq, E]`), `key [B, Lk, kdim]`, `value [B, Lk, vdim]` → `{ output [B, Lq, E], weights? }`. */
  forward(query: Tensor, key: Tensor = query, value: Tensor = key, options?: MultiHeadForwardOptions): AttentionResult {
    this.#core.resident('MultiHeadAttention.forward');
    const E = this.embedDim;
    checkTensor('query', query, 2);
    checkTensor('key', key, 2);
    checkTensor('value', value, 2);
    const rank = query.shape.length;
    if (rank > 3 || query.shape[rank - 1] !== E) throw shapeMismatch(`query must be [batch, Lq, ${E}] or [Lq, ${E}], got ${formatShape(query.shape)}`);
    const batched = rank === 3;
    const B = batched ? query.shape[0] : 1;
    const Lq = query.shape[rank - 2];
    const expectKV = (name: string, t: Tensor, width: number, Lk?: number) => {
      const ok = t.shape.length === rank && t.shape[rank - 1] === width && (!batched || t.shape[0] === B) && (Lk === undefined || t.shape[rank - 2] === Lk);
      if (!ok) {
        const want = batched ? `[${B}, ${Lk ?? 'Lk'}, ${width}]` : `[${Lk ?? 'Lk'}, ${width}]`;
        throw shapeMismatch(`${name} must be ${want} (as query ${formatShape(query.shape)}), got ${formatShape(t.shape)}`);
      }
    };
    expectKV('key', key, this.kdim);
    const Lk = key.shape[rank - 2];
    expectKV('value', value, this.vdim, Lk);
    const opts = new Options(options);
    const causal = opts.boolean('causal', false);
    const need = opts.boolean('needWeights', true);
    const average = opts.boolean('averageWeights', true);
    const { attnMask, keyPaddingMask } = opts.raw;
    const masks: CoreMask[] = [];
    if (attnMask !== undefined) masks.push(this.#attnMask(attnMask, B, Lq, Lk));
    if (keyPaddingMask !== undefined) masks.push(this.#keyPaddingMask(keyPaddingMask, batched, B, Lk));
    const lead = batched ? [B] : [];
    return this.#core.forward('MultiHeadAttention.forward', query, key, value, B, masks, causal, weightsMode(need, average), 'options.needWeights', batched ? [B, Lq, E] : [Lq, E], lead);
  }

  /** A KV cache for decoding with forwardStep: `{ batch, maxLength }`, only the kv heads stored. */
  createCache(options: CacheOptions): KVCache {
    this.#core.resident('MultiHeadAttention.createCache');
    return new KVCache(this.#core.engine, this, 2 * this.#core.kvDim, options);
  }

  /**
   * Decodes new tokens `x [B, t, E]` (or `[t, E]` for a cache of batch 1): appends their keys and values to the
   * cache and attends from them to every cached token, causally among themselves. Equal, to float32
   * rounding, to the rows of a full causal forward.
   */
  forwardStep(x: Tensor, cache: KVCache, options?: StepOptions): AttentionResult {
    return stepThrough(this, this.#core, 'MultiHeadAttention.forwardStep', this.embedDim, x, cache, options);
  }

  dispose(): void {
    this.#core.dispose();
  }

  /** `using m = new MultiHeadAttention(…)` disposes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #initialWeights(seed: number, bias: boolean): CoreWeights {
    const next = mulberry32(seed);
    const { embedDim: E } = this;
    const kvDim = this.numKVHeads * this.headDim;
    // As nn.MultiheadAttention: xavier-uniform in-projections (one [3E, E] matrix when it has one), zero biases,
    // out_proj weight uniform in ±1/√E with a zero bias.
    const packed = kvDim === E && this.kdim === E && this.vdim === E;
    let wq: Float32Array, wk: Float32Array, wv: Float32Array;
    if (packed) {
      const w = xavier(next, 3 * E, E);
      [wq, wk, wv] = [w.subarray(0, E * E), w.subarray(E * E, 2 * E * E), w.subarray(2 * E * E)];
    } else {
      [wq, wk, wv] = [xavier(next, E, E), xavier(next, kvDim, this.kdim), xavier(next, kvDim, this.vdim)];
    }
    const wo = uniform(next, E * E, 1 / Math.sqrt(E));
    const zeros = (n: number) => (bias ? new Float32Array(n) : undefined);
    return { wq, wk, wv, wo, bq: zeros(E), bk: zeros(kvDim), bv: zeros(kvDim), bo: zeros(E) };
  }

  #readStateDict(sd: StateDict, bias: boolean): CoreWeights {
    const { embedDim: E } = this;
    const kvDim = this.numKVHeads * this.headDim;
    const used = new Set<string>();
    const take = (key: string, shape: number[]): Float32Array => {
      used.add(key);
      return stateDictTensor(sd, key, shape).data;
    };
    let w: Pick<CoreWeights, 'wq' | 'wk' | 'wv' | 'bq' | 'bk' | 'bv'>;
    if ('in_proj_weight' in sd) {
      if (kvDim !== E || this.kdim !== E || this.vdim !== E) {
        throw badArgument(`'in_proj_weight' needs numKVHeads = numHeads and kdim = vdim = embedDim; use q/k/v projections for ${this.numKVHeads} kv heads`);
      }
      const ip = take('in_proj_weight', [3 * E, E]);
      const ib = bias ? take('in_proj_bias', [3 * E]) : undefined;
      w = { wq: ip.subarray(0, E * E), wk: ip.subarray(E * E, 2 * E * E), wv: ip.subarray(2 * E * E), bq: ib?.subarray(0, E), bk: ib?.subarray(E, 2 * E), bv: ib?.subarray(2 * E) };
    } else if ('q_proj_weight' in sd) {
      const ib = bias ? take('in_proj_bias', [E + 2 * kvDim]) : undefined;
      w = {
        wq: take('q_proj_weight', [E, E]), wk: take('k_proj_weight', [kvDim, this.kdim]), wv: take('v_proj_weight', [kvDim, this.vdim]),
        bq: ib?.subarray(0, E), bk: ib?.subarray(E, E + kvDim), bv: ib?.subarray(E + kvDim),
      };
    } else {
      w = {
        wq: take('q_proj.weight', [E, E]), wk: take('k_proj.weight', [kvDim, this.kdim]), wv: take('v_proj.weight', [kvDim, this.vdim]),
        bq: bias ? take('q_proj.bias', [E]) : undefined, bk: bias ? take('k_proj.bias', [kvDim]) : undefined, bv: bias ? take('v_proj.bias', [kvDim]) : undefined,
      };
    }
    const wo = take('out_proj.weight', [E, E]);
    const bo = bias ? take('out_proj.bias', [E]) : undefined;
    for (const key of Object.keys(sd)) {
      if (!used.has(key)) throw badArgument(`unexpected key '${key}' in state dict (bias ${bias ? 'on' : 'off'}; used ${[...used].join(', ')})`);
    }
    return { ...w, wo, bo };
  }

  #attnMask(mask: Tensor | BoolTensor, B: number, Lq: number, Lk: number): CoreMask {
    const t = checkMaskTensor('options.attnMask', mask);
    const H = this.numHeads;
    const perHead = t.shape.length === 3;
    const want = perHead ? [B * H, Lq, Lk] : [Lq, Lk];
    if (!sameShape(t.shape, want)) {
      throw shapeMismatch(`options.attnMask must be [${Lq}, ${Lk}] or [${B * H}, ${Lq}, ${Lk}] (batch · numHeads), got ${formatShape(t.shape)}`);
    }
    if (!perHead) return { layout: maskLayout('options.attnMask', t, [], Lq, Lk, 'hide'), strides: [0, 0] };
    const layout = maskLayout('options.attnMask', { data: t.data, shape: [B, H, Lq, Lk] }, [B, H], Lq, Lk, 'hide');
    return { layout, strides: [H * Lq * Lk, Lq * Lk] };
  }

  #keyPaddingMask(mask: Tensor | BoolTensor, batched: boolean, B: number, Lk: number): CoreMask {
    const t = checkMaskTensor('options.keyPaddingMask', mask);
    const want = batched ? [B, Lk] : [Lk];
    if (!sameShape(t.shape, want)) {
      throw shapeMismatch(`options.keyPaddingMask must be ${formatShape(want)}, got ${formatShape(t.shape)}`);
    }
    // One row of keys per batch item, the same for every query and head.
    const layout = { kind: t.data instanceof Uint8Array ? MaskKind.hide : MaskKind.add, tensor: t, lead: batched ? [B] : [], matrixSize: Lk, ldr: 0, ldc: 1 };
    return { layout, strides: [batched ? Lk : 0, 0] };
  }
}

function hasBias(sd: StateDict): boolean {
  return 'in_proj_bias' in sd || 'q_proj.bias' in sd || 'out_proj.bias' in sd;
}
