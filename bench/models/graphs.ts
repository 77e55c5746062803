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
    nodes: [
      {
        op: 'Attention',
        inputs: ['Q', 'K', 'V'],
        outputs: ['Y'],
        attrs: [
          { name: 'is_causal', i: causal ? 1 : 0 },
          { name: 'scale', f: 1 / Math.sqrt(d) },
        ],
      },
    ],
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
export function selfAttentionGraph(
  batch: number,
  n: number,
  E: number,
  sd: Record<string, { data: Float32Array }>,
): Graph {
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
      {
        op: 'Split',
        inputs: ['qkv'],
        outputs: ['q', 'k', 'v'],
        attrs: [
          { name: 'axis', i: 2 },
          { name: 'num_outputs', i: 3 },
        ],
      },
      ...attentionNodes('q', 'k', 'v', false, 'output', 'weights'),
    ],
  };
}

/** Projection weights of a multi-head module, nn.Linear layout ([out, in]). */
export interface MhaWeights {
  wq: Float32Array;
  bq: Float32Array;
  wk: Float32Array;
  bk: Float32Array;
  wv: Float32Array;
  bv: Float32Array;
  wo: Float32Array;
  bo: Float32Array;
}

/** An nn.Linear weight [out, in] as the [in, out] matrix MatMul wants. */
function transposed(name: string, w: Float32Array, out: number, inF: number): Initializer {
  const t = new Float32Array(w.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) t[i * out + o] = w[o * inF + i];
  return { name, dims: [inF, out], data: t };
}

function linearNodes(x: string, w: string, b: string, out: string): Node[] {
  return [
    { op: 'MatMul', inputs: [x, w], outputs: [`${out}_mm`] },
    { op: 'Add', inputs: [`${out}_mm`, b], outputs: [out] },
  ];
}

function projectionInitializers(w: MhaWeights, E: number, kvDim: number): Initializer[] {
  return [
    transposed('wq', w.wq, E, E),
    { name: 'bq', dims: [E], data: w.bq },
    transposed('wk', w.wk, kvDim, E),
    { name: 'bk', dims: [kvDim], data: w.bk },
    transposed('wv', w.wv, kvDim, E),
    { name: 'bv', dims: [kvDim], data: w.bv },
    transposed('wo', w.wo, E, E),
    { name: 'bo', dims: [E], data: w.bo },
  ];
}

/**
 * Multi-head self-attention, x [B, L, E] → output [B, L, E], no weights: projections, then the heads through
 * com.microsoft MultiHeadAttention (op 'contrib') or the opset-23 Attention op with q/kv_num_heads ('opset23'); or
 * ('packed') the com.microsoft Attention op with the Q, K and V weights packed in one [E, 3E] matrix, which projects
 * and attends in one node (what onnxruntime's BERT optimiser emits).
 */
export function mhaGraph(
  B: number,
  L: number,
  E: number,
  H: number,
  w: MhaWeights,
  op: 'contrib' | 'opset23' | 'packed',
): Graph {
  if (op === 'packed') {
    const [wq, wk, wv] = [
      transposed('', w.wq, E, E).data,
      transposed('', w.wk, E, E).data,
      transposed('', w.wv, E, E).data,
    ];
    const wqkv = new Float32Array(E * 3 * E);
    for (let i = 0; i < E; i++)
      [wq, wk, wv].forEach((m, p) => wqkv.set(m.subarray(i * E, (i + 1) * E), i * 3 * E + p * E));
    return {
      name: 'mha_packed',
      opset: OPSET,
      domains: [{ domain: 'com.microsoft', version: 1 }],
      inputs: [{ name: 'x', dims: [B, L, E] }],
      outputs: [{ name: 'output', dims: [B, L, E] }],
      initializers: [
        { name: 'wqkv', dims: [E, 3 * E], data: wqkv },
        { name: 'bqkv', dims: [3 * E], data: Float32Array.from([...w.bq, ...w.bk, ...w.bv]) },
        transposed('wo', w.wo, E, E),
        { name: 'bo', dims: [E], data: w.bo },
      ],
      nodes: [
        {
          op: 'Attention',
          domain: 'com.microsoft',
          inputs: ['x', 'wqkv', 'bqkv'],
          outputs: ['heads'],
          attrs: [{ name: 'num_heads', i: H }],
        },
        ...linearNodes('heads', 'wo', 'bo', 'output'),
      ],
    };
  }
  const heads: Node =
    op === 'contrib'
      ? {
          op: 'MultiHeadAttention',
          domain: 'com.microsoft',
          inputs: ['q', 'k', 'v'],
          outputs: ['heads'],
          attrs: [{ name: 'num_heads', i: H }],
        }
      : {
          op: 'Attention',
          inputs: ['q', 'k', 'v'],
          outputs: ['heads'],
          attrs: [
            { name: 'q_num_heads', i: H },
            { name: 'kv_num_heads', i: H },
          ],
        };
  return {
    name: `mha_${op}`,
    opset: OPSET,
    domains: op === 'contrib' ? [{ domain: 'com.microsoft', version: 1 }] : undefined,
    inputs: [{ name: 'x', dims: [B, L, E] }],
    outputs: [{ name: 'output', dims: [B, L, E] }],
    initializers: projectionInitializers(w, E, E),
    nodes: [
      ...linearNodes('x', 'wq', 'bq', 'q'),
      ...linearNodes('x', 'wk', 'bk', 'k'),
      ...linearNodes('x', 'wv', 'bv', 'v'),
      heads,
      ...linearNodes('heads', 'wo', 'bo', 'output'),
    ],
  };
}

