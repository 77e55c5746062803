// The functional API: read the arguments once → validate → allocate → copy in → kernel → copy out → release.
import { attentionScratchFloats, hintWithoutWeights, maskBlockBytes, runAttention } from './attention.js';
import { broadcastShapes, forEachBatchRun, leadStrides } from './batch.js';
import type { Engine, Runtime } from '../runtime/engine.js';
import { shapeMismatch } from '../runtime/errors.js';
import { MaskKind } from '../runtime/kernels.js';
import { maskLayout } from './mask.js';
import { Options } from './options.js';
import { formatShape, readTensor, shapeSize, type Snapshot } from '../runtime/snapshot.js';
import type { BoolTensor, Tensor } from './tensor.js';

/** Options every op takes: the engine to run on (default: the one init() loaded). */
export interface EngineOption {
  engine?: Engine;
}

export interface MatmulOptions extends EngineOption {
  /** b is `[..., n, k]` and is used transposed. */
  transposeB?: boolean;
}

/** An empty result: no kernel runs and no memory is taken for zero elements. */
const empty = (shape: number[]): Tensor => ({ data: new Float32Array(0), shape });

/** `[..., m, k] × [..., k, n]` (or b as `[..., n, k]` with transposeB); leading dims broadcast. */
export function matmul(a: Tensor, b: Tensor, options?: MatmulOptions): Tensor {
  const sa = readTensor('a', a, 2);
  const sb = readTensor('b', b, 2);
  const opts = new Options(options, ['transposeB', 'engine']);
  const transposeB = opts.boolean('transposeB', false);
  const rt = opts.engine();
  const [m, k] = sa.shape.slice(-2);
  const [b0, b1] = sb.shape.slice(-2);
  const [kb, n] = transposeB ? [b1, b0] : [b0, b1];
  if (kb !== k) {
    const which = transposeB ? 'b.shape[-1] (k, with transposeB)' : 'b.shape[-2] (k)';
    throw shapeMismatch(`${which} is ${kb} but a.shape[-1] is ${k}`);
  }
  const aLead = sa.shape.slice(0, -2);
  const bLead = sb.shape.slice(0, -2);
  const batch = broadcastShapes(['a', 'b'], [aLead, bLead]);
  return gemm(rt, sa, sb, undefined, transposeB, batch, aLead, bLead, m, n, k, [...batch, m, n]);
}

/** PyTorch nn.Linear: `x [..., in]`, `weight [out, in]`, `bias [out]` → `x·weightᵀ + bias`. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor, options?: EngineOption): Tensor {
  const sx = readTensor('x', x, 1);
  const sw = readTensor('weight', weight, 2);
  const sbias = bias === undefined ? undefined : readTensor('bias', bias, 1);
  const rt = new Options(options, ['engine']).engine();
  if (sw.shape.length !== 2) throw shapeMismatch(`weight must be [out, in], got ${formatShape(sw.shape)}`);
  const [out, inF] = sw.shape;
  const xin = sx.shape[sx.shape.length - 1];
  if (xin !== inF) throw shapeMismatch(`x.shape[-1] is ${xin} but weight.shape[1] (in_features) is ${inF}`);
  if (sbias && (sbias.shape.length !== 1 || sbias.shape[0] !== out)) {
    throw shapeMismatch(`bias must be [${out}] (weight.shape[0]), got ${formatShape(sbias.shape)}`);
  }
  const lead = sx.shape.slice(0, -1);
  return gemm(rt, sx, sw, sbias, true, [], [], [], shapeSize(lead), out, inF, [...lead, out]);
}

/** C = A·op(B) + bias over the batch dims, for matmul and linear; operands as read at the entry. */
function gemm(
  rt: Runtime,
  a: Snapshot,
  b: Snapshot,
  bias: Snapshot | undefined,
  transposeB: boolean,
  batch: number[],
  aLead: readonly number[],
  bLead: readonly number[],
  m: number,
  n: number,
  k: number,
  outShape: number[],
): Tensor {
  const outSize = shapeSize(outShape);
  if (outSize === 0) return empty(outShape);
  const { kernels: kern, heap } = rt;
  return heap.scoped(
    [a.size * 4, b.size * 4, n * 4, outSize * 4, kern.f32_gemm_scratch_floats(m, n, k) * 4],
    ([pa, pb, pbias, pc, scratch]) => {
      heap.write(pa, a);
      heap.write(pb, b);
      if (bias) heap.write(pbias, bias);
      const strides = [
        leadStrides(batch, aLead, m * k),
        leadStrides(batch, bLead, k * n),
        leadStrides(batch, batch, m * n),
      ];
      forEachBatchRun(batch, strides, ([oa, ob, oc], [sta, stb, stc], count) => {
        kern.f32_gemm(
          count,
          m,
          n,
          k,
          pa + oa * 4,
          k,
          sta,
          pb + ob * 4,
          transposeB ? k : n,
          stb,
          transposeB,
          pc + oc * 4,
          n,
          stc,
          1,
          bias ? pbias : 0,
          scratch,
        );
      });
      return { data: heap.readF32(pc, outSize), shape: outShape };
    },
  );
}

