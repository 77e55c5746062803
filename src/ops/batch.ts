// Leading (batch) dimensions: broadcasting them, and mapping each batch item to each operand's offset.
import { shapeMismatch } from '../runtime/errors.js';
import { formatShape } from '../runtime/snapshot.js';

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
        throw shapeMismatch(`batch dimensions do not broadcast: ${parts}`);
      }
      out[d] = dim;
    }
  }
  return out;
}

/**
 * Element strides over the `batch` dims for an operand whose own leading dims `lead` (right-aligned) broadcast
 * to them and whose matrices hold `matrixSize` elements: 0 where the operand broadcasts.
 */
export function leadStrides(batch: readonly number[], lead: readonly number[], matrixSize: number): number[] {
  const strides = new Array<number>(batch.length).fill(0);
  let s = matrixSize;
  for (let d = batch.length - 1, l = lead.length - 1; d >= 0; d--, l--) {
    const dim = l >= 0 ? lead[l] : 1;
    strides[d] = dim === 1 ? 0 : s;
    s *= dim;
  }
  return strides;
}

/** Whether batch dims [start, end) give every operand an offset of (flat index)·(one stride); returns those strides. */
function collapse(
  batch: readonly number[],
  strides: readonly (readonly number[])[],
  start: number,
): number[] | undefined {
  const out: number[] = [];
  for (const st of strides) {
    let unit: number | undefined;
    let span = 1;
    for (let d = batch.length - 1; d >= start; d--) {
      if (batch[d] === 1) continue;
      if (unit === undefined) unit = st[d];
      else if (st[d] !== unit * span) return undefined;
      span *= batch[d];
    }
    out.push(unit ?? 0);
  }
  return out;
}

/**
 * Runs a kernel over the batch dims. The longest run of trailing dims over which every operand advances by one
 * stride goes to the kernel as a single batch (`count` items, `strides` per operand); JS loops over the
 * leading dims that remain, passing each operand's element offset.
 */
export function forEachBatchRun(
  batch: readonly number[],
  strides: readonly (readonly number[])[],
  run: (offsets: number[], strides: number[], count: number) => void,
): void {
  if (batch.some((d) => d === 0)) return;
  let start = batch.length;
  let inner = strides.map(() => 0);
  for (let p = batch.length; p >= 0; p--) {
    const c = collapse(batch, strides, p);
    if (!c) break;
    start = p;
    inner = c;
  }
  const count = batch.slice(start).reduce((a, b) => a * b, 1);
  const outer = batch.slice(0, start);
  const idx = new Array<number>(outer.length).fill(0);
  const total = outer.reduce((a, b) => a * b, 1);
  for (let t = 0; t < total; t++) {
    run(
      strides.map((st) => idx.reduce((acc, i, d) => acc + i * st[d], 0)),
      inner,
      count,
    );
    for (let d = outer.length - 1; d >= 0 && ++idx[d] === outer[d]; d--) idx[d] = 0;
  }
}
