// Leading (batch) dimensions: broadcasting them, and mapping each batch item to each operand's offset.
import { AttentionError } from './errors.js';
import { formatShape } from './tensor.js';

/** PyTorch broadcasting of leading dims (right-aligned; a 1 stretches). */
export function broadcastShapes(names: readonly string[], shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (let d = 0; d < rank; d++) {
    for (let i = 0; i < shapes.length; i++) {
      const s = shapes[i];
      const dim = s[s.length - rank + d] ?? 1;
      if (dim === 1) continue;
      if (out[d] !== 1 && out[d] !== dim) {
        const parts = shapes.map((sh, j) => `${names[j]} ${formatShape(sh)}`).join(', ');
        throw new AttentionError('SHAPE_MISMATCH', `batch dimensions do not broadcast: ${parts}`);
      }
      out[d] = dim;
    }
  }
  return out;
}

/** Per operand, the element offset of every batch item, and the stride when those offsets are evenly spaced. */
export interface BatchPlan {
  readonly count: number;
  readonly offsets: readonly (readonly number[])[];
  readonly strides: readonly (number | undefined)[];
}

/**
 * Plans `batch` (the broadcast leading dims) over operands whose own leading dims are `leads` (each
 * broadcastable to batch) and whose matrices hold `matrixSizes` elements.
 */
export function planBatches(batch: readonly number[], leads: readonly (readonly number[])[], matrixSizes: readonly number[]): BatchPlan {
  const count = batch.reduce((a, b) => a * b, 1);
  const offsets = leads.map((lead, o) => {
    // Stride of each batch dim in this operand, 0 where it broadcasts.
    const strides = new Array<number>(batch.length).fill(0);
    let s = matrixSizes[o];
    for (let d = batch.length - 1, l = lead.length - 1; d >= 0; d--, l--) {
      const dim = l >= 0 ? lead[l] : 1;
      strides[d] = dim === 1 ? 0 : s;
      s *= dim;
    }
    const out = new Array<number>(count);
    const idx = new Array<number>(batch.length).fill(0);
    for (let i = 0; i < count; i++) {
      let off = 0;
      for (let d = 0; d < batch.length; d++) off += idx[d] * strides[d];
      out[i] = off;
      for (let d = batch.length - 1; d >= 0 && ++idx[d] === batch[d]; d--) idx[d] = 0;
    }
    return out;
  });
  const strides = offsets.map((offs) => {
    const step = offs.length > 1 ? offs[1] - offs[0] : 0;
    return offs.every((v, i) => v === offs[0] + i * step) ? step : undefined;
  });
  return { count, offsets, strides };
}

/**
 * Calls `run` once for the whole batch when every operand's offsets are evenly spaced, else once per item
 * (with strides 0). `run` gets each operand's first offset, each operand's stride, and the item count.
 */
export function forEachBatchRun(plan: BatchPlan, run: (offsets: number[], strides: number[], count: number) => void): void {
  if (plan.count === 0) return;
  if (plan.strides.every((s) => s !== undefined)) {
    run(plan.offsets.map((o) => o[0]), plan.strides as number[], plan.count);
    return;
  }
  const zeros = plan.offsets.map(() => 0);
  for (let i = 0; i < plan.count; i++) run(plan.offsets.map((o) => o[i]), zeros, 1);
}
