// One attention pass over operands already in linear memory: bookkeeping around the attention kernels.
import { forEachBatchRun } from './batch.js';
import type { Runtime } from './engine.js';
import { AttentionError } from './errors.js';
import { MaskKind } from './kernels.js';
import type { MaskLayout } from './mask.js';

/** A matrix operand in linear memory: byte pointer, row stride, and element strides over the batch dims. */
export interface Operand {
  readonly ptr: number;
  readonly ld: number;
  readonly strides: readonly number[];
}

/** A mask in linear memory: its layout (kind, row and column strides) and element strides over the batch dims. */
export interface MaskOperand {
  readonly layout: MaskLayout;
  readonly ptr: number;
  readonly strides: readonly number[];
}

export interface AttentionPass {
  /** The batch dims the kernels run over (e.g. [B], [B, H], or [B, kvHeads, group] for grouped-query). */
  readonly batch: readonly number[];
  readonly lq: number;
  readonly lk: number;
  readonly dk: number;
  readonly dv: number;
  readonly q: Operand;
  readonly k: Operand;
  readonly v: Operand;
  readonly o: Operand;
  /** Where the weights go (row stride lk); without it the fused kernel runs and no weights exist. */
  readonly weights?: { readonly ptr: number; readonly strides: readonly number[] };
  /** Up to two masks, both added to the scaled scores. */
  readonly masks: readonly MaskOperand[];
  readonly scale: number;
  readonly causal: boolean;
  /** attentionScratchFloats of scratch. */
  readonly scratch: number;
}

/** Floats of scratch an attention pass needs (the kernels pack K, Q and, for the weights path, V there). */
export function attentionScratchFloats(rt: Runtime, lq: number, lk: number, dk: number, dv: number, withWeights: boolean): number {
  const kern = rt.kernels;
  return withWeights ? kern.f32_attention_weights_scratch_floats(lq, lk, dk, dv) : kern.f32_attention_fused_scratch_floats(lq, lk, dk);
}

/** Bytes to allocate for a mask: kernels read masks four elements at a time, up to 3 past the end. */
export const maskBlockBytes = (layout: MaskLayout | undefined): number => (layout ? layout.tensor.size * (layout.kind === MaskKind.add ? 4 : 1) + 16 : 0);

/**
 * Runs `body`, and when it fails with OUT_OF_MEMORY while weights were asked for, says whether the same call
 * without weights (scratch from `withoutWeights`, computed only then) would fit: that path never builds the
 * Lq × Lk matrix.
 */
export function hintWithoutWeights<T>(rt: Runtime, option: string, withoutWeights: (() => readonly number[]) | undefined, body: () => T): T {
  try {
    return body();
  } catch (e) {
    if (withoutWeights && e instanceof AttentionError && e.code === 'OUT_OF_MEMORY') {
      const { need, fits } = rt.heap.fit(withoutWeights());
      throw new AttentionError('OUT_OF_MEMORY', `${e.message}; without weights (${option}: false) the call needs ${need} bytes${fits ? ', which fits' : ', which does not fit'}`);
    }
    throw e;
  }
}

const NO_MASK = [MaskKind.none, 0, 0, 0, 0] as const;

export function runAttention(rt: Runtime, p: AttentionPass): void {
  const { lq, lk, dk, dv, q, k, v, o, weights } = p;
  const noStrides = p.batch.map(() => 0);
  const operands = [q.strides, k.strides, v.strides, o.strides, weights?.strides ?? noStrides, ...p.masks.map((m) => m.strides)];
  const kern = rt.kernels;
  forEachBatchRun(p.batch, operands, (offsets, strides, count) => {
    const [oq, ok, ov, oo, ow] = offsets;
    const [sq, sk, sv, so, sw] = strides;
    const maskArgs = (i: number) => {
      const m = p.masks[i];
      if (!m) return NO_MASK;
      const bytes = m.layout.kind === MaskKind.add ? 4 : 1;
      return [m.layout.kind, m.ptr + offsets[5 + i] * bytes, m.layout.ldr, m.layout.ldc, strides[5 + i]] as const;
    };
    const [m1, m2] = [maskArgs(0), maskArgs(1)];
    const common = [count, lq, lk, dk, dv, q.ptr + oq * 4, q.ld, sq, k.ptr + ok * 4, k.ld, sk, v.ptr + ov * 4, v.ld, sv, o.ptr + oo * 4, o.ld, so] as const;
    if (weights === undefined) {
      kern.f32_attention_fused(...common, p.scale, ...m1, ...m2, p.causal, p.scratch);
    } else {
      kern.f32_attention_weights(...common, weights.ptr + ow * 4, sw, p.scale, ...m1, ...m2, p.causal, p.scratch);
    }
  });
}