/** Softmax over the last axis, numerically stable; a row of all -Infinity gives 0. */
export function softmax(x: Tensor, options?: EngineOption): Tensor {
  const sx = readTensor('x', x, 1);
  const rt = new Options(options, ['engine']).engine();
  const n = sx.shape[sx.shape.length - 1];
  if (sx.size === 0) return empty([...sx.shape]);
  const heap = rt.heap;
  return heap.scoped([sx.size * 4], ([px]) => {
    heap.write(px, sx);
    rt.kernels.f32_softmax_rows(sx.size / n, n, px, n, px, n, 1, MaskKind.none, 0, 0, 0, n);
    return { data: heap.readF32(px, sx.size), shape: [...sx.shape] };
  });
}

export interface AttentionOptions extends EngineOption {
  /** Multiplies the scores; default 1/√dk (1 when dk is 0, where every score is 0). */
  scale?: number;
  /** Float32 data is added to the scores; Uint8Array data keeps a key where 1. Broadcast to `[..., Lq, Lk]`. */
  mask?: Tensor | BoolTensor;
  /** Hide key j from query i when j > i + (Lk − Lq). */
  causal?: boolean;
  /** Also return the attention weights `[..., Lq, Lk]`. */
  returnWeights?: boolean;
}

export interface AttentionResult {
  output: Tensor;
  weights?: Tensor;
}

/** An AttentionResult whose weights were asked for. */
export type AttentionResultWithWeights = Required<AttentionResult>;

/** `softmax(q·kᵀ·scale + mask)·v` for `q [..., Lq, dk]`, `k [..., Lk, dk]`, `v [..., Lk, dv]`. */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions & { returnWeights: true },
): AttentionResultWithWeights;
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options?: AttentionOptions): AttentionResult;
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options?: AttentionOptions,
): AttentionResult {
  const sq = readTensor('q', q, 2);
  const sk = k === q ? sq : readTensor('k', k, 2);
  const sv = v === q ? sq : v === k ? sk : readTensor('v', v, 2);
  const opts = new Options(options, ['scale', 'mask', 'causal', 'returnWeights', 'engine']);
  const causal = opts.boolean('causal', false);
  const returnWeights = opts.boolean('returnWeights', false);
  const rawMask = opts.mask('mask');
  const rt = opts.engine();
  const [lq, dk] = sq.shape.slice(-2);
  const [lk, dkK] = sk.shape.slice(-2);
  const [lkV, dv] = sv.shape.slice(-2);
  if (dkK !== dk) throw shapeMismatch(`k.shape[-1] (dk) is ${dkK} but q.shape[-1] is ${dk}`);
  if (lkV !== lk) throw shapeMismatch(`v.shape[-2] (Lk) is ${lkV} but k.shape[-2] is ${lk}`);
  const scale = opts.float32('scale', dk === 0 ? 1 : 1 / Math.sqrt(dk));
  const qLead = sq.shape.slice(0, -2);
  const kLead = sk.shape.slice(0, -2);
  const vLead = sv.shape.slice(0, -2);
  const batch = broadcastShapes(['q', 'k', 'v'], [qLead, kLead, vLead]);
  const mask = rawMask && maskLayout(rawMask, batch, lq, lk);
  const count = shapeSize(batch);
  const outShape = [...batch, lq, dv];
  const wShape = [...batch, lq, lk];
  const outSize = count * lq * dv;
  const wSize = returnWeights ? count * lq * lk : 0;
  if (outSize === 0 && wSize === 0)
    return returnWeights ? { output: empty(outShape), weights: empty(wShape) } : { output: empty(outShape) };
  const heap = rt.heap;
  const bytesFor = (weights: boolean) => [
    sq.size * 4,
    sk.size * 4,
    sv.size * 4,
    outSize * 4,
    weights ? wSize * 4 : 0,
    maskBlockBytes(mask),
    attentionScratchFloats(rt, lq, lk, dk, dv, weights) * 4,
  ];
  return hintWithoutWeights(rt, 'options.returnWeights', returnWeights ? () => bytesFor(false) : undefined, () =>
    heap.scoped(bytesFor(returnWeights), ([pq, pk, pv, po, pw, pm, scratch]) => {
      heap.write(pq, sq);
      heap.write(pk, sk);
      heap.write(pv, sv);
      if (mask) heap.write(pm, mask.tensor);
      runAttention(rt, {
        batch,
        lq,
        lk,
        dk,
        dv,
        q: { ptr: pq, ld: dk, strides: leadStrides(batch, qLead, lq * dk) },
        k: { ptr: pk, ld: dk, strides: leadStrides(batch, kLead, lk * dk) },
        v: { ptr: pv, ld: dv, strides: leadStrides(batch, vLead, lk * dv) },
        o: { ptr: po, ld: dv, strides: leadStrides(batch, batch, lq * dv) },
        weights: returnWeights ? { ptr: pw, strides: leadStrides(batch, batch, lq * lk) } : undefined,
        masks: mask ? [{ layout: mask, ptr: pm, strides: leadStrides(batch, mask.lead, mask.matrixSize) }] : [],
        scale,
        causal,
        scratch,
      });
      const output = { data: heap.readF32(po, outSize), shape: outShape };
      return returnWeights ? { output, weights: { data: heap.readF32(pw, wSize), shape: wShape } } : { output };
    }),
  );
}
