// One attention pass over operands already in linear memory: bookkeeping around the attention kernels.
import { forEachBatchRun } from './batch.js';
import type { Runtime } from '../runtime/engine.js';
import { AttentionError, outOfMemory } from '../runtime/errors.js';
import { DESC_FIELDS, MaskKind } from '../runtime/kernels.js';
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

/**
 * Floats of scratch an attention pass of lq query rows needs, cut into units of unitRows: the descriptor, then the
 * kernel's (packed K and Q, score blocks; the fused kernel runs consecutive units together, hence lq).
 */
export function attentionScratchFloats(
  rt: Runtime,
  unitRows: number,
  lk: number,
  dk: number,
  dv: number,
  withWeights: boolean,
  lq = unitRows,
): number {
  const kern = rt.kernels;
  const rows = Math.max(unitRows, 1);
  return (
    DESC_FIELDS +
    (withWeights
      ? kern.f32_attention_weights_scratch_floats(rows, lk, dk, dv)
      : kern.f32_attention_fused_scratch_floats(rows, lk, dk, lq))
  );
}

/** Bytes per element of a mask in linear memory: floats are added, bytes keep or hide. */
const elementBytes = (layout: MaskLayout): number => (layout.kind === MaskKind.add ? 4 : 1);

/** Bytes to allocate for a mask: kernels read masks four elements at a time, up to 3 past the end. */
export const maskBlockBytes = (layout: MaskLayout | undefined): number =>
  layout ? layout.tensor.size * elementBytes(layout) + 16 : 0;

/**
 * Runs `body`, and when it fails with OUT_OF_MEMORY while weights were asked for, says whether the same call
 * without weights (scratch from `withoutWeights`, computed only then) would fit: that path never builds the
 * Lq × Lk matrix.
 */
export function hintWithoutWeights<T>(
  rt: Runtime,
  option: string,
  withoutWeights: (() => readonly number[]) | undefined,
  body: () => T,
): T {
  try {
    return body();
  } catch (e) {
    if (withoutWeights && e instanceof AttentionError && e.code === 'OUT_OF_MEMORY') {
      const { need, fits } = rt.heap.fit(withoutWeights());
      throw outOfMemory(
        `${e.message}; without weights (${option}: false) the call needs ${need} bytes, which ${fits ? 'fits' : 'does not fit'}`,
      );
    }
    throw e;
  }
}

const NO_MASK = [MaskKind.none, 0, 0, 0, 0] as const;

/**
 * The descriptor each run is written into, in turn: a typed array of its own per run cost an allocation outside V8's
 * heap, a few µs here (a tenth of a seed-sized call), and each run's is copied into linear memory before the next.
 */
export const DESC = new Float32Array(DESC_FIELDS);
const DESC_BITS = new Int32Array(DESC.buffer);

/**
 * Each run of a pass as the kernels' AttentionDesc (its fields' bits: i32 and pointers, scale as a float) in DESC, and
 * the number of work units of `rows` query rows (a multiple of MR, or the whole of Lq) it has.
 */
export function attentionRuns(p: AttentionPass, rows: number, body: (units: number) => void): void {
  const { lq, lk, dk, dv, q, k, v, o, weights } = p;
  const noStrides = p.batch.map(() => 0);
  const operands = [
    q.strides,
    k.strides,
    v.strides,
    o.strides,
    weights?.strides ?? noStrides,
    ...p.masks.map((m) => m.strides),
  ];
  forEachBatchRun(p.batch, operands, (offsets, strides, count) => {
    const [oq, ok, ov, oo, ow] = offsets;
    const [sq, sk, sv, so, sw] = strides;
    const maskFields = (i: number) => {
      const m = p.masks[i];
      if (!m) return NO_MASK;
      const { layout } = m;
      return [
        layout.kind,
        m.ptr + offsets[5 + i] * elementBytes(layout),
        layout.ldr,
        layout.ldc,
        strides[5 + i],
      ] as const;
    };
    DESC_BITS.set([
      count,
      lq,
      lk,
      dk,
      dv,
      rows,
      q.ptr + oq * 4,
      q.ld,
      sq,
      k.ptr + ok * 4,
      k.ld,
      sk,
      v.ptr + ov * 4,
      v.ld,
      sv,
      o.ptr + oo * 4,
      o.ld,
      so,
      weights ? weights.ptr + ow * 4 : 0,
      sw,
      0,
      ...maskFields(0),
      ...maskFields(1),
      p.causal ? 1 : 0,
    ]);
    DESC[20] = p.scale;
    body(count * Math.ceil(lq / rows));
  });
}

/**
 * Runs a pass: each run's descriptor at the start of p.scratch, the kernel's scratch after it, one unit per item
 * (an engine with threads re-cuts the units and shares them: see src/runtime/threads/worker-pool.ts).
 */
export function runAttention(rt: Runtime, p: AttentionPass): void {
  const kernel = p.weights ? rt.kernels.f32_attention_weights : rt.kernels.f32_attention_fused;
  attentionRuns(p, Math.max(p.lq, 1), (units) => {
    rt.heap.write(p.scratch, { data: DESC });
    kernel(p.scratch, 0, units, p.scratch + DESC_FIELDS * 4);
  });
}