/**
 * One decoding step with onnxruntime's past/present KV path: x [B, 1, E], past_key/past_value
 * [B, kvHeads, P, hd] → output [B, 1, E] and present_key/present_value [B, kvHeads, P + 1, hd] (opset-23 Attention).
 */
export function decodeGraph(B: number, P: number, E: number, H: number, Hkv: number, w: MhaWeights): Graph {
  const hd = E / H;
  const kvDim = Hkv * hd;
  return {
    name: 'decode_step',
    opset: OPSET,
    inputs: [
      { name: 'x', dims: [B, 1, E] },
      { name: 'past_key', dims: [B, Hkv, P, hd] },
      { name: 'past_value', dims: [B, Hkv, P, hd] },
    ],
    outputs: [
      { name: 'output', dims: [B, 1, E] },
      { name: 'present_key', dims: [B, Hkv, P + 1, hd] },
      { name: 'present_value', dims: [B, Hkv, P + 1, hd] },
    ],
    initializers: projectionInitializers(w, E, kvDim),
    nodes: [
      ...linearNodes('x', 'wq', 'bq', 'q'),
      ...linearNodes('x', 'wk', 'bk', 'k'),
      ...linearNodes('x', 'wv', 'bv', 'v'),
      {
        op: 'Attention',
        inputs: ['q', 'k', 'v', '', 'past_key', 'past_value'],
        outputs: ['heads', 'present_key', 'present_value'],
        attrs: [
          { name: 'q_num_heads', i: H },
          { name: 'kv_num_heads', i: Hkv },
        ],
      },
      ...linearNodes('heads', 'wo', 'bo', 'output'),
    ],
  };
}

/**
 * The copies of decodeGraph's cache alone: past_key/past_value [B, kvHeads, P, hd] in, the same out (what
 * onnxruntime-web's past/present path moves per step besides its arithmetic). Added to 0, not Identity: the
 * Identity graph threw inside onnxruntime-web 1.30's run (a TypeError in its output handling) in the suite's second
 * round.
 */
export function cacheCopyGraph(B: number, P: number, Hkv: number, hd: number): Graph {
  return {
    name: 'cache_copy',
    opset: OPSET,
    inputs: [
      { name: 'past_key', dims: [B, Hkv, P, hd] },
      { name: 'past_value', dims: [B, Hkv, P, hd] },
    ],
    outputs: [
      { name: 'present_key', dims: [B, Hkv, P, hd] },
      { name: 'present_value', dims: [B, Hkv, P, hd] },
    ],
    initializers: [{ name: 'zero', dims: [], data: new Float32Array(1) }],
    nodes: [
      { op: 'Add', inputs: ['past_key', 'zero'], outputs: ['present_key'] },
      { op: 'Add', inputs: ['past_value', 'zero'], outputs: ['present_value'] },
    ],
  };
}
