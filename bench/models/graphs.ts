// The ONNX graphs onnxruntime-web runs in the benchmarks: each the same work as one of our calls.
import type { Graph, Initializer, Node } from './onnx-writer.js';

const OPSET = 23;

function causalMask(lq: number, lk: number): Initializer {
  const data = new Float32Array(lq * lk);
  for (let i = 0; i < lq; i++) for (let j = 0; j < lk; j++) if (j > i + (lk - lq)) data[i * lk + j] = -Infinity;
  return { name: 'causal_mask', dims: [lq, lk], data };
}

const scalar = (name: string, v: number): Initializer => ({ name, dims: [], data: Float32Array.of(v) });

/** softmax(q·kᵀ·scale [+ causal mask])·v from primitive ops, output and weights as graph outputs when asked. */
function attentionNodes(q: string, k: string, v: string, causal: boolean, out: string, weights: string): Node[] {
  return [
    { op: 'Transpose', inputs: [k], outputs: ['kT'], attrs: [{ name: 'perm', ints: [0, 2, 1] }] },
    { op: 'MatMul', inputs: [q, 'kT'], outputs: ['scores'] },
    { op: 'Mul', inputs: ['scores', 'scale'], outputs: ['scaled'] },
    ...(causal ? [{ op: 'Add', inputs: ['scaled', 'causal_mask'], outputs: ['masked'] }] : []),
    { op: 'Softmax', inputs: [causal ? 'masked' : 'scaled'], outputs: [weights], attrs: [{ name: 'axis', i: -1 }] },
    { op: 'MatMul', inputs: [weights, v], outputs: [out] },
  ];
}

/** SDPA from primitives: q [1, Lq, d], k and v [1, Lk, d] → output [1, Lq, d]. */
export function sdpaGraph(lq: number, lk: number, d: number, causal: boolean): Graph {
  return {
    name: 'sdpa',
    opset: OPSET,
    inputs: [
      { name: 'q', dims: [1, lq, d] },
      { name: 'k', dims: [1, lk, d] },
      { name: 'v', dims: [1, lk, d] },
    ],
    outputs: [{ name: 'output', dims: [1, lq, d] }],
    initializers: [scalar('scale', 1 / Math.sqrt(d)), ...(causal ? [causalMask(lq, lk)] : [])],
    nodes: attentionNodes('q', 'k', 'v', causal, 'output', 'weights'),
  };
}

/** The opset-23 Attention op: Q [1, 1, Lq, d], K and V [1, 1, Lk, d] → Y [1, 1, Lq, d]. */
export function attentionOpGraph(lq: number, lk: number, d: number, causal: boolean): Graph {
  return {
    name: 'attention_op',
    opset: OPSET,
    inputs: [
      { name: 'Q', dims: [1, 1, lq, d] },
      { name: 'K', dims: [1, 1, lk, d] },
      { name: 'V', dims: [1, 1, lk, d] },
    ],
    outputs: [{ name: 'Y', dims: [1, 1, lq, d] }],
    nodes: [{ op: 'Attention', inputs: ['Q', 'K', 'V'], outputs: ['Y'], attrs: [{ name: 'is_causal', i: causal ? 1 : 0 }, { name: 'scale', f: 1 / Math.sqrt(d) }] }],
  };
}

/** a [m, k] · b [k, n]. */
export function matmulGraph(m: number, k: number, n: number): Graph {
  return {
    name: 'matmul',
    opset: OPSET,
    inputs: [
      { name: 'a', dims: [m, k] },
      { name: 'b', dims: [k, n] },
    ],
    outputs: [{ name: 'c', dims: [m, n] }],
    nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
  };
}

/**
 * The seed's SelfAttention as PyTorch exports it, with the three projections fused into one MatMul (weights as
 * initializers, so onnxruntime can pre-pack them): x [B, n, E] → output [B, n, E] and weights [B, n, n].
 */
export function selfAttentionGraph(batch: number, n: number, E: number, sd: Record<string, { data: Float32Array }>): Graph {
  // x·[W_q; W_k; W_v]ᵀ: MatMul wants the [E, 3E] transpose.
  const wT = new Float32Array(E * 3 * E);
  const b = new Float32Array(3 * E);
  ['W_q', 'W_k', 'W_v'].forEach((p, s) => {
    const w = sd[`${p}.weight`].data;
    for (let o = 0; o < E; o++) for (let i = 0; i < E; i++) wT[i * 3 * E + s * E + o] = w[o * E + i];
    b.set(sd[`${p}.bias`].data, s * E);
  });
  return {
    name: 'self_attention',
    opset: OPSET,
    inputs: [{ name: 'x', dims: [batch, n, E] }],
    outputs: [
      { name: 'output', dims: [batch, n, E] },
      { name: 'weights', dims: [batch, n, n] },
    ],
    initializers: [
      { name: 'w_qkv_t', dims: [E, 3 * E], data: wT },
      { name: 'b_qkv', dims: [3 * E], data: b },
      scalar('scale', 1 / Math.sqrt(E)),
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w_qkv_t'], outputs: ['qkv0'] },
      { op: 'Add', inputs: ['qkv0', 'b_qkv'], outputs: ['qkv'] },
      { op: 'Split', inputs: ['qkv'], outputs: ['q', 'k', 'v'], attrs: [{ name: 'axis', i: 2 }, { name: 'num_outputs', i: 3 }] },
      ...attentionNodes('q', 'k', 'v', false, 'output', 'weights'),
    ],
  };
}
