// The seed's module: single-head self-attention with nn.Linear projections, weights resident in linear memory.
import { AttentionCore, type CoreMask, type CoreWeights, readSequence } from './attention-core.js';
import { AttentionModule, inBackground, moduleCore } from './attention-module.js';
import { leadStrides } from '../ops/batch.js';
import { badArgument } from '../runtime/errors.js';
import { maskLayout } from '../ops/mask.js';
import type { AttentionResult, AttentionResultWithWeights, EngineOption } from '../ops/ops.js';
import { Options } from '../ops/options.js';
import { mulberry32, uniform } from './random.js';
import { positiveInteger, readStateDict, type Snapshot } from '../runtime/snapshot.js';
import { type BoolTensor, matrixDim, type StateDict, strictLoad, type Tensor } from '../ops/tensor.js';

const PROJECTIONS = ['W_q', 'W_k', 'W_v'] as const;

export interface SelfAttentionOptions extends EngineOption {
  /** PyTorch state dict (`W_q.weight`, `W_q.bias`, …); without it the weights are initialised as nn.Linear does. */
  weights?: StateDict;
  /** Whether the projections have biases (default true). */
  bias?: boolean;
  /** Seed of the initialisation PRNG (default 0), so a module is reproducible. */
  seed?: number;
}

export interface SelfAttentionForwardOptions {
  /** Float32 data is added to the scores; Uint8Array data keeps a key where 1. Broadcast to `[batch, n, n]`. */
  mask?: Tensor | BoolTensor;
  /** Hide later tokens (the seed's create_causal_mask, without building it). */
  causal?: boolean;
  /** Return the attention weights `[batch, n, n]` (default true, as the seed does). */
  returnWeights?: boolean;
}

/**
 * nn.Linear's default initialisation for the three projections, in the order W_q.weight, W_q.bias, W_k.weight, …:
 * weight and bias uniform in ±1/√embedDim, drawn from mulberry32(seed).
 */
export function initialSelfAttentionWeights(embedDim: number, seed = 0, bias = true): StateDict {
  const next = mulberry32(seed);
  const bound = 1 / Math.sqrt(embedDim);
  const sd: StateDict = {};
  for (const p of PROJECTIONS) {
    sd[`${p}.weight`] = { data: uniform(next, embedDim * embedDim, bound), shape: [embedDim, embedDim] };
    if (bias) sd[`${p}.bias`] = { data: uniform(next, embedDim, bound), shape: [embedDim] };
  }
  return sd;
}

/** PyTorch's SelfAttention of the seed: `Q, K, V = W_q(x), W_k(x), W_v(x)`, `softmax(QKᵀ/√E)·V`. */
export class SelfAttention extends AttentionModule {
  readonly embedDim: number;
  readonly bias: boolean;

  constructor(embedDim: number, options?: SelfAttentionOptions) {
    const E = positiveInteger('embedDim', embedDim);
    const opts = new Options(options, ['weights', 'bias', 'seed', 'engine']);
    const seed = opts.seed('seed');
    const biasOption = opts.raw.bias === undefined ? undefined : opts.boolean('bias', true);
    const sd = opts.stateDict('weights');
    const rt = opts.engine();
    const bias = sd ? sd.has('W_q.bias') : (biasOption ?? true);
    if (biasOption !== undefined && biasOption !== bias) {
      throw badArgument(`options.bias is ${biasOption} but the state dict ${bias ? 'has' : 'has no'} 'W_q.bias'`);
    }
    // A state dict is checked now; initial weights are made once their memory is taken.
    const loaded = sd && projections(sd, E, bias);
    const weights = () => loaded ?? projections(readStateDict('', initialSelfAttentionWeights(E, seed, bias)), E, bias);
    // W_q, W_k, W_v packed in linear memory until dispose(): one head of width E, no output projection.
    super(
      new AttentionCore(
        rt,
        {
          embedDim: E,
          numHeads: 1,
          numKVHeads: 1,
          headDim: E,
          kdim: E,
          vdim: E,
          outProj: false,
          scale: 1 / Math.sqrt(E),
        },
        weights,
      ),
      'SelfAttention',
    );
    this.embedDim = E;
    this.bias = bias;
  }

  /** A module with PyTorch's weights; embedDim and bias are read from the dict. */
  static fromStateDict(sd: StateDict, options?: EngineOption): SelfAttention {
    const dict = readStateDict('state dict', sd);
    const opts = new Options(options, ['engine']);
    return new SelfAttention(matrixDim(dict, 'W_q.weight', 0), {
      weights: dict as unknown as StateDict,
      engine: opts.raw.engine as EngineOption['engine'],
    });
  }

  /** `x [batch, n, E]` or `[n, E]` → `{ output (shape of x), weights [batch, n, n] or [n, n] }`. */
  forward(x: Tensor, options?: SelfAttentionForwardOptions & { returnWeights?: true }): AttentionResultWithWeights;
  forward(x: Tensor, options?: SelfAttentionForwardOptions): AttentionResult;
  forward(x: Tensor, options?: SelfAttentionForwardOptions): AttentionResult {
    const what = 'SelfAttention.forward';
    const core = moduleCore(this);
    core.check(what);
    const { t: sx, lead: batch, B, L: n } = readSequence('x', x, this.embedDim, 'n');
    const opts = new Options(options, ['mask', 'causal', 'returnWeights']);
    const causal = opts.boolean('causal', false);
    const returnWeights = opts.boolean('returnWeights', true);
    const mask = opts.mask('mask');
    const masks: CoreMask[] = [];
    if (mask) {
      const layout = maskLayout(mask, batch, n, n);
      masks.push({ layout, strides: [leadStrides(batch, layout.lead, layout.matrixSize)[0] ?? 0, 0] });
    }
    return core.forward(
      what,
      sx,
      sx,
      sx,
      B,
      masks,
      causal,
      returnWeights ? 'average' : 'none',
      'options.returnWeights',
      [...sx.shape],
      batch,
    );
  }

  /**
   * forward without blocking the calling thread: the same results, bit for bit (see scaledDotProductAttentionAsync).
   */
  forwardAsync(
    x: Tensor,
    options?: SelfAttentionForwardOptions & { returnWeights?: true },
  ): Promise<AttentionResultWithWeights>;
  forwardAsync(x: Tensor, options?: SelfAttentionForwardOptions): Promise<AttentionResult>;
  forwardAsync(x: Tensor, options?: SelfAttentionForwardOptions): Promise<AttentionResult> {
    return inBackground(this, () => this.forward(x, options));
  }
}

/** The projections of a SelfAttention state dict, loaded strictly: with biases when it has 'W_q.bias'. */
function projections(sd: ReadonlyMap<string, Snapshot>, E: number, bias: boolean): CoreWeights {
  const { take, done } = strictLoad(sd);
  const w = (p: string) => take(`${p}.weight`, [E, E]);
  const b = (p: string) => (bias ? take(`${p}.bias`, [E]) : undefined);
  const weights = { wq: w('W_q'), bq: b('W_q'), wk: w('W_k'), bk: b('W_k'), wv: w('W_v'), bv: b('W_v') };
  done();
  return weights;
}
