// The functional API: validate → allocate → copy in → kernel → copy out → release.
import { attentionScratchFloats, hintWithoutWeights, maskBlockBytes, runAttention, writeMask } from './attention.js';
import { broadcastShapes, forEachBatchRun, leadStrides } from './batch.js';
import { getEngine } from './engine.js';
import { shapeMismatch } from './errors.js';
import { MaskKind } from './kernels.js';
import { maskLayout } from './mask.js';
import { Options } from './options.js';
import { type BoolTensor, checkTensor, formatShape, shapeSize, type Tensor } from './tensor.js';

export interface MatmulOptions {
  /** b is `[..., n, k]` and is used transposed. */
  transposeB?: boolean;
}

/** `[..., m, k] × [..., k, n]` (or b as `[..., n, k]` with transposeB); leading dims broadcast. */
export function matmul(a: Tensor, b: Tensor, options?: MatmulOptions): Tensor {
  const engine = getEngine();
  checkTensor('a', a, 2);
  checkTensor('b', b, 2);
  const transposeB = new Options(options).boolean('transposeB', false);
  const [m, k] = a.shape.slice(-2);
  const [b0, b1] = b.shape.slice(-2);
  const [kb, n] = transposeB ? [b1, b0] : [b0, b1];
  if (kb !== k) {
    const which = transposeB ? 'b.shape[-1] (k, with transposeB)' : 'b.shape[-2] (k)';
    throw shapeMismatch(`${which} is ${kb} but a.shape[-1] is ${k} (a ${formatShape(a.shape)}, b ${formatShape(b.shape)})`);
  }
  const aLead = a.shape.slice(0, -2);
  const bLead = b.shape.slice(0, -2);
  const batch = broadcastShapes(['a', 'b'], [aLead, bLead]);
  const outShape = [...batch, m, n];
  const kern = engine.kernels;
  const heap = engine.heap;
  return heap.scoped([a.data.length * 4, b.data.length * 4, shapeSize(outShape) * 4, kern.f32_gemm_scratch_floats(m, n, k) * 4], ([pa, pb, pc, scratch]) => {
    heap.writeF32(pa, a.data);
    heap.writeF32(pb, b.data);
    const strides = [leadStrides(batch, aLead, m * k), leadStrides(batch, bLead, k * n), leadStrides(batch, batch, m * n)];
    forEachBatchRun(batch, strides, ([oa, ob, oc], [sa, sb, sc], count) => {
      kern.f32_gemm(count, m, n, k, pa + oa * 4, k, sa, pb + ob * 4, transposeB ? k : n, sb, transposeB, pc + oc * 4, n, sc, 1, 0, scratch);
    });
    return { data: heap.readF32(pc, shapeSize(outShape)), shape: outShape };
  });
}

/** PyTorch nn.Linear: `x [..., in]`, `weight [out, in]`, `bias [out]` → `x·weightᵀ + bias`. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  const engine = getEngine();
  checkTensor('x', x, 1);
  checkTensor('weight', weight, 2);
  if (weight.shape.length !== 2) throw shapeMismatch(`weight must be [out, in], got ${formatShape(weight.shape)}`);
  const [out, inF] = weight.shape;
  const xin = x.shape[x.shape.length - 1];
  if (xin !== inF) throw shapeMismatch(`x.shape[-1] is ${xin} but weight.shape[1] (in_features) is ${inF}`);
  if (bias !== undefined) {
    checkTensor('bias', bias, 1);
    if (bias.shape.length !== 1 || bias.shape[0] !== out) {
      throw shapeMismatch(`bias must be [${out}] (weight.shape[0]), got ${formatShape(bias.shape)}`);
    }
  }
  const rows = shapeSize(x.shape.slice(0, -1));
  const outShape = [...x.shape.slice(0, -1), out];
  const kern = engine.kernels;
  const heap = engine.heap;
  return heap.scoped([x.data.length * 4, weight.data.length * 4, out * 4, rows * out * 4, kern.f32_gemm_scratch_floats(rows, out, inF) * 4], ([px, pw, pb, py, scratch]) => {
    heap.writeF32(px, x.data);
    heap.writeF32(pw, weight.data);
    if (bias) heap.writeF32(pb, bias.data);
    kern.f32_gemm(1, rows, out, inF, px, inF, 0, pw, inF, 0, true, py, out, 0, 1, bias ? pb : 0, scratch);
    return { data: heap.readF32(py, rows * out), shape: outShape };
  });
}

/** Softmax over the last axis, numerically stable; a row of all -Infinity gives 0. */
export function softmax(x: Tensor): Tensor {
  const engine = getEngine();
  checkTensor('x', x, 1);
  const n = x.shape[x.shape.length - 1];
  const rows = n === 0 ? 0 : x.data.length / n;
  const heap = engine.heap;
  return heap.scoped([x.data.length * 4], ([px]) => {
    heap.writeF32(px, x.data);
    engine.kernels.f32_softmax_rows(rows, n, px, n, px, n, 1, MaskKind.none, 0, 0, 0, n);
    return { data: heap.readF32(px, x.data.length), shape: [...x.shape] };
  });
}

