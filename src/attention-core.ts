// The engine room shared by SelfAttention and MultiHeadAttention: resident projection weights, the Q/K/V
// projections, the attention pass over heads (grouped-query included), the output projection, KV caches.
import { attentionScratchFloats, hintWithoutWeights, maskBlockBytes, type MaskOperand, runAttention, writeMask } from './attention.js';
import type { Engine } from './engine.js';
import { badArgument, shapeMismatch } from './errors.js';
import { KVCache } from './kv-cache.js';
import { Resident } from './lifetime.js';
import type { MaskLayout } from './mask.js';
import { Options } from './options.js';
import type { AttentionResult } from './ops.js';
import { checkTensor, formatShape, type Tensor } from './tensor.js';

export interface CoreDims {
  /** Width of the query input and of the output. */
  readonly embedDim: number;
  readonly numHeads: number;
  readonly numKVHeads: number;
  readonly headDim: number;
  /** Widths of the key and value inputs. */
  readonly kdim: number;
  readonly vdim: number;
  /** Whether an output projection follows the heads (nn.MultiheadAttention) or not (the seed's module). */
  readonly outProj: boolean;
  readonly scale: number;
}

/** nn.Linear weights ([out, in]) and optional biases of the projections. */
export interface CoreWeights {
  readonly wq: Float32Array;
  readonly bq?: Float32Array;
  readonly wk: Float32Array;
  readonly bk?: Float32Array;
  readonly wv: Float32Array;
  readonly bv?: Float32Array;
  readonly wo?: Float32Array;
  readonly bo?: Float32Array;
}

/** A mask for the scores [B, H, Lq, Lk]: its layout and its element strides over (batch, head). */
export interface CoreMask {
  readonly layout: MaskLayout;
  readonly strides: readonly [number, number];
}

export type WeightsMode = 'none' | 'average' | 'perHead';

export interface StepOptions {
  /** Return the new tokens' attention weights (default true). */
  needWeights?: boolean;
  /** Average them over heads (default true). */
  averageWeights?: boolean;
}

export const weightsMode = (need: boolean, average: boolean): WeightsMode => (!need ? 'none' : average ? 'average' : 'perHead');

export interface CoreResult {
  output: Tensor;
  weights?: Tensor;
}

/** Where a run's keys and values live: scratch rows, or a cache. */
interface KVSource {
  ptr: number;
  /** Rows between batch items. */
  batchRows: number;
  lk: number;
}

export class AttentionCore {
  readonly qDim: number;
  readonly kvDim: number;
  /** Byte pointers of each packed projection inside the resident block (valid until dispose). */
  readonly #at: { q: number; k: number; v: number; o: number };
  readonly #weights: Resident;

