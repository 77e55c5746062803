// Parity with PyTorch 1.13 for nn.MultiheadAttention, grouped-query attention and KV-cache decoding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultiHeadAttention, SelfAttention, type StateDict, type Tensor } from '../src/index.js';
import { type Fixture, type FixtureArray, fixtureIndex, loadFixture } from './fixtures.js';
import { BUILD, expectClose, initBuild, ATOL, RTOL } from './helpers.js';

const f32 = (a: FixtureArray): Tensor => ({ data: a.data as Float32Array, shape: a.shape });
let worst = { err: 0, where: '' };

function check(label: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  const { maxAbs } = expectClose(label, got, want, ATOL, RTOL);
  if (maxAbs > worst.err) worst = { err: maxAbs, where: label };
}

beforeAll(initBuild);
afterAll(() =>
  console.log(`[${BUILD}] worst multi-head fixture |diff|: ${worst.err.toExponential(3)} (${worst.where})`),
);

const cases = fixtureIndex();
const inGroup = (g: string, filter = '') =>
  cases.filter((c) => c.group === g && c.name.includes(filter)).map((c) => c.file);

/** The fixture's parameter arrays, under their PyTorch names. */
function stateDict(fx: Fixture): StateDict {
  const sd: StateDict = {};
  for (const [k, v] of Object.entries(fx.inputs)) if (k.includes('proj') || k.startsWith('W_')) sd[k] = f32(v);
  return sd;
}

describe('multi_head', () => {
  it.each(inGroup('multi_head'))('%s', (file) => {
    const fx = loadFixture(file);
    const H = fx.params.num_heads as number;
    const m = MultiHeadAttention.fromStateDict(stateDict(fx), { numHeads: H });
    try {
      const { x, query, key, value, attn_mask, key_padding_mask } = fx.inputs;
      const [q, k, v] = x ? [f32(x), f32(x), f32(x)] : [f32(query), f32(key), f32(value)];
      const opts = {
        attnMask: attn_mask && f32(attn_mask),
        keyPaddingMask: key_padding_mask && {
          data: key_padding_mask.data as Uint8Array,
          shape: key_padding_mask.shape,
        },
      };
      const avg = m.forward(q, k, v, opts);
      check(`${fx.name} attn_output`, avg.output.data, fx.expected.attn_output.data);
      check(`${fx.name} attn_weights_avg`, avg.weights!.data, fx.expected.attn_weights_avg.data);
      const perHead = m.forward(q, k, v, { ...opts, averageWeights: false });
      expect(perHead.weights!.shape).toEqual(fx.expected.attn_weights_per_head.shape);
      check(`${fx.name} attn_weights_per_head`, perHead.weights!.data, fx.expected.attn_weights_per_head.data);
      // The fused path (no weights) gives the same output.
      check(
        `${fx.name} attn_output (no weights)`,
        m.forward(q, k, v, { ...opts, needWeights: false }).output.data,
        fx.expected.attn_output.data,
      );
      if (attn_mask && !key_padding_mask && fx.name.includes('causal')) {
        check(
          `${fx.name} attn_output (causal flag)`,
          m.forward(q, k, v, { causal: true }).output.data,
          fx.expected.attn_output.data,
        );
      }
    } finally {
      m.dispose();
    }
  });
});

describe('gqa', () => {
  it.each(inGroup('gqa'))('%s', (file) => {
    const fx = loadFixture(file);
    const m = MultiHeadAttention.fromStateDict(stateDict(fx), {
      numHeads: fx.params.num_heads as number,
      numKVHeads: fx.params.num_kv_heads as number,
    });
    try {
      const x = f32(fx.inputs.x);
      const causal = fx.params.causal as boolean;
      const r = m.forward(x, x, x, { causal, averageWeights: false });
      check(`${fx.name} attn_output`, r.output.data, fx.expected.attn_output.data);
      check(`${fx.name} attn_weights_per_head`, r.weights!.data, fx.expected.attn_weights_per_head.data);
      check(
        `${fx.name} attn_output (no weights)`,
        m.forward(x, x, x, { causal, needWeights: false }).output.data,
        fx.expected.attn_output.data,
      );
    } finally {
      m.dispose();
    }
  });
});

