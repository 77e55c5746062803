// One attention pass over operands already in linear memory: bookkeeping around the attention kernels.
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
  /** Where the weights go ([...batch, lq, lk]); without it the fused kernel runs and no weights exist. */
  readonly weights?: number;
  readonly mask?: { readonly layout: MaskLayout; readonly ptr: number };
  readonly scale: number;
  readonly causal: boolean;
  /** attentionScratchFloats of scratch. */
  readonly scratch: number;
}

/** Floats of scratch an attention pass needs (the kernels pack K, Q and, for the weights path, V there). */
export function attentionScratchFloats(engine: Engine, lq: number, lk: number, dk: number, dv: number, withWeights: boolean): number {
  const kern = engine.kernels;
  return withWeights ? kern.f32_attention_weights_scratch_floats(lq, lk, dk, dv) : kern.f32_attention_fused_scratch_floats(lq, lk, dk);
}

/** Bytes to allocate for a mask: kernels read masks four elements at a time, up to 3 past the end. */
export const maskBlockBytes = (data: ArrayBufferView | undefined): number => (data ? data.byteLength + 16 : 0);

export function runAttention(engine: Engine, p: AttentionPass): void {
  const { lq, lk, dk, dv, q, k, v, o } = p;
  const mask = p.mask?.layout;
  const maskBytes = mask?.kind === MaskKind.add ? 4 : 1;
  const plan = planBatches(
    p.batch,
    [q.lead, k.lead, v.lead, o.lead, p.batch, mask?.lead ?? []],
    [q.matrixSize, k.matrixSize, v.matrixSize, o.matrixSize, lq * lk, mask?.matrixSize ?? 0],
  );
  const kern = engine.kernels;
  const weights = p.weights;
  forEachBatchRun(plan, ([oq, ok, ov, oo, ow, om], [sq, sk, sv, so, sw, sm], count) => {
    const maskKind = mask?.kind ?? MaskKind.none;
    const maskPtr = (p.mask?.ptr ?? 0) + om * maskBytes;
    const [ldr, ldc] = [mask?.ldr ?? 0, mask?.ldc ?? 0];
    const qp = q.ptr + oq * 4;
    const kp = k.ptr + ok * 4;
    const vp = v.ptr + ov * 4;
    const op = o.ptr + oo * 4;
    if (weights === undefined) {
      kern.f32_attention_fused(count, lq, lk, dk, dv, qp, q.ld, sq, kp, k.ld, sk, vp, v.ld, sv, op, o.ld, so, p.scale, maskKind, maskPtr, ldr, ldc, sm, p.causal, p.scratch);
    } else {
      kern.f32_attention_weights(count, lq, lk, dk, dv, qp, q.ld, sq, kp, k.ld, sk, vp, v.ld, sv, op, o.ld, so, weights + ow * 4, sw, p.scale, maskKind, maskPtr, ldr, ldc, sm, p.causal, p.scratch);
    }
  });
}