  constructor(
    readonly engine: Engine,
    readonly dims: CoreDims,
    weights: CoreWeights,
  ) {
    const { embedDim: E, numHeads: H, numKVHeads: Hkv, headDim: hd, kdim, vdim, outProj } = dims;
    this.qDim = H * hd;
    this.kvDim = Hkv * hd;
    const kern = engine.kernels;
    const sizes = [kern.f32_gemm_packed_floats(this.qDim, E), kern.f32_gemm_packed_floats(this.kvDim, kdim), kern.f32_gemm_packed_floats(this.kvDim, vdim), outProj ? kern.f32_gemm_packed_floats(E, this.qDim) : 0];
    // Panels of Q, K and V back to back: one GEMM over all of them projects [Q | K | V] when widths allow.
    const heap = engine.heap;
    const block = heap.alloc((sizes[0] + sizes[1] + sizes[2] + sizes[3]) * 4);
    this.#at = { q: block, k: block + sizes[0] * 4, v: block + (sizes[0] + sizes[1]) * 4, o: block + (sizes[0] + sizes[1] + sizes[2]) * 4 };
    try {
      const pack = (to: number, w: Float32Array, b: Float32Array | undefined, n: number, k: number) =>
        heap.scoped([w.length * 4, n * 4], ([pw, pb]) => {
          heap.writeF32(pw, w);
          if (b) heap.writeF32(pb, b);
          kern.f32_gemm_pack(n, k, pw, k, true, b ? pb : 0, to);
        });
      pack(this.#at.q, weights.wq, weights.bq, this.qDim, E);
      pack(this.#at.k, weights.wk, weights.bk, this.kvDim, kdim);
      pack(this.#at.v, weights.wv, weights.bv, this.kvDim, vdim);
      if (outProj) pack(this.#at.o, weights.wo!, weights.bo, E, this.qDim);
    } catch (e) {
      heap.release(block);
      throw e;
    }
    this.#weights = new Resident(heap, block, 'module');
  }

  dispose(): void {
    this.#weights.dispose();
  }

  /** Throws DISPOSED, naming the caller, once the weights are freed. */
  resident(what: string): void {
    this.#weights.ptr(what);
  }

  /**
   * Attention of query [B, Lq, E] over key [B, Lk, kdim] and value [B, Lk, vdim] (the same arrays for
   * self-attention), with masks and the causal limit. Shapes are checked by the caller.
   */
  forward(what: string, query: Tensor, key: Tensor, value: Tensor, B: number, masks: readonly CoreMask[], causal: boolean, mode: WeightsMode, weightsOption: string, outShape: number[], weightsLead: number[]): CoreResult {
    this.resident(what);
    const { embedDim: E, kdim, vdim } = this.dims;
    const { qDim, kvDim } = this;
    const Lq = query.shape[query.shape.length - 2];
    const Lk = key.shape[key.shape.length - 2];
    const selfAttention = key === query && value === query;
    // One GEMM for [Q | K | V] when the inputs are one and every width fills whole panels.
    const fused = selfAttention && qDim % 8 === 0 && kvDim % 8 === 0;
    const kern = this.engine.kernels;
    const heap = this.engine.heap;
    const qRows = B * Lq;
    const kRows = B * Lk;
    const ldq = fused ? qDim + 2 * kvDim : qDim;
    const projFloats = Math.max(kern.f32_gemm_packed_a_floats(qRows, E), kern.f32_gemm_packed_a_floats(kRows, Math.max(kdim, vdim)));
    const bytesFor = (m: WeightsMode) => [
      query.data.length * 4,
      key === query ? 0 : key.data.length * 4,
      value === key ? 0 : value.data.length * 4,
      fused ? qRows * ldq * 4 : qRows * qDim * 4,
      fused ? 0 : kRows * 2 * kvDim * 4,
      ...this.#scratchBytes(qRows, Lq, Lk, B, m, projFloats),
      ...masks.map((mk) => maskBlockBytes(mk.layout.tensor.data)),
    ];
    const hint = mode === 'none' ? undefined : () => bytesFor('none');
    return hintWithoutWeights(this.engine, weightsOption, hint, () => heap.scoped(bytesFor(mode), ([px, pk0, pv0, pq, pkv0, pattn, pout, pw, pavg, scratch, ...pm]) => {
      heap.writeF32(px, query.data);
      const pk = key === query ? px : pk0;
      if (key !== query) heap.writeF32(pk, key.data);
      const pv = value === key ? pk : pv0;
      if (value !== key) heap.writeF32(pv, value.data);
      masks.forEach((m, i) => writeMask(this.engine, pm[i], m.layout));
      let kv: KVSource;
      let ldkv: number;
      if (fused) {
        kern.f32_gemm_prepacked(1, qRows, qDim + 2 * kvDim, E, px, E, 0, this.#at.q, pq, ldq, 0, 1, scratch);
        kv = { ptr: pq + qDim * 4, batchRows: Lq, lk: Lk };
        ldkv = ldq;
      } else {
        kern.f32_gemm_prepacked(1, qRows, qDim, E, px, E, 0, this.#at.q, pq, qDim, 0, 1, scratch);
        this.#projectKV(pk, pv, kRows, 1, 0, pkv0, 2 * kvDim, 0, scratch);
        kv = { ptr: pkv0, batchRows: Lk, lk: Lk };
        ldkv = 2 * kvDim;
      }
      return this.#attend({ B, Lq, pq, ldq, kv, ldkv, masks: masks.map((m, i) => ({ ...m, ptr: pm[i] })), causal, mode, pattn, pout, pw, pavg, scratch, outShape, weightsLead });
    }));
  }

  /** Appends K and V of new tokens x [B, t, E] to a cache and attends from them to everything cached. */
  step(what: string, x: Tensor, B: number, t: number, cache: { ptr: number; length: number; maxLength: number }, mode: WeightsMode, weightsOption: string, outShape: number[], weightsLead: number[]): CoreResult {
    this.resident(what);
    const { embedDim: E } = this.dims;
    const { qDim, kvDim } = this;
    const kern = this.engine.kernels;
    const heap = this.engine.heap;
    const rows = B * t;
    const Lk = cache.length + t;
    const cacheRow = 2 * kvDim;
    const bytesFor = (m: WeightsMode) => [x.data.length * 4, rows * qDim * 4, ...this.#scratchBytes(rows, t, Lk, B, m, kern.f32_gemm_packed_a_floats(rows, E))];
    const hint = mode === 'none' ? undefined : () => bytesFor('none');
    return hintWithoutWeights(this.engine, weightsOption, hint, () => heap.scoped(bytesFor(mode), ([px, pq, pattn, pout, pw, pavg, scratch]) => {
      heap.writeF32(px, x.data);
      kern.f32_gemm_prepacked(1, rows, qDim, E, px, E, 0, this.#at.q, pq, qDim, 0, 1, scratch);
      // New keys and values go straight into the cache rows after the ones it holds.
      this.#projectKV(px, px, t, B, t * E, cache.ptr + cache.length * cacheRow * 4, cacheRow, cache.maxLength * cacheRow, scratch);
      return this.#attend({ B, Lq: t, pq, ldq: qDim, kv: { ptr: cache.ptr, batchRows: cache.maxLength, lk: Lk }, ldkv: cacheRow, masks: [], causal: true, mode, pattn, pout, pw, pavg, scratch, outShape, weightsLead });
    }));
  }

  /** Bytes of: attention output, final output, per-head weights, averaged weights, kernel scratch. */
  #scratchBytes(qRows: number, Lq: number, Lk: number, B: number, mode: WeightsMode, projFloats: number): number[] {
    const { numHeads: H, headDim: hd, embedDim: E, outProj } = this.dims;
    const withWeights = mode !== 'none';
    const attnScratch = attentionScratchFloats(this.engine, Lq, Lk, hd, hd, withWeights);
    return [
      qRows * this.qDim * 4,
      outProj ? qRows * E * 4 : 0,
      withWeights ? B * H * Lq * Lk * 4 : 0,
      mode === 'average' && H > 1 ? B * Lq * Lk * 4 : 0,
      Math.max(projFloats, attnScratch, outProj ? this.engine.kernels.f32_gemm_packed_a_floats(qRows, this.qDim) : 0) * 4,
    ];
  }

  /** K = key·W_kᵀ + b_k and V = value·W_vᵀ + b_v for `batch` items of `rows` rows, into columns 0 and kvDim of c. */
  #projectKV(pk: number, pv: number, rows: number, batch: number, strideIn: number, c: number, ldc: number, strideC: number, scratch: number): void {
    const { kdim, vdim } = this.dims;
    const kern = this.engine.kernels;
    if (pk === pv && kdim === vdim && this.kvDim % 8 === 0) {
      kern.f32_gemm_prepacked(batch, rows, 2 * this.kvDim, kdim, pk, kdim, strideIn, this.#at.k, c, ldc, strideC, 1, scratch);
    } else {
      kern.f32_gemm_prepacked(batch, rows, this.kvDim, kdim, pk, kdim, strideIn, this.#at.k, c, ldc, strideC, 1, scratch);
      kern.f32_gemm_prepacked(batch, rows, this.kvDim, vdim, pv, vdim, strideIn, this.#at.v, c + this.kvDim * 4, ldc, strideC, 1, scratch);
    }
  }

  /** The heads' attention, the output projection and the copies out. */
  #attend(a: {
    B: number; Lq: number; pq: number; ldq: number; kv: KVSource; ldkv: number;
    masks: Array<CoreMask & { ptr: number }>; causal: boolean; mode: WeightsMode;
    pattn: number; pout: number; pw: number; pavg: number; scratch: number;
    outShape: number[]; weightsLead: number[];
  }): CoreResult {
    const { numHeads: H, numKVHeads: Hkv, headDim: hd, embedDim: E, outProj, scale } = this.dims;
    const G = H / Hkv;
    const { B, Lq, kv } = a;
    const Lk = kv.lk;
    const kern = this.engine.kernels;
    const heap = this.engine.heap;
    const withWeights = a.mode !== 'none';
    // Batch dims (batch, kv head, query head within its group): query head h = kvHead·G + g uses kv head kvHead.
    const headStrides = (perBatch: number, perHead: number) => [perBatch, G * perHead, perHead];
    const masks: MaskOperand[] = a.masks.map((m) => ({ layout: m.layout, ptr: m.ptr, strides: [m.strides[0], G * m.strides[1], m.strides[1]] }));
    runAttention(this.engine, {
      batch: [B, Hkv, G],
      lq: Lq, lk: Lk, dk: hd, dv: hd,
      q: { ptr: a.pq, ld: a.ldq, strides: headStrides(Lq * a.ldq, hd) },
      k: { ptr: kv.ptr, ld: a.ldkv, strides: [kv.batchRows * a.ldkv, hd, 0] },
      v: { ptr: kv.ptr + this.kvDim * 4, ld: a.ldkv, strides: [kv.batchRows * a.ldkv, hd, 0] },
      o: { ptr: a.pattn, ld: this.qDim, strides: headStrides(Lq * this.qDim, hd) },
      weights: withWeights ? { ptr: a.pw, strides: headStrides(H * Lq * Lk, Lq * Lk) } : undefined,
      masks,
      scale, causal: a.causal, scratch: a.scratch,
    });
    const rows = B * Lq;
    if (outProj) kern.f32_gemm_prepacked(1, rows, E, this.qDim, a.pattn, this.qDim, 0, this.#at.o, a.pout, E, 0, 1, a.scratch);
    const output = { data: heap.readF32(outProj ? a.pout : a.pattn, rows * (outProj ? E : this.qDim)), shape: a.outShape };
    if (!withWeights) return { output };
    if (a.mode === 'perHead' || H === 1) {
      const shape = a.mode === 'perHead' ? [...a.weightsLead, H, Lq, Lk] : [...a.weightsLead, Lq, Lk];
      return { output, weights: { data: heap.readF32(a.pw, B * H * Lq * Lk), shape } };
    }
    kern.f32_mean_blocks(B, H, Lq * Lk, a.pw, a.pavg);
    return { output, weights: { data: heap.readF32(a.pavg, B * Lq * Lk), shape: [...a.weightsLead, Lq, Lk] } };
  }
}

/** forwardStep for either module: checks x and the cache, runs the core's step, advances the cache. */
export function stepThrough(owner: object, core: AttentionCore, what: string, E: number, x: Tensor, cache: KVCache, options?: StepOptions): AttentionResult {
  core.resident(what);
  if (!(cache instanceof KVCache)) throw badArgument(`${what}: cache must come from createCache, got ${typeof cache}`);
  checkTensor('x', x, 2);
  const rank = x.shape.length;
  const B = rank === 3 ? x.shape[0] : 1;
  if (rank > 3 || x.shape[rank - 1] !== E || B !== cache.batch) {
    throw shapeMismatch(`x must be [${cache.batch}, t, ${E}]${cache.batch === 1 ? ` or [t, ${E}]` : ''} for this cache, got ${formatShape(x.shape)}`);
  }
  const t = x.shape[rank - 2];
  const opts = new Options(options);
  const need = opts.boolean('needWeights', true);
  const average = opts.boolean('averageWeights', true);
  const ptr = cache.reserve(what, owner, t);
  const result = core.step(what, x, B, t, { ptr, length: cache.length, maxLength: cache.maxLength }, weightsMode(need, average), 'options.needWeights', [...x.shape], rank === 3 ? [B] : []);
  cache.advance(t);
  return result;
}

