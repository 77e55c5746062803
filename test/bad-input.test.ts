// Bad input gets a clear AttentionError naming the argument, and the engine stays right afterwards.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AttentionError,
  createCausalMask,
  type Engine,
  linear,
  matmul,
  scaledDotProductAttention,
  MultiHeadAttention,
  SelfAttention,
  softmax,
  tensor,
  type Tensor,
} from '../src/index.js';
import { refAttention } from '../src/reference.js';
import { expectClose, initBuild, randomTensor, usedBytes, ATOL, RTOL } from './helpers.js';

let engine: Engine;
// Modules the cases call, made once: a case's failing call must leave the heap as it found it.
let mha: MultiHeadAttention;
let sa: SelfAttention;
beforeAll(async () => {
  engine = await initBuild();
  mha = new MultiHeadAttention(8, 2);
  sa = new SelfAttention(8);
});

const q = randomTensor(1, [2, 5, 8]);
const k = randomTensor(2, [2, 6, 8]);
const v = randomTensor(3, [2, 6, 4]);
const t = (shape: number[]) => randomTensor(9, shape);

const cases: Array<[string, () => unknown, string, RegExp]> = [
  [
    'tensor data length vs shape',
    () => tensor(new Float32Array(5), [2, 3]),
    'SHAPE_MISMATCH',
    /has 5 elements but shape \[2, 3\] needs 6/,
  ],
  [
    'tensor negative dim',
    () => tensor(new Float32Array(0), [2, -1]),
    'BAD_ARGUMENT',
    /shape\[1\] must be a non-negative integer, got -1/,
  ],
  [
    'matmul inner dims',
    () => matmul(t([3, 4]), t([5, 2])),
    'SHAPE_MISMATCH',
    /b.shape\[-2\] \(k\) is 5 but a.shape\[-1\] is 4/,
  ],
  ['matmul rank', () => matmul(t([4]), t([4, 2])), 'SHAPE_MISMATCH', /a must have at least 2 dimensions/],
  [
    'matmul batch broadcast',
    () => matmul(t([2, 3, 4]), t([3, 4, 2])),
    'SHAPE_MISMATCH',
    /batch dimensions do not broadcast: a \[2\], b \[3\]/,
  ],
  [
    'matmul non-tensor',
    () => matmul([1, 2] as unknown as Tensor, t([2, 2])),
    'BAD_ARGUMENT',
    /a must be a Tensor \{ data: Float32Array, shape \}, got an array/,
  ],
  [
    'matmul Float64Array data',
    () => matmul({ data: new Float64Array(4), shape: [2, 2] } as unknown as Tensor, t([2, 2])),
    'BAD_ARGUMENT',
    /a must be a Tensor .* got data Float64Array\(4\)/,
  ],
  [
    'linear in_features',
    () => linear(t([3, 5]), t([4, 6])),
    'SHAPE_MISMATCH',
    /x.shape\[-1\] is 5 but weight.shape\[1\] \(in_features\) is 6/,
  ],
  ['linear bias', () => linear(t([3, 6]), t([4, 6]), t([3])), 'SHAPE_MISMATCH', /bias must be \[4\]/],
  [
    'sdpa dk',
    () => scaledDotProductAttention(q, t([2, 6, 7]), v),
    'SHAPE_MISMATCH',
    /k.shape\[-1\] \(dk\) is 7 but q.shape\[-1\] is 8/,
  ],
  [
    'sdpa Lk',
    () => scaledDotProductAttention(q, k, t([2, 5, 4])),
    'SHAPE_MISMATCH',
    /v.shape\[-2\] \(Lk\) is 5 but k.shape\[-2\] is 6/,
  ],
  [
    'sdpa mask shape',
    () => scaledDotProductAttention(q, k, v, { mask: createCausalMask(5) }),
    'SHAPE_MISMATCH',
    /options.mask.shape must be broadcastable to \[2, 5, 6\], got \[5, 5\]/,
  ],
  [
    'sdpa mask enlarging the batch',
    () => scaledDotProductAttention(q, k, v, { mask: t([3, 5, 6]) }),
    'SHAPE_MISMATCH',
    /broadcastable to \[2, 5, 6\], got \[3, 5, 6\]/,
  ],
  [
    'sdpa mask type',
    () => scaledDotProductAttention(q, k, v, { mask: { data: [0], shape: [1] } as unknown as Tensor }),
    'BAD_ARGUMENT',
    /options.mask must be a Tensor with Float32Array or Uint8Array data, got data an array/,
  ],
  [
    'sdpa scale NaN',
    () => scaledDotProductAttention(q, k, v, { scale: NaN }),
    'BAD_ARGUMENT',
    /options.scale must be a finite float32, got NaN/,
  ],
  [
    'sdpa causal type',
    () => scaledDotProductAttention(q, k, v, { causal: 'yes' as unknown as boolean }),
    'BAD_ARGUMENT',
    /options.causal must be a boolean, got "yes"/,
  ],
  [
    'sdpa options type',
    () => scaledDotProductAttention(q, k, v, 3 as never),
    'BAD_ARGUMENT',
    /options must be an options object, got 3/,
  ],
  [
    'softmax rank 0',
    () => softmax({ data: new Float32Array(1), shape: [] }),
    'SHAPE_MISMATCH',
    /x must have at least 1 dimensions/,
  ],
  ['createCausalMask', () => createCausalMask(2.5), 'BAD_ARGUMENT', /n must be a non-negative integer, got 2.5/],
  ['SelfAttention embedDim', () => new SelfAttention(0), 'BAD_ARGUMENT', /embedDim must be a positive integer, got 0/],
  [
    'MultiHeadAttention heads',
    () => new MultiHeadAttention(10, 3),
    'BAD_ARGUMENT',
    /embedDim \(10\) must be divisible by numHeads \(3\)/,
  ],
  [
    'MultiHeadAttention kv heads',
    () => new MultiHeadAttention(12, 6, { numKVHeads: 4 }),
    'BAD_ARGUMENT',
    /numHeads \(6\) must be divisible by options.numKVHeads \(4\)/,
  ],
  [
    'MultiHeadAttention key width',
    () => mha.forward(t([1, 3, 8]), t([1, 4, 5])),
    'SHAPE_MISMATCH',
    /key must be \[1, Lk, 8\] \(as query \[1, 3, 8\]\), got \[1, 4, 5\]/,
  ],
  [
    'MultiHeadAttention padding mask',
    () =>
      mha.forward(t([2, 3, 8]), undefined, undefined, {
        keyPaddingMask: { data: new Uint8Array(3), shape: [3] } as unknown as Tensor,
      }),
    'SHAPE_MISMATCH',
    /keyPaddingMask must be \[2, 3\], got \[3\]/,
  ],
  [
    'MultiHeadAttention state dict',
    () => MultiHeadAttention.fromStateDict({ 'out_proj.weight': t([4, 4]) }, { numHeads: 2 }),
    'BAD_ARGUMENT',
    /state dict is missing 'q_proj.weight'/,
  ],
  [
    'tensor dim past i32',
    () => tensor(new Float32Array(0), [0, 2 ** 31]),
    'BAD_ARGUMENT',
    /shape\[1\] is 2147483648, past 2\^31 − 1/,
  ],
  [
    'SelfAttention x shape',
    () => sa.forward(t([2, 3, 7])),
    'SHAPE_MISMATCH',
    /x must be \[batch, n, 8\] or \[n, 8\], got \[2, 3, 7\]/,
  ],
  [
    'SelfAttention mask',
    () => sa.forward(t([2, 3, 8]), { mask: createCausalMask(4) }),
    'SHAPE_MISMATCH',
    /options.mask.shape must be broadcastable to \[2, 3, 3\], got \[4, 4\]/,
  ],
];

