// The timing's baseline: multi-head attention as a JavaScript developer would write it without a library, in
// Float32Arrays with plain loops (the library's own float64 oracle, src/reference.ts, is slower and not what people
// would compare against).

/** nn.Linear: y[r, o] = b[o] + Σ_i x[r, i]·w[o, i]. */
function linear(
  x: Float32Array,
  rows: number,
  inDim: number,
  w: Float32Array,
  b: Float32Array,
  outDim: number,
): Float32Array {
  const y = new Float32Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let sum = b[o];
      for (let i = 0; i < inDim; i++) sum += x[r * inDim + i] * w[o * inDim + i];
      y[r * outDim + o] = sum;
    }
  }
  return y;
}

export interface PlainWeights {
  wq: Float32Array;
  bq: Float32Array;
  wk: Float32Array;
  bk: Float32Array;
  wv: Float32Array;
  bv: Float32Array;
  wo: Float32Array;
  bo: Float32Array;
}

/** Self-attention of x [n, E] with `heads` heads: projections, softmax(QKᵀ/√d)·V per head, output projection. */
export function plainMultiHead(
  w: PlainWeights,
  x: Float32Array,
  n: number,
  E: number,
  heads: number,
  causal: boolean,
): Float32Array {
  const [q, k, v] = [linear(x, n, E, w.wq, w.bq, E), linear(x, n, E, w.wk, w.bk, E), linear(x, n, E, w.wv, w.bv, E)];
  const d = E / heads;
  const scale = 1 / Math.sqrt(d);
  const out = new Float32Array(n * E);
  const scores = new Float32Array(n);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < n; i++) {
      const visible = causal ? i + 1 : n;
      let max = -Infinity;
      for (let j = 0; j < visible; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += q[i * E + h * d + c] * k[j * E + h * d + c];
        scores[j] = s * scale;
        max = Math.max(max, scores[j]);
      }
      let sum = 0;
      for (let j = 0; j < visible; j++) sum += scores[j] = Math.exp(scores[j] - max);
      for (let j = 0; j < visible; j++) {
        const p = scores[j] / sum;
        for (let c = 0; c < d; c++) out[i * E + h * d + c] += p * v[j * E + h * d + c];
      }
    }
  }
  return linear(out, n, E, w.wo, w.bo, E);
}
