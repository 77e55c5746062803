// The seed's module: single-head self-attention with nn.Linear projections, weights resident in linear memory.
import { attentionScratchFloats, maskBlockBytes, runAttention, writeMask } from './attention.js';
import { leadStrides } from './batch.js';
import { type Engine, getEngine } from './engine.js';
import { AttentionError } from './errors.js';
import { maskLayout } from './mask.js';
import { optBoolean, optionsObject, positiveInteger } from './options.js';
import { mulberry32, uniform } from './random.js';
import type { AttentionResult } from './ops.js';
import { type BoolTensor, checkTensor, formatShape, type StateDict, type Tensor } from './tensor.js';

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
  private readonly engine: Engine;
  /** Packed [W_q; W_k; W_v]ᵀ panels with the biases, resident until dispose(). */
  private packed: number | undefined;

  constructor(embedDim: number, options?: SelfAttentionOptions) {
    this.engine = getEngine();
    this.embedDim = positiveInteger('embedDim', embedDim);
    const opts = optionsObject('options', options);
    const seed = opts.seed ?? 0;
    if (!Number.isSafeInteger(seed)) throw new AttentionError('BAD_ARGUMENT', `options.seed must be an integer, got ${String(seed)}`);
    const sd = opts.weights ?? initialSelfAttentionWeights(embedDim, seed, optBoolean('options.bias', opts.bias, true));
    this.bias = checkStateDict(sd, embedDim, opts.bias);
    this.packed = this.upload(sd);
  }

  /** A module with PyTorch's weights; embedDim and bias are read from the dict. */
  static fromStateDict(sd: StateDict): SelfAttention {
    const w = (sd as StateDict | undefined)?.['W_q.weight'];
    if (typeof sd !== 'object' || sd === null || !w) {
      throw new AttentionError('BAD_ARGUMENT', "state dict must be an object with 'W_q.weight', 'W_k.weight', 'W_v.weight' (and their biases)");
    }
    checkTensor("state dict 'W_q.weight'", w, 2);
    return new SelfAttention(w.shape[0], { weights: sd });
  }

  /** `x [batch, n, E]` or `[n, E]` → `{ output (shape of x), weights [batch, n, n] or [n, n] }`. */
  forward(x: Tensor, options?: SelfAttentionForwardOptions): AttentionResult {
    const packedW = this.packed;
    if (packedW === undefined) throw new AttentionError('DISPOSED', 'SelfAttention.forward: this module was disposed');
    checkTensor('x', x, 2);
    const E = this.embedDim;
    const rank = x.shape.length;
    if (rank > 3 || x.shape[rank - 1] !== E) {
      throw new AttentionError('SHAPE_MISMATCH', `x must be [batch, n, ${E}] or [n, ${E}], got ${formatShape(x.shape)}`);
    }
    const opts = optionsObject('options', options);
    const causal = optBoolean('options.causal', opts.causal, false);
    const returnWeights = optBoolean('options.returnWeights', opts.returnWeights, true);
    const batch = rank === 3 ? [x.shape[0]] : [];
    const B = rank === 3 ? x.shape[0] : 1;
    const n = x.shape[rank - 2];
    const mask = opts.mask === undefined ? undefined : maskLayout('options.mask', opts.mask, batch, n, n);
    const rows = B * n;
    const { kernels: kern, heap } = this.engine;
    const wSize = returnWeights ? B * n * n : 0;
    const scratchFloats = Math.max(kern.f32_gemm_packed_a_floats(rows, E), attentionScratchFloats(this.engine, n, n, E, E, returnWeights));
    const bytes = [rows * E * 4, rows * 3 * E * 4, rows * E * 4, wSize * 4, maskBlockBytes(mask?.tensor.data), scratchFloats * 4];
    return heap.scoped(bytes, ([px, pqkv, po, pw, pm, scratch]) => {
      heap.writeF32(px, x.data);
      if (mask) writeMask(this.engine, pm, mask);
      // [Q | K | V] = x·[W_q; W_k; W_v]ᵀ + b, one row of 3E per token.
      kern.f32_gemm_prepacked(1, rows, 3 * E, E, px, E, 0, packedW, pqkv, 3 * E, 0, 1, scratch);
      const qkv = (col: number) => ({ ptr: pqkv + col * 4, ld: 3 * E, strides: leadStrides(batch, batch, n * 3 * E) });
      runAttention(this.engine, {
        batch, lq: n, lk: n, dk: E, dv: E,
        q: qkv(0), k: qkv(E), v: qkv(2 * E),
        o: { ptr: po, ld: E, strides: leadStrides(batch, batch, n * E) },
        weights: returnWeights ? { ptr: pw, strides: leadStrides(batch, batch, n * n) } : undefined,
        masks: mask ? [{ layout: mask, ptr: pm, strides: leadStrides(batch, mask.lead, mask.matrixSize) }] : [],
        scale: 1 / Math.sqrt(E), causal, scratch,
      });
      const output = { data: heap.readF32(po, rows * E), shape: [...x.shape] };
      return returnWeights ? { output, weights: { data: heap.readF32(pw, wSize), shape: [...batch, n, n] } } : { output };
    });
  }

  /** Frees the resident weights; later calls throw DISPOSED. Safe to call twice. */
  dispose(): void {
    if (this.packed !== undefined) this.engine.heap.release(this.packed);
    this.packed = undefined;
  }

  private upload(sd: StateDict): number {
    const E = this.embedDim;
    const { kernels: kern, heap } = this.engine;
    const packed = heap.alloc(kern.f32_gemm_packed_floats(3 * E, E) * 4);
    try {
      heap.scoped([3 * E * E * 4, 3 * E * 4], ([pw, pb]) => {
        PROJECTIONS.forEach((p, i) => {
          heap.writeF32(pw + i * E * E * 4, sd[`${p}.weight`].data);
          if (this.bias) heap.writeF32(pb + i * E * 4, sd[`${p}.bias`].data);
        });
        kern.f32_gemm_pack(3 * E, E, pw, E, true, this.bias ? pb : 0, packed);
      });
    } catch (e) {
      heap.release(packed);
      throw e;
    }
    return packed;
  }
}

/** Checks a SelfAttention state dict (PyTorch strict loading); returns whether it has biases. */
function checkStateDict(sd: StateDict, E: number, biasOption: boolean | undefined): boolean {
  if (typeof sd !== 'object' || sd === null) throw new AttentionError('BAD_ARGUMENT', `options.weights must be a state dict object, got ${String(sd)}`);
  const hasBias = 'W_q.bias' in sd;
  if (biasOption !== undefined && biasOption !== hasBias) {
    throw new AttentionError('BAD_ARGUMENT', `options.bias is ${biasOption} but the state dict ${hasBias ? 'has' : 'has no'} 'W_q.bias'`);
  }
  const expected = PROJECTIONS.flatMap((p) => (hasBias ? [`${p}.weight`, `${p}.bias`] : [`${p}.weight`]));
  for (const key of Object.keys(sd)) {
    if (!expected.includes(key)) throw new AttentionError('BAD_ARGUMENT', `unexpected key '${key}' in state dict; expected ${expected.join(', ')}`);
  }
  for (const key of expected) {
    const t = sd[key];
    if (t === undefined) throw new AttentionError('BAD_ARGUMENT', `state dict is missing '${key}'`);
    checkTensor(`state dict '${key}'`, t);
    const want = key.endsWith('.weight') ? [E, E] : [E];
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new AttentionError('SHAPE_MISMATCH', `state dict '${key}' must be ${formatShape(want)}, got ${formatShape(t.shape)}`);
    }
  }
  return hasBias;
}
