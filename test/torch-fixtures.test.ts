// Parity with PyTorch 1.13 on every fixture of the foundation's groups.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCausalMask,
  linear,
  scaledDotProductAttention,
  SelfAttention,
  softmax,
  type StateDict,
  type Tensor,
} from '../src/index.js';
import { type FixtureArray, fixtureIndex, loadFixture } from './fixtures.js';
import { BUILD, expectClose, initBuild, ATOL, RTOL } from './helpers.js';

const f32 = (a: FixtureArray): Tensor => ({ data: a.data as Float32Array, shape: a.shape });
let worst = { err: 0, where: '' };

function check(label: string, got: ArrayLike<number>, want: FixtureArray): void {
  const { maxAbs } = expectClose(label, got, want.data, ATOL, RTOL);
  if (maxAbs > worst.err) worst = { err: maxAbs, where: label };
}

beforeAll(initBuild);
afterAll(() => {
  console.log(`[${BUILD}] worst fixture |diff|: ${worst.err.toExponential(3)} (${worst.where})`);
});

const cases = fixtureIndex();
const inGroup = (g: string) => cases.filter((c) => c.group === g).map((c) => c.file);

describe('self_attention', () => {
  it.each(inGroup('self_attention'))('%s', (file) => {
    const fx = loadFixture(file);
    const sd: StateDict = {};
    for (const [k, v] of Object.entries(fx.inputs)) if (k.startsWith('W_')) sd[k] = f32(v);
    const x = f32(fx.inputs.x);
    const causal = fx.params.causal as boolean;
    const m = SelfAttention.fromStateDict(sd);
    try {
      const r = m.forward(x, { causal });
      check(`${fx.name} output`, r.output.data, fx.expected.output);
      check(`${fx.name} attn_weights`, r.weights!.data, fx.expected.attn_weights);
      // The seed's way of masking: add create_causal_mask(n) to the scores.
      const n = x.shape[1];
      const viaMask = m.forward(x, { mask: causal ? createCausalMask(n) : undefined, returnWeights: false });
      check(`${fx.name} output (mask tensor)`, viaMask.output.data, fx.expected.output);
      expect(viaMask.weights).toBeUndefined();
    } finally {
      m.dispose();
    }
    if (fx.expected.Q) {
      for (const p of ['Q', 'K', 'V']) {
        const w = `W_${p.toLowerCase()}`;
        check(`${fx.name} ${p}`, linear(x, sd[`${w}.weight`], sd[`${w}.bias`]).data, fx.expected[p]);
      }
    }
  });
});

describe('causal_mask', () => {
  it.each(inGroup('causal_mask'))('%s', (file) => {
    const fx = loadFixture(file);
    const m = createCausalMask(fx.params.n as number);
    expect(m.shape).toEqual(fx.expected.mask.shape);
    expect(Array.from(m.data)).toEqual(Array.from(fx.expected.mask.data));
  });
});

function runSdpa(file: string, expectNaNRowsAsZero: boolean): void {
  const fx = loadFixture(file);
  const { q, k, v, mask } = fx.inputs;
  const scale = fx.params.scale_is_default ? undefined : (fx.params.scale as number);
  const maskArg = mask && { data: mask.data, shape: mask.shape };
  const r = scaledDotProductAttention(f32(q), f32(k), f32(v), { scale, mask: maskArg as Tensor, returnWeights: true });
  const plain = scaledDotProductAttention(f32(q), f32(k), f32(v), { scale, mask: maskArg as Tensor });
  expect(r.output.shape).toEqual(fx.expected.output.shape);
  expect(r.weights!.shape).toEqual(fx.expected.attn_weights.shape);
  expect(plain.weights).toBeUndefined();
  for (const [name, got, want] of [
    ['output', r.output.data, fx.expected.output],
    ['attn_weights', r.weights!.data, fx.expected.attn_weights],
    ['output (no weights)', plain.output.data, fx.expected.output],
  ] as const) {
    let expected = want;
    if (expectNaNRowsAsZero) {
      // PyTorch 1.13 gives NaN for a fully masked row; this library gives 0 there (as PyTorch ≥ 2.5).
      const nan = Array.from(want.data).filter(Number.isNaN).length;
      expect(nan, `${fx.name}: the fixture has NaN rows`).toBeGreaterThan(0);
      expected = { data: Float32Array.from(want.data, (x) => (Number.isNaN(x) ? 0 : x)), shape: want.shape };
    }
    check(`${fx.name} ${name}`, got, expected);
  }
}

describe('sdpa', () => {
  it.each(inGroup('sdpa'))('%s', (file) => runSdpa(file, false));
});

describe('fully_masked (sdpa): a row with every key masked is 0, never NaN', () => {
  it.each(inGroup('fully_masked').filter((f) => f.includes('sdpa')))('%s', (file) => runSdpa(file, true));
});

describe('softmax', () => {
  it.each(inGroup('softmax'))('%s', (file) => {
    const fx = loadFixture(file);
    check(`${fx.name} softmax`, softmax(f32(fx.inputs.scores)).data, fx.expected.softmax);
    if (fx.expected.softmax_scaled) {
      check(`${fx.name} softmax_scaled`, softmax(f32(fx.expected.scaled_scores)).data, fx.expected.softmax_scaled);
    }
  });
});

it('covers every fixture of the foundation groups', () => {
  const groups = new Set(cases.map((c) => c.group));
  for (const g of ['self_attention', 'sdpa', 'causal_mask', 'softmax', 'fully_masked'])
    expect(groups.has(g)).toBe(true);
  expect(
    inGroup('self_attention').length +
      inGroup('sdpa').length +
      inGroup('causal_mask').length +
      inGroup('softmax').length,
  ).toBeGreaterThanOrEqual(22);
});
