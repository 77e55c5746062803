// The float64 oracle: the same semantics in plain JavaScript, written for clarity, never used by the fast path.
// Tests compare every kernel and op against it; benchmarks use it as the plain-JS peer.

export interface RefTensor {
  readonly data: ArrayLike<number>;
  readonly shape: readonly number[];
}

export interface RefResult {
  data: Float64Array;
  shape: number[];
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Broadcast leading dims, and for each output batch item the batch item of every operand. */
function broadcastBatches(leads: readonly (readonly number[])[]): { shape: number[]; items: number[][] } {
  const rank = Math.max(0, ...leads.map((l) => l.length));
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) {
    const dims = leads.map((l) => l[l.length - rank + d] ?? 1);
    const big = dims.filter((x) => x !== 1);
    if (big.some((x) => x !== big[0]))
      throw new Error(`reference: batch dims do not broadcast: ${JSON.stringify(leads)}`);
    shape.push(big[0] ?? 1);
  }
  const items: number[][] = [];
  for (let i = 0; i < size(shape); i++) {
    const idx: number[] = [];
    for (let d = rank - 1, r = i; d >= 0; d--) {
      idx[d] = r % shape[d];
      r = Math.floor(r / shape[d]);
    }
    items.push(
      leads.map((l) => {
        let flat = 0;
        for (let j = 0; j < l.length; j++) flat = flat * l[j] + (l[j] === 1 ? 0 : idx[rank - l.length + j]);
        return flat;
      }),
    );
  }
  return { shape, items };
}

/** `a [..., m, k] · b [..., k, n]` (or `b [..., n, k]` transposed), leading dims broadcast. */
export function refMatmul(a: RefTensor, b: RefTensor, transposeB = false): RefResult {
  const [m, k] = a.shape.slice(-2);
  const [n] = transposeB ? b.shape.slice(-2) : b.shape.slice(-1);
  const { shape, items } = broadcastBatches([a.shape.slice(0, -2), b.shape.slice(0, -2)]);
  const out = new Float64Array(items.length * m * n);
  items.forEach(([ia, ib], t) => {
    const ao = ia * m * k;
    const bo = ib * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[ao + i * k + p] * b.data[bo + (transposeB ? j * k + p : p * n + j)];
        out[t * m * n + i * n + j] = s;
      }
    }
  });
  return { data: out, shape: [...shape, m, n] };
}

/** nn.Linear: `x [..., in] · weightᵀ + bias`. */
export function refLinear(x: RefTensor, weight: RefTensor, bias?: RefTensor): RefResult {
  const [out, inF] = weight.shape;
  const rows = size(x.shape.slice(0, -1));
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let s = bias ? bias.data[o] : 0;
      for (let i = 0; i < inF; i++) s += x.data[r * inF + i] * weight.data[o * inF + i];
      y[r * out + o] = s;
    }
  }
  return { data: y, shape: [...x.shape.slice(0, -1), out] };
}

/** Softmax of one row in place: subtract the max; a row with nothing visible (all -Infinity) becomes 0. */
function softmaxRowInPlace(row: Float64Array): void {
  let max = -Infinity;
  for (const s of row) max = Math.max(max, s);
  if (max === -Infinity) {
    row.fill(0);
    return;
  }
  let sum = 0;
  for (let j = 0; j < row.length; j++) sum += row[j] = Math.exp(row[j] - max);
  for (let j = 0; j < row.length; j++) row[j] /= sum;
}

/** Softmax over the last axis. */
export function refSoftmax(x: RefTensor): RefResult {
  const n = x.shape[x.shape.length - 1];
  const out = Float64Array.from(x.data);
  for (let r = 0; n > 0 && r < out.length / n; r++) softmaxRowInPlace(out.subarray(r * n, (r + 1) * n));
  return { data: out, shape: [...x.shape] };
}

export interface RefAttentionOptions {
  scale?: number;
  /** Float mask (added), or `bool: true` for a keep-mask (nonzero = attend). Broadcast to `[..., Lq, Lk]`. */
  mask?: RefTensor & { bool?: boolean };
  causal?: boolean;
}

export interface RefAttentionResult {
  output: RefResult;
  weights: RefResult;
}

