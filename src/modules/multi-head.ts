// nn.MultiheadAttention(batch_first=True), with grouped-query heads and a KV cache for decoding.
import {
  AttentionCore,
  type CoreDims,
  type CoreMask,
  type CoreWeights,
  readSequence,
  weightsMode,
} from './attention-core.js';
import { AttentionModule, inBackground, moduleCore } from './attention-module.js';
import { badArgument, shapeMismatch } from '../runtime/errors.js';
import { maskKind, maskLayout } from '../ops/mask.js';
import type { AttentionResult, AttentionResultWithWeights, EngineOption } from '../ops/ops.js';
import { Options } from '../ops/options.js';
import { mulberry32, uniform } from './random.js';
import {
  formatShape,
  type MaskSnapshot,
  positiveInteger,
  readStateDict,
  readTensor,
  type Snapshot,
} from '../runtime/snapshot.js';
import { type BoolTensor, sameShape, type StateDict, matrixDim, strictLoad, type Tensor } from '../ops/tensor.js';

export interface MultiHeadAttentionOptions extends EngineOption {
  /** Key/value heads (grouped-query when fewer than numHeads; each serves numHeads / numKVHeads query heads). */
  numKVHeads?: number;
  /** Width of the key input (default embedDim). */
  kdim?: number;
  /** Width of the value input (default embedDim). */
  vdim?: number;
  /** Whether the projections have biases (default true). */
  bias?: boolean;
  /** Seed of the initialisation PRNG (default 0). */
  seed?: number;
  /** PyTorch state dict; see MultiHeadAttention.fromStateDict for the accepted keys. */
  weights?: StateDict;
}

export interface MultiHeadForwardOptions {
  /**
   * [B, Lk] (or [Lk] unbatched): Uint8Array data with 1 = padding (ignored by every query and head), or float added.
   */
  keyPaddingMask?: Tensor | BoolTensor;
  /** [Lq, Lk] or [B·numHeads, Lq, Lk]: float data added to the scores, or Uint8Array data with 1 = not allowed. */
  attnMask?: Tensor | BoolTensor;
  /** Hide later keys: key j from query i when j > i + (Lk − Lq). */
  causal?: boolean;
  /** Return attention weights (default true, as nn.MultiheadAttention). */
  needWeights?: boolean;
  /** Average the weights over heads, [B, Lq, Lk] (default true); false gives [B, numHeads, Lq, Lk]. */
  averageWeights?: boolean;
}

function xavier(next: () => number, rows: number, cols: number): Float32Array {
  return uniform(next, rows * cols, Math.sqrt(6 / (rows + cols)));
}

/**
 * PyTorch's nn.MultiheadAttention(embedDim, numHeads, batch_first=True): q/k/v projections, scaled dot-product
 * attention per head (head_dim = embedDim / numHeads), concatenated heads, output projection.
 */
export class MultiHeadAttention extends AttentionModule {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly numKVHeads: number;
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly bias: boolean;

  constructor(embedDim: number, numHeads: number, options?: MultiHeadAttentionOptions) {
    const E = positiveInteger('embedDim', embedDim);
    const H = positiveInteger('numHeads', numHeads);
    const opts = new Options(options, ['numKVHeads', 'kdim', 'vdim', 'bias', 'seed', 'weights', 'engine']);
    const numKVHeads = opts.positiveInteger('numKVHeads', H);
    const kdim = opts.positiveInteger('kdim', E);
    const vdim = opts.positiveInteger('vdim', E);
    const seed = opts.seed('seed');
    const sd = opts.stateDict('weights');
    const bias = opts.boolean('bias', sd ? hasBias(sd) : true);
    const rt = opts.engine();
    if (E % H !== 0) throw badArgument(`embedDim (${E}) must be divisible by numHeads (${H})`);
    if (H % numKVHeads !== 0)
      throw badArgument(`numHeads (${H}) must be divisible by options.numKVHeads (${numKVHeads})`);
    const headDim = E / H;
    const dims: CoreDims = {
      embedDim: E,
      numHeads: H,
      numKVHeads,
      headDim,
      kdim,
      vdim,
      outProj: true,
      scale: 1 / Math.sqrt(headDim),
    };
    const weights = sd ? weightsFromStateDict(sd, dims, bias) : undefined;
    super(new AttentionCore(rt, dims, () => weights ?? initialWeights(dims, seed, bias)), 'MultiHeadAttention');
    this.embedDim = E;
    this.numHeads = H;
    this.numKVHeads = numKVHeads;
    this.headDim = headDim;
    this.kdim = kdim;
    this.vdim = vdim;
    this.bias = bias;
  }

