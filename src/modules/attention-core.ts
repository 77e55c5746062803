// The engine room shared by SelfAttention and MultiHeadAttention: resident projection weights, the Q/K/V
// projections, the attention pass over heads (grouped-query included), the output projection, KV caches.
import { attentionScratchFloats, hintWithoutWeights, maskBlockBytes, runAttention } from '../ops/attention.js';
import type { Runtime } from '../runtime/engine.js';
import { badArgument, shapeMismatch } from '../runtime/errors.js';
import { appendToCache, type CacheView, isCache, type KVCache } from './kv-cache.js';
import { Resident } from './lifetime.js';
import type { MaskLayout } from '../ops/mask.js';
import { Options } from '../ops/options.js';
import type { AttentionResult } from '../ops/ops.js';
import { describe, formatShape, readTensor, type Snapshot } from '../runtime/snapshot.js';
import type { Tensor } from '../ops/tensor.js';

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

export const weightsMode = (need: boolean, average: boolean): WeightsMode =>
  !need ? 'none' : average ? 'average' : 'perHead';

export interface CoreResult {
  output: Tensor;
  weights?: Tensor;
}

export class AttentionCore {
  readonly qDim: number;
  readonly kvDim: number;
  /** Byte pointers of each packed projection inside the resident block (valid while it is in use). */
  readonly #at: { q: number; k: number; v: number; o: number };
  readonly #weights: Resident;

