// One attention pass over operands already in linear memory: bookkeeping around f32_attention_weights.
import { forEachBatchRun, planBatches } from './batch.js';
import type { Engine } from './engine.js';
import { MaskKind } from './kernels.js';
import type { MaskLayout } from './mask.js';

/** A matrix operand in linear memory: byte pointer, row stride, and its own leading dims and batch item size. */
export interface Operand {
  readonly ptr: number;
  readonly ld: number;
  readonly lead: readonly number[];
  readonly matrixSize: number;
}

export interface AttentionPass {
  readonly batch: readonly number[];
  readonly lq: number;
  readonly lk: number;
  readonly dk: number;
  readonly dv: number;
  readonly q: Operand;
  readonly k: Operand;
  readonly v: Operand;
  readonly o: Operand;
  /** Weights buffer (row stride lk); `keep` false means one lq × lk buffer reused across the batch. */
  readonly w: { readonly ptr: number; readonly keep: boolean };
  readonly mask?: { readonly layout: MaskLayout; readonly ptr: number };
  readonly scale: number;
  readonly causal: boolean;
  readonly packed: number;
}

/** Floats of packing scratch an attention pass needs. */
export function attentionPackedFloats(engine: Engine, lk: number, dk: number, dv: number): number {
  const kern = engine.kernels;
  return Math.max(kern.f32_gemm_packed_floats(lk, dk), kern.f32_gemm_packed_floats(dv, lk));
}

export function runAttention(engine: Engine, p: AttentionPass): void {
  const { lq, lk, dk, dv, q, k, v, o } = p;
  const mask = p.mask?.layout;
  const maskBytes = mask?.kind === MaskKind.add ? 4 : 1;
  const plan = planBatches(
    p.batch,
    [q.lead, k.lead, v.lead, o.lead, p.w.keep ? p.batch : [], mask?.lead ?? []],
    [q.matrixSize, k.matrixSize, v.matrixSize, o.matrixSize, lq * lk, mask?.matrixSize ?? 0],
  );
  forEachBatchRun(plan, ([oq, ok, ov, oo, ow, om], [sq, sk, sv, so, sw, sm], count) => {
    engine.kernels.f32_attention_weights(
      count, lq, lk, dk, dv,
      q.ptr + oq * 4, q.ld, sq,
      k.ptr + ok * 4, k.ld, sk,
      v.ptr + ov * 4, v.ld, sv,
      o.ptr + oo * 4, o.ld, so,
      p.w.ptr + ow * 4, sw,
      p.scale,
      mask?.kind ?? MaskKind.none, (p.mask?.ptr ?? 0) + om * maskBytes, mask?.ldr ?? 0, mask?.ldc ?? 0, sm,
      p.causal, p.packed,
    );
  });
}