  /**
   * A module with PyTorch's weights: `in_proj_weight` [3E, E] (+ `in_proj_bias`), or `q_proj_weight`,
   * `k_proj_weight`, `v_proj_weight` (+ `in_proj_bias`) as nn.MultiheadAttention stores them when kdim/vdim
   * differ, or `q_proj.weight`, `k_proj.weight`, `v_proj.weight` with `.bias` (grouped-query layouts); and
   * `out_proj.weight`, `out_proj.bias`. kdim and vdim are read from the weights.
   */
  static fromStateDict(
    sd: StateDict,
    options: { numHeads: number; numKVHeads?: number } & EngineOption,
  ): MultiHeadAttention {
    const dict = readStateDict('state dict', sd);
    const opts = new Options(options, ['numHeads', 'numKVHeads', 'engine']);
    const numHeads = opts.positiveInteger('numHeads');
    const E = matrixDim(dict, 'out_proj.weight', 0);
    const width = (a: string, b: string) => (dict.get(a) ?? dict.get(b))?.shape[1];
    return new MultiHeadAttention(E, numHeads, {
      numKVHeads: opts.raw.numKVHeads as number | undefined,
      kdim: width('k_proj_weight', 'k_proj.weight'),
      vdim: width('v_proj_weight', 'v_proj.weight'),
      weights: dict as unknown as StateDict,
      engine: opts.raw.engine as EngineOption['engine'],
    });
  }

  /**
   * `query [B, Lq, E]` (or `[Lq, E]`), `key [B, Lk, kdim]`, `value [B, Lk, vdim]` → `{ output [B, Lq, E], weights? }`.
   */
  forward(
    query: Tensor,
    key?: Tensor,
    value?: Tensor,
    options?: MultiHeadForwardOptions & { needWeights?: true },
  ): AttentionResultWithWeights;
  forward(query: Tensor, key?: Tensor, value?: Tensor, options?: MultiHeadForwardOptions): AttentionResult;
  forward(query: Tensor, key: Tensor = query, value: Tensor = key, options?: MultiHeadForwardOptions): AttentionResult {
    const what = 'MultiHeadAttention.forward';
    const core = moduleCore(this);
    core.check(what);
    const E = this.embedDim;
    const { t: sq, lead, B, L: Lq } = readSequence('query', query, E, 'Lq');
    const sk = key === query ? sq : readTensor('key', key, 2);
    const sv = value === query ? sq : value === key ? sk : readTensor('value', value, 2);
    const opts = new Options(options, ['keyPaddingMask', 'attnMask', 'causal', 'needWeights', 'averageWeights']);
    const causal = opts.boolean('causal', false);
    const need = opts.boolean('needWeights', true);
    const average = opts.boolean('averageWeights', true);
    const attnMask = opts.mask('attnMask');
    const keyPaddingMask = opts.mask('keyPaddingMask');
    const rank = sq.shape.length;
    const batched = rank === 3;
    const expectKV = (name: string, t: Snapshot, width: number, Lk?: number) => {
      const ok =
        t.shape.length === rank &&
        t.shape[rank - 1] === width &&
        (!batched || t.shape[0] === B) &&
        (Lk === undefined || t.shape[rank - 2] === Lk);
      if (!ok) {
        const want = batched ? `[${B}, ${Lk ?? 'Lk'}, ${width}]` : `[${Lk ?? 'Lk'}, ${width}]`;
        throw shapeMismatch(`${name} must be ${want} (as query ${formatShape(sq.shape)}), got ${formatShape(t.shape)}`);
      }
    };
    expectKV('key', sk, this.kdim);
    const Lk = sk.shape[rank - 2];
    expectKV('value', sv, this.vdim, Lk);
    const masks: CoreMask[] = [];
    if (attnMask) masks.push(this.#attnMask(attnMask, B, Lq, Lk));
    if (keyPaddingMask) masks.push(this.#keyPaddingMask(keyPaddingMask, batched, B, Lk));
    return core.forward(
      what,
      sq,
      sk,
      sv,
      B,
      masks,
      causal,
      weightsMode(need, average),
      'options.needWeights',
      [...sq.shape],
      lead,
    );
  }

  /**
   * forward without blocking the calling thread: the same results, bit for bit (see scaledDotProductAttentionAsync).
   */
  forwardAsync(
    query: Tensor,
    key?: Tensor,
    value?: Tensor,
    options?: MultiHeadForwardOptions & { needWeights?: true },
  ): Promise<AttentionResultWithWeights>;
  forwardAsync(
    query: Tensor,
    key?: Tensor,
    value?: Tensor,
    options?: MultiHeadForwardOptions,
  ): Promise<AttentionResult>;
  forwardAsync(
    query: Tensor,
    key?: Tensor,
    value?: Tensor,
    options?: MultiHeadForwardOptions,
  ): Promise<AttentionResult> {
    return inBackground(this, () => this.forward(query, key, value, options));
  }

  #attnMask(t: MaskSnapshot, B: number, Lq: number, Lk: number): CoreMask {
    const H = this.numHeads;
    const perHead = t.shape.length === 3;
    const want = perHead ? [B * H, Lq, Lk] : [Lq, Lk];
    if (!sameShape(t.shape, want)) {
      throw shapeMismatch(
        `options.attnMask must be [${Lq}, ${Lk}] or [${B * H}, ${Lq}, ${Lk}], got ${formatShape(t.shape)}`,
      );
    }
    if (!perHead) return { layout: maskLayout(t, [], Lq, Lk, 'hide'), strides: [0, 0] };
    const layout = maskLayout(t, [B, H], Lq, Lk, 'hide', [B, H, Lq, Lk]);
    return { layout, strides: [H * Lq * Lk, Lq * Lk] };
  }

  #keyPaddingMask(t: MaskSnapshot, batched: boolean, B: number, Lk: number): CoreMask {
    const want = batched ? [B, Lk] : [Lk];
    if (!sameShape(t.shape, want)) {
      throw shapeMismatch(`options.keyPaddingMask must be ${formatShape(want)}, got ${formatShape(t.shape)}`);
    }
    // One row of keys per batch item, the same for every query and head.
    const layout = { kind: maskKind(t, 'hide'), tensor: t, lead: batched ? [B] : [], matrixSize: Lk, ldr: 0, ldc: 1 };
    return { layout, strides: [batched ? Lk : 0, 0] };
  }
}