export interface AttentionOptions {
  /** Multiplies the scores; default 1/√dk. */
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

/** `softmax(q·kᵀ·scale + mask)·v` for `q [..., Lq, dk]`, `k [..., Lk, dk]`, `v [..., Lk, dv]`. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options?: AttentionOptions): AttentionResult {
  const engine = getEngine();
  checkTensor('q', q, 2);
  checkTensor('k', k, 2);
  checkTensor('v', v, 2);
  const opts = new Options(options);
  const [lq, dk] = q.shape.slice(-2);
  const [lk, dkK] = k.shape.slice(-2);
  const [lkV, dv] = v.shape.slice(-2);
  if (dkK !== dk) throw shapeMismatch(`k.shape[-1] (dk) is ${dkK} but q.shape[-1] is ${dk}`);
  if (lkV !== lk) throw shapeMismatch(`v.shape[-2] (Lk) is ${lkV} but k.shape[-2] is ${lk}`);
  const qLead = q.shape.slice(0, -2);
  const kLead = k.shape.slice(0, -2);
  const vLead = v.shape.slice(0, -2);
  const batch = broadcastShapes(['q', 'k', 'v'], [qLead, kLead, vLead]);
  const scale = opts.finite('scale', 1 / Math.sqrt(dk));
  const causal = opts.boolean('causal', false);
  const returnWeights = opts.boolean('returnWeights', false);
  const mask = opts.raw.mask === undefined ? undefined : maskLayout('options.mask', opts.raw.mask, batch, lq, lk);
  const count = shapeSize(batch);
  const outSize = count * lq * dv;
  const wSize = returnWeights ? count * lq * lk : 0;
  const heap = engine.heap;
  const bytesFor = (weights: boolean) => [q.data.length * 4, k.data.length * 4, v.data.length * 4, outSize * 4, weights ? wSize * 4 : 0, maskBlockBytes(mask?.tensor.data), attentionScratchFloats(engine, lq, lk, dk, dv, weights) * 4];
  const bytes = bytesFor(returnWeights);
  return hintWithoutWeights(engine, 'options.returnWeights', returnWeights ? () => bytesFor(false) : undefined, () => heap.scoped(bytes, ([pq, pk, pv, po, pw, pm, scratch]) => {
    heap.writeF32(pq, q.data);
    heap.writeF32(pk, k.data);
    heap.writeF32(pv, v.data);
    if (mask) writeMask(engine, pm, mask);
    runAttention(engine, {
      batch, lq, lk, dk, dv,
      q: { ptr: pq, ld: dk, strides: leadStrides(batch, qLead, lq * dk) },
      k: { ptr: pk, ld: dk, strides: leadStrides(batch, kLead, lk * dk) },
      v: { ptr: pv, ld: dv, strides: leadStrides(batch, vLead, lk * dv) },
      o: { ptr: po, ld: dv, strides: leadStrides(batch, batch, lq * dv) },
      weights: returnWeights ? { ptr: pw, strides: leadStrides(batch, batch, lq * lk) } : undefined,
      masks: mask ? [{ layout: mask, ptr: pm, strides: leadStrides(batch, mask.lead, mask.matrixSize) }] : [],
      scale, causal, scratch,
    });
    const output = { data: heap.readF32(po, outSize), shape: [...batch, lq, dv] };
    return returnWeights ? { output, weights: { data: heap.readF32(pw, wSize), shape: [...batch, lq, lk] } } : { output };
  }));
}