  /**
   * Takes the resident block first (OUT_OF_MEMORY before any weight exists), then packs what `weights()` gives:
   * a module too big for memory never generates its initial weights.
   */
  constructor(
    readonly rt: Runtime,
    readonly dims: CoreDims,
    weights: () => CoreWeights,
  ) {
    const { embedDim: E, numHeads: H, numKVHeads: Hkv, headDim: hd, kdim, vdim, outProj } = dims;
    this.qDim = H * hd;
    this.kvDim = Hkv * hd;
    const { kernels: kern, heap } = rt;
    // Panels of Q, K and V back to back (no gap): one GEMM over all of them projects [Q | K | V] when widths allow.
    const [q, k, v, o] = heap.allocMany(
      [
        [this.qDim, E],
        [this.kvDim, kdim],
        [this.kvDim, vdim],
        [outProj ? E : 0, this.qDim],
      ].map(([n, depth]) => kern.f32_gemm_packed_floats(n, depth) * 4),
      1,
    );
    this.#at = { q, k, v, o };
    try {
      const w = weights();
      const pack = (to: number, data: Float32Array, b: Float32Array | undefined, n: number, k: number) =>
        heap.scoped([n * k * 4, n * 4], ([pw, pb]) => {
          heap.write(pw, { data });
          if (b) heap.write(pb, { data: b });
          kern.f32_gemm_pack(n, k, pw, k, true, b ? pb : 0, to);
        });
      pack(this.#at.q, w.wq, w.bq, this.qDim, E);
      pack(this.#at.k, w.wk, w.bk, this.kvDim, kdim);
      pack(this.#at.v, w.wv, w.bv, this.kvDim, vdim);
      if (outProj) pack(this.#at.o, w.wo!, w.bo, E, this.qDim);
    } catch (e) {
      heap.release(q);
      throw e;
    }
    this.#weights = new Resident(heap, q, 'module');
  }

  /** Frees the resident weights (after a call in progress). */
  dispose(): void {
    this.#weights.dispose();
  }

  /** Throws DISPOSED, naming the caller, once the weights are freed. */
  check(what: string): void {
    this.#weights.check(what);
  }

  /**
   * Attention of query [B, Lq, E] over key [B, Lk, kdim] and value [B, Lk, vdim] (the same arrays for
   * self-attention), with masks and the causal limit. Shapes are checked by the caller.
   */
  forward(
    what: string,
    query: Snapshot,
    key: Snapshot,
    value: Snapshot,
    B: number,
    masks: readonly CoreMask[],
    causal: boolean,
    mode: WeightsMode,
    weightsOption: string,
    outShape: number[],
    weightsLead: number[],
  ): CoreResult {
    return this.#weights.use(what, () =>
      this.#run(query, key, value, B, masks, causal, mode, weightsOption, outShape, weightsLead),
    );
  }

  /** Appends K and V of new tokens x [B, t, E] to a cache and attends from them to everything cached. */
  step(
    what: string,
    x: Snapshot,
    B: number,
    t: number,
    cache: KVCache,
    owner: object,
    mode: WeightsMode,
    weightsOption: string,
    outShape: number[],
    weightsLead: number[],
  ): CoreResult {
    return this.#weights.use(what, () =>
      appendToCache(cache, what, owner, t, (view) =>
        this.#run(x, x, x, B, [], true, mode, weightsOption, outShape, weightsLead, view),
      ),
    );
  }

  /**
   * Projections, attention and output projection over query [B, Lq, E] and key [B, Lk, kdim], value
   * [B, Lk, vdim] (the same snapshot for self-attention); with a cache, the new keys and values go into its
   * rows after the ones it holds and attention reads them all from there.
   */
  #run(
    query: Snapshot,
    key: Snapshot,
    value: Snapshot,
    B: number,
    masks: readonly CoreMask[],
    causal: boolean,
    mode: WeightsMode,
    weightsOption: string,
    outShape: number[],
    weightsLead: number[],
    cache?: CacheView,
  ): CoreResult {
    const { embedDim: E, kdim, vdim, numHeads: H, numKVHeads: Hkv, headDim: hd, outProj, scale } = this.dims;
    const { qDim, kvDim } = this;
    const Lq = query.shape[query.shape.length - 2];
    const Lk = cache ? cache.length + Lq : key.shape[key.shape.length - 2];
    // One GEMM for [Q | K | V] when the inputs are one and every width fills whole panels.
    const fused = !cache && key === query && value === query && qDim % 8 === 0 && kvDim % 8 === 0;
    const { kernels: kern, heap } = this.rt;
    // With one query row per head (a decode step) and no mask, the attention pass takes a group's G query heads as
    // the G rows of one item, hd apart, which read their kv head's keys once; one row sees every key, so causal
    // hides none.
    const G = H / Hkv;
    const stacked = Lq === 1 && masks.length === 0;
    const qRows = B * Lq;
    // Rows of [K | V] projected by this call: every key's, or with a cache the new tokens' (then copied into it).
    const kRows = B * (cache ? Lq : Lk);
    const ldq = fused ? qDim + 2 * kvDim : qDim;
    const projFloats = Math.max(
      kern.f32_gemm_prepacked_scratch_floats(qRows, E),
      kern.f32_gemm_prepacked_scratch_floats(kRows, Math.max(kdim, vdim)),
    );
    const bytesFor = (m: WeightsMode) => [
      query.size * 4,
      key === query ? 0 : key.size * 4,
      value === key ? 0 : value.size * 4,
      qRows * ldq * 4,
      fused ? 0 : kRows * 2 * kvDim * 4,
      ...this.#scratchBytes(qRows, Lq, Lk, B, m, projFloats, stacked ? G : Lq),
      ...masks.map((mk) => maskBlockBytes(mk.layout)),
    ];
    const hint = mode === 'none' ? undefined : () => bytesFor('none');
    return hintWithoutWeights(this.rt, weightsOption, hint, () =>
      heap.scoped(bytesFor(mode), ([px, pk0, pv0, pq, pkv0, pattn, pout, pw, pavg, scratch, ...pm]) => {
        heap.write(px, query);
        const pk = key === query ? px : pk0;
        if (key !== query) heap.write(pk, key);
        const pv = value === key ? pk : pv0;
        if (value !== key) heap.write(pv, value);
        masks.forEach((m, i) => heap.write(pm[i], m.layout.tensor));
        kern.f32_gemm_prepacked(1, qRows, ldq, E, px, E, 0, this.#at.q, pq, ldq, 0, 1, scratch);
        const ldkv = fused ? ldq : 2 * kvDim;
        if (!fused) this.#projectKV(pk, pv, kRows, pkv0, scratch);
        // Where attention reads K: rows ld floats apart (strides per batch item and kv head), and V kvDim·M floats on.
        // Rows of [K | V] (M = 1), or the heads of a cache of M tokens once the new tokens' rows are in (see KVCache).
        const M = cache?.maxLength ?? 1;
        const kAt = cache?.ptr ?? (fused ? pq + qDim * 4 : pkv0);
        const ld = cache ? hd : ldkv;
        const kvStrides = [cache ? 2 * kvDim * M : (fused ? Lq : Lk) * ldkv, hd * M, 0];
        if (cache) kern.f32_append_rows(B, 2 * Hkv, Lq, hd, pkv0, kAt, M, cache.length);
        // Batch dims (batch, kv head, query head within its group): query head h = kvHead·G + g uses kv head kvHead
        // (stacked, the group is rows of one item: a dim of 1).
        const headStrides = (perBatch: number, perHead: number) => [perBatch, G * perHead, perHead];
        const withWeights = mode !== 'none';
        runAttention(this.rt, {
          batch: [B, Hkv, stacked ? 1 : G],
          lq: stacked ? G : Lq,
          lk: Lk,
          dk: hd,
          dv: hd,
          q: { ptr: pq, ld: stacked ? hd : ldq, strides: headStrides(Lq * ldq, hd) },
          k: { ptr: kAt, ld, strides: kvStrides },
          v: { ptr: kAt + kvDim * M * 4, ld, strides: kvStrides },
          o: { ptr: pattn, ld: stacked ? hd : qDim, strides: headStrides(Lq * qDim, hd) },
          weights: withWeights ? { ptr: pw, strides: headStrides(H * Lq * Lk, Lq * Lk) } : undefined,
          masks: masks.map((m, i) => ({
            layout: m.layout,
            ptr: pm[i],
            strides: [m.strides[0], G * m.strides[1], m.strides[1]],
          })),
          scale,
          causal: causal && !stacked,
          scratch,
        });
        if (outProj) kern.f32_gemm_prepacked(1, qRows, E, qDim, pattn, qDim, 0, this.#at.o, pout, E, 0, 1, scratch);
        const output = { data: heap.readF32(outProj ? pout : pattn, qRows * (outProj ? E : qDim)), shape: outShape };
        if (!withWeights) return { output };
        if (mode === 'perHead' || H === 1) {
          const shape = mode === 'perHead' ? [...weightsLead, H, Lq, Lk] : [...weightsLead, Lq, Lk];
          return { output, weights: { data: heap.readF32(pw, B * H * Lq * Lk), shape } };
        }
        kern.f32_mean_blocks(B, H, Lq * Lk, pw, pavg);
        return { output, weights: { data: heap.readF32(pavg, B * Lq * Lk), shape: [...weightsLead, Lq, Lk] } };
      }),
    );
  }

  /**
   * Bytes of: attention output, final output, per-head weights, averaged weights, kernel scratch (for attention
   * items of attnRows query rows).
   */
  #scratchBytes(
    qRows: number,
    Lq: number,
    Lk: number,
    B: number,
    mode: WeightsMode,
    projFloats: number,
    attnRows: number,
  ): number[] {
    const { numHeads: H, headDim: hd, embedDim: E, outProj } = this.dims;
    const withWeights = mode !== 'none';
    const attnScratch = attentionScratchFloats(this.rt, attnRows, Lk, hd, hd, withWeights);
    return [
      qRows * this.qDim * 4,
      outProj ? qRows * E * 4 : 0,
      withWeights ? B * H * Lq * Lk * 4 : 0,
      mode === 'average' && H > 1 ? B * Lq * Lk * 4 : 0,
      Math.max(
        projFloats,
        attnScratch,
        outProj ? this.rt.kernels.f32_gemm_prepacked_scratch_floats(qRows, this.qDim) : 0,
      ) * 4,
    ];
  }

  /** K = key·W_kᵀ + b_k and V = value·W_vᵀ + b_v for `rows` rows, into columns 0 and kvDim of c's rows of [K | V]. */
  #projectKV(pk: number, pv: number, rows: number, c: number, scratch: number): void {
    const { kdim, vdim } = this.dims;
    const kvDim = this.kvDim;
    const ldc = 2 * kvDim;
    const project = (n: number, depth: number, input: number, panels: number, out: number) =>
      this.rt.kernels.f32_gemm_prepacked(1, rows, n, depth, input, depth, 0, panels, out, ldc, 0, 1, scratch);
    // V's panels follow K's: one GEMM makes both when they read the same input.
    if (pk === pv && kdim === vdim && kvDim % 8 === 0) project(2 * kvDim, kdim, pk, this.#at.k, c);
    else {
      project(kvDim, kdim, pk, this.#at.k, c);
      project(kvDim, vdim, pv, this.#at.v, c + kvDim * 4);
    }
  }
}

/** A sequence read once: `[batch, L, E]` or `[L, E]` (batch 1); `lead` is [batch] or [] for the outputs. */
export function readSequence(
  name: string,
  v: unknown,
  E: number,
  L: string,
): { t: Snapshot; lead: number[]; B: number; L: number } {
  const t = readTensor(name, v, 2);
  const rank = t.shape.length;
  if (rank > 3 || t.shape[rank - 1] !== E)
    throw shapeMismatch(`${name} must be [batch, ${L}, ${E}] or [${L}, ${E}], got ${formatShape(t.shape)}`);
  const lead = rank === 3 ? [t.shape[0]] : [];
  return { t, lead, B: lead[0] ?? 1, L: t.shape[rank - 2] };
}

/** forwardStep for either module: reads x and the options once, checks the cache, runs the core's step. */
export function stepThrough(
  owner: object,
  core: AttentionCore,
  what: string,
  x: Tensor,
  cache: KVCache,
  options: unknown,
): AttentionResult {
  core.check(what);
  const x1 = readSequence('x', x, core.dims.embedDim, 't');
  const opts = new Options(options, ['needWeights', 'averageWeights']);
  const need = opts.boolean('needWeights', true);
  const average = opts.boolean('averageWeights', true);
  if (!isCache(cache)) throw badArgument(`${what}: cache must come from createCache, got ${describe(cache)}`);
  if (x1.B !== cache.batch) throw shapeMismatch(`x has batch ${x1.B} but the cache holds ${cache.batch}`);
  return core.step(
    what,
    x1.t,
    x1.B,
    x1.L,
    cache,
    owner,
    weightsMode(need, average),
    'options.needWeights',
    [...x1.t.shape],
    x1.lead,
  );
}