/** The q, k and v parts of a packed array whose q and k parts hold `q` and `k` elements. */
const split = (a: Float32Array | undefined, q: number, k: number) =>
  [[0, q], [q, q + k], [q + k]].map(([from, to]) => a?.subarray(from, to));

/** As nn.MultiheadAttention initialises them, from mulberry32(seed). */
function initialWeights(d: CoreDims, seed: number, bias: boolean): CoreWeights {
  const next = mulberry32(seed);
  const { embedDim: E, kdim, vdim } = d;
  const kvDim = d.numKVHeads * d.headDim;
  // As nn.MultiheadAttention: xavier-uniform in-projections (one [3E, E] matrix when it has one), zero biases,
  // out_proj weight uniform in ±1/√E with a zero bias.
  const packed = kvDim === E && kdim === E && vdim === E;
  const [wq, wk, wv] = packed
    ? split(xavier(next, 3 * E, E), E * E, E * E)
    : [xavier(next, E, E), xavier(next, kvDim, kdim), xavier(next, kvDim, vdim)];
  const wo = uniform(next, E * E, 1 / Math.sqrt(E));
  const zeros = (n: number) => (bias ? new Float32Array(n) : undefined);
  return { wq: wq!, wk: wk!, wv: wv!, wo, bq: zeros(E), bk: zeros(kvDim), bv: zeros(kvDim), bo: zeros(E) };
}

/** The projections of a state dict in any of nn.MultiheadAttention's layouts, checked as strict loading does. */
function weightsFromStateDict(sd: ReadonlyMap<string, Snapshot>, d: CoreDims, bias: boolean): CoreWeights {
  const { embedDim: E, kdim, vdim } = d;
  const kvDim = d.numKVHeads * d.headDim;
  const { take, done } = strictLoad(sd);
  const shapes = [
    [E, E],
    [kvDim, kdim],
    [kvDim, vdim],
  ];
  let ws: Array<Float32Array | undefined>;
  let bs: Array<Float32Array | undefined>;
  if (sd.has('in_proj_weight')) {
    if (kvDim !== E || kdim !== E || vdim !== E) {
      throw badArgument("'in_proj_weight' needs numKVHeads = numHeads and kdim = vdim = embedDim");
    }
    ws = split(take('in_proj_weight', [3 * E, E]), E * E, E * E);
    bs = split(bias ? take('in_proj_bias', [3 * E]) : undefined, E, E);
  } else if (sd.has('q_proj_weight')) {
    bs = split(bias ? take('in_proj_bias', [E + 2 * kvDim]) : undefined, E, kvDim);
    ws = ['q', 'k', 'v'].map((p, i) => take(`${p}_proj_weight`, shapes[i]));
  } else {
    ws = ['q', 'k', 'v'].map((p, i) => take(`${p}_proj.weight`, shapes[i]));
    bs = ['q', 'k', 'v'].map((p, i) => (bias ? take(`${p}_proj.bias`, [shapes[i][0]]) : undefined));
  }
  const wo = take('out_proj.weight', [E, E]);
  const bo = bias ? take('out_proj.bias', [E]) : undefined;
  done();
  return { wq: ws[0]!, wk: ws[1]!, wv: ws[2]!, bq: bs[0], bk: bs[1], bv: bs[2], wo, bo };
}

function hasBias(sd: ReadonlyMap<string, Snapshot>): boolean {
  return sd.has('in_proj_bias') || sd.has('q_proj.bias') || sd.has('out_proj.bias');
}