describe('kv_cache: token-by-token decoding equals the full causal pass', () => {
  it.each(inGroup('kv_cache'))('%s', (file) => {
    const fx = loadFixture(file);
    const x = f32(fx.inputs.x);
    const [B, L, E] = x.shape;
    const single = fx.name.includes('single_head');
    const m = single
      ? SelfAttention.fromStateDict(stateDict(fx))
      : MultiHeadAttention.fromStateDict(stateDict(fx), { numHeads: fx.params.num_heads as number });
    try {
      const full = single
        ? (m as SelfAttention).forward(x, { causal: true })
        : (m as MultiHeadAttention).forward(x, x, x, { causal: true });
      check(`${fx.name} output_full`, full.output.data, fx.expected.output_full.data);
      const cache = m.createCache({ batch: B, maxLength: L });
      const stepOut = new Float32Array(B * L * E);
      let lastWeights: Tensor | undefined;
      for (let t = 0; t < L; t++) {
        const xt = new Float32Array(B * E);
        for (let b = 0; b < B; b++) xt.set(x.data.subarray((b * L + t) * E, (b * L + t + 1) * E), b * E);
        const r = single
          ? (m as SelfAttention).forwardStep({ data: xt, shape: [B, 1, E] }, cache)
          : (m as MultiHeadAttention).forwardStep({ data: xt, shape: [B, 1, E] }, cache, { averageWeights: false });
        for (let b = 0; b < B; b++) stepOut.set(r.output.data.subarray(b * E, (b + 1) * E), (b * L + t) * E);
        lastWeights = r.weights;
        expect(cache.length).toBe(t + 1);
      }
      check(`${fx.name} output_incremental`, stepOut, fx.expected.output_incremental.data);
      check(`${fx.name} attn_weights_last_step`, lastWeights!.data, fx.expected.attn_weights_last_step.data);
      cache.dispose();
    } finally {
      m.dispose();
    }
  });
});

describe('fully_masked (multi-head): a batch row whose keys are all padding gives weights 0 and output = out_proj.bias', () => {
  it.each(inGroup('fully_masked', 'mha'))('%s', (file) => {
    const fx = loadFixture(file);
    const m = MultiHeadAttention.fromStateDict(stateDict(fx), { numHeads: fx.params.num_heads as number });
    try {
      const x = f32(fx.inputs.x);
      const [B, L, E] = x.shape;
      const kpm = { data: fx.inputs.key_padding_mask.data as Uint8Array, shape: fx.inputs.key_padding_mask.shape };
      const valid = fx.params.valid_key_lengths as number[];
      for (const needWeights of [true, false]) {
        const r = m.forward(x, x, x, { keyPaddingMask: kpm, needWeights, averageWeights: false });
        const H = fx.params.num_heads as number;
        for (let b = 0; b < B; b++) {
          const out = r.output.data.subarray(b * L * E, (b + 1) * L * E);
          const want = fx.expected.attn_output.data.subarray(b * L * E, (b + 1) * L * E);
          if (valid[b] === 0) {
            expect(Array.from(want).every(Number.isNaN), 'PyTorch 1.13 gives NaN here').toBe(true);
            const bias = fx.inputs['out_proj.bias'].data;
            for (let i = 0; i < L; i++) check(`${fx.name} row ${b}.${i}`, out.subarray(i * E, (i + 1) * E), bias);
            if (needWeights)
              expect(
                Array.from(r.weights!.data.subarray(b * H * L * L, (b + 1) * H * L * L)).every((w) => w === 0),
              ).toBe(true);
          } else {
            check(`${fx.name} batch ${b}`, out, want);
          }
        }
      }
    } finally {
      m.dispose();
    }
  });
});