/** `softmax(q·kᵀ·scale + mask)·v`, key j hidden from query i when causal and j > i + (Lk − Lq). */
export function refAttention(
  q: RefTensor,
  k: RefTensor,
  v: RefTensor,
  opts: RefAttentionOptions = {},
): RefAttentionResult {
  const [lq, dk] = q.shape.slice(-2);
  const [lk] = k.shape.slice(-2);
  const [dv] = v.shape.slice(-1);
  const scale = opts.scale ?? 1 / Math.sqrt(dk);
  const mask = opts.mask;
  const mShape = mask ? (mask.shape.length === 1 ? [1, ...mask.shape] : mask.shape) : [1, 1];
  const [mq, mk] = mShape.slice(-2);
  const { shape, items } = broadcastBatches([
    q.shape.slice(0, -2),
    k.shape.slice(0, -2),
    v.shape.slice(0, -2),
    mShape.slice(0, -2),
  ]);
  const out = new Float64Array(items.length * lq * dv);
  const w = new Float64Array(items.length * lq * lk);
  items.forEach(([iq, ik, iv, im], t) => {
    for (let i = 0; i < lq; i++) {
      const row = w.subarray((t * lq + i) * lk, (t * lq + i + 1) * lk);
      for (let j = 0; j < lk; j++) {
        let s = 0;
        for (let p = 0; p < dk; p++) s += q.data[(iq * lq + i) * dk + p] * k.data[(ik * lk + j) * dk + p];
        s *= scale;
        if (mask) {
          const m = mask.data[im * mq * mk + (mq === 1 ? 0 : i) * mk + (mk === 1 ? 0 : j)];
          // PyTorch turns a boolean mask into 0 / -Infinity and adds it, so a NaN score stays NaN.
          s += mask.bool ? (m ? 0 : -Infinity) : m;
        }
        if (opts.causal && j > i + (lk - lq)) s = -Infinity;
        row[j] = s;
      }
      softmaxRowInPlace(row);
      for (let c = 0; c < dv; c++) {
        let s = 0;
        for (let j = 0; j < lk; j++) s += row[j] * v.data[(iv * lk + j) * dv + c];
        out[(t * lq + i) * dv + c] = s;
      }
    }
  });
  return { output: { data: out, shape: [...shape, lq, dv] }, weights: { data: w, shape: [...shape, lq, lk] } };
}

/** The seed's SelfAttention: Q, K, V by nn.Linear from a state dict, then attention with scale 1/√E. */
export function refSelfAttention(
  sd: Record<string, RefTensor>,
  x: RefTensor,
  opts: Omit<RefAttentionOptions, 'scale'> = {},
): RefAttentionResult {
  const E = sd['W_q.weight'].shape[0];
  const proj = (p: string) => refLinear(x, sd[`${p}.weight`], sd[`${p}.bias`]);
  return refAttention(proj('W_q'), proj('W_k'), proj('W_v'), { ...opts, scale: 1 / Math.sqrt(E) });
}

export interface RefMultiHeadOptions {
  numHeads: number;
  numKVHeads?: number;
  causal?: boolean;
  /** [Lq, Lk] additive mask for every batch row and head. */
  attnMask?: RefTensor;
  /** [B, Lk], nonzero = padding. */
  keyPaddingMask?: RefTensor;
}

/**
 * nn.MultiheadAttention(batch_first=True) with grouped-query heads, from nn.Linear weights:
 * wq [E, E], wk/wv [kvHeads·hd, kdim/vdim], wo [E, E] (biases optional). Returns the output [B, Lq, E] and
 * per-head weights [B, H, Lq, Lk].
 */
export function refMultiHead(
  w: {
    wq: RefTensor;
    bq?: RefTensor;
    wk: RefTensor;
    bk?: RefTensor;
    wv: RefTensor;
    bv?: RefTensor;
    wo: RefTensor;
    bo?: RefTensor;
  },
  query: RefTensor,
  key: RefTensor,
  value: RefTensor,
  opts: RefMultiHeadOptions,
): RefAttentionResult {
  const [B, Lq, E] = query.shape;
  const Lk = key.shape[1];
  const H = opts.numHeads;
  const Hkv = opts.numKVHeads ?? H;
  const hd = E / H;
  const kvDim = Hkv * hd;
  const q = refLinear(query, w.wq, w.bq).data;
  const k = refLinear(key, w.wk, w.bk).data;
  const v = refLinear(value, w.wv, w.bv).data;
  const heads = new Float64Array(B * Lq * E);
  const weights = new Float64Array(B * H * Lq * Lk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / (H / Hkv));
      const slice = (src: Float64Array, rows: number, width: number, col: number) => {
        const out = new Float64Array(rows * hd);
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < hd; c++) out[r * hd + c] = src[(b * rows + r) * width + col + c];
        return { data: out, shape: [rows, hd] };
      };
      let mask: (RefTensor & { bool?: boolean }) | undefined;
      if (opts.attnMask || opts.keyPaddingMask) {
        const m = new Float64Array(Lq * Lk);
        for (let i = 0; i < Lq; i++) {
          for (let j = 0; j < Lk; j++) {
            m[i * Lk + j] =
              (opts.attnMask ? opts.attnMask.data[i * Lk + j] : 0) +
              (opts.keyPaddingMask?.data[b * Lk + j] ? -Infinity : 0);
          }
        }
        mask = { data: m, shape: [Lq, Lk] };
      }
      const r = refAttention(slice(q, Lq, E, h * hd), slice(k, Lk, kvDim, g * hd), slice(v, Lk, kvDim, g * hd), {
        causal: opts.causal,
        mask,
      });
      for (let i = 0; i < Lq; i++)
        for (let c = 0; c < hd; c++) heads[(b * Lq + i) * E + h * hd + c] = r.output.data[i * hd + c];
      weights.set(r.weights.data, (b * H + h) * Lq * Lk);
    }
  }
  const output = refLinear({ data: heads, shape: [B, Lq, E] }, w.wo, w.bo);
  return { output, weights: { data: weights, shape: [B, H, Lq, Lk] } };
}