describe('bad input', () => {
  for (const [what, call, code, message] of cases) {
    it(`${what}: ${code}`, () => {
      const before = usedBytes(engine);
      let thrown: unknown;
      try {
        call();
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(AttentionError);
      expect((thrown as AttentionError).code).toBe(code);
      expect((thrown as Error).message).toMatch(message);
      // Nothing leaked, and a valid call afterwards is right.
      expect(usedBytes(engine)).toBe(before);
      const r = scaledDotProductAttention(q, k, v, { returnWeights: true });
      expectClose('after error', r.output.data, refAttention(q, k, v).output.data, ATOL, RTOL);
    });
  }

  it('init with a wasm source of the wrong type is BAD_ARGUMENT, and the engine in use is untouched', async () => {
    const { init } = await import('../src/index.js');
    await expect(init({ wasm: 42 as never })).rejects.toMatchObject({
      code: 'BAD_ARGUMENT',
      message: /options.wasm must be a URL, a Response, the bytes or a WebAssembly.Module, got 42/,
    });
    const r = scaledDotProductAttention(q, k, v);
    expectClose('after', r.output.data, refAttention(q, k, v).output.data, ATOL, RTOL);
  });

  it('leaves no scratch behind', () => {
    // Modules constructed inside the cases above hold resident weights; count only scratch.
    const m = new SelfAttention(4);
    const resident = usedBytes(engine);
    expect(() => m.forward(t([2, 3, 5]))).toThrow(AttentionError);
    expect(usedBytes(engine)).toBe(resident);
    m.dispose();
  });
});
