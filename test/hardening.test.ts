// No call touches memory that is not its own, whatever the caller passes or does meanwhile: each class of
// hostile input the hardening issue reproduced, then a fuzz run that drives every entry point with such input
// and checks after each that a canary module's outputs are bit-for-bit unchanged and a valid call is right.
// CI runs a bounded count; `npm run fuzz` runs thousands (FUZZ_RUNS).
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AttentionError,
  createCausalMask,
  type Engine,
  KVCache,
  linear,
  matmul,
  MultiHeadAttention,
  scaledDotProductAttention,
  SelfAttention,
  softmax,
  tensor,
  type Tensor,
} from '../src/index.js';
import { heatmap } from '../src/heatmap.js';
import { refAttention } from '../src/reference.js';
import { expectAttentionError, expectClose, initBuild, randomTensor, usedBytes, ATOL, RTOL } from './helpers.js';

let engine: Engine;
let canary: MultiHeadAttention;
const canaryX = randomTensor(100, [2, 5, 16]);
let canaryOut: Float32Array;

beforeAll(async () => {
  engine = await initBuild();
  canary = new MultiHeadAttention(16, 4, { seed: 7 });
  canaryOut = canary.forward(canaryX).output.data;
});

/** The canary module computes exactly what it did before, and a valid call is right. */
function expectIntact(): void {
  expect(canary.forward(canaryX).output.data).toEqual(canaryOut);
  const q = randomTensor(1, [3, 8]);
  const k = randomTensor(2, [5, 8]);
  expectClose(
    'after',
    scaledDotProductAttention(q, k, k, { causal: true }).output.data,
    refAttention(q, k, k, { causal: true }).output.data,
    ATOL,
    RTOL,
  );
}

afterEach(() => expectIntact());

/** A resizable ArrayBuffer (ES2024; this project's lib types stop at ES2022). */
const resizable = (bytes: number, max: number) =>
  new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer & { resize(n: number): void })(bytes, {
    maxByteLength: max,
  });

/** A tensor whose data and shape are getters that count their reads. */
function counted(t: Tensor) {
  const reads = { data: 0, shape: 0 };
  const obj = {
    get data() {
      reads.data++;
      return reads.data === 1 ? t.data : new Float32Array(t.data.length * 4);
    },
    get shape() {
      reads.shape++;
      return reads.shape === 1 ? t.shape : t.shape.map((d) => d * 2);
    },
  };
  return { obj: obj as unknown as Tensor, reads };
}

describe('sizes near 2^31', () => {
  it('empty tensors whose other dimension is near 2^31 give empty results and touch no memory', () => {
    const big = 2 ** 31 - 1;
    const r = scaledDotProductAttention(
      tensor(new Float32Array(0), [2, 0]),
      tensor(new Float32Array(0), [big, 0]),
      tensor(new Float32Array(0), [big, 0]),
    );
    expect(r.output.shape).toEqual([2, 0]);
    expect(matmul(tensor(new Float32Array(0), [0, 0]), tensor(new Float32Array(0), [0, big])).shape).toEqual([0, big]);
    expect(linear(tensor(new Float32Array(0), [0, 0]), tensor(new Float32Array(0), [big, 0])).shape).toEqual([0, big]);
    expect(usedBytes(engine)).toBeGreaterThan(0); // the canary's weights, and nothing else
  });

  it('a non-empty result too big for memory is OUT_OF_MEMORY before anything is allocated', () => {
    const used = usedBytes(engine);
    expectAttentionError(
      () => linear(tensor(new Float32Array(0), [1, 0]), tensor(new Float32Array(0), [2 ** 31 - 1, 0])),
      'OUT_OF_MEMORY',
      /needs \d+ bytes/,
    );
    expectAttentionError(
      () =>
        scaledDotProductAttention(
          tensor(new Float32Array(0), [2 ** 20, 0]),
          tensor(new Float32Array(0), [2 ** 20, 0]),
          tensor(new Float32Array(2 ** 20), [2 ** 20, 1]),
          { returnWeights: true },
        ),
      'OUT_OF_MEMORY',
      /needs \d+ bytes/,
    );
    expect(usedBytes(engine)).toBe(used);
  });

  it('createCausalMask and modules too big for memory are OUT_OF_MEMORY, not a RangeError', () => {
    expectAttentionError(
      () => createCausalMask(2 ** 17),
      'OUT_OF_MEMORY',
      /createCausalMask\(131072\) needs 68719476736 bytes/,
    );
    expectAttentionError(() => new SelfAttention(2 ** 17), 'OUT_OF_MEMORY', /needs \d+ bytes/);
    expectAttentionError(() => new MultiHeadAttention(2 ** 16, 1), 'OUT_OF_MEMORY', /needs \d+ bytes/);
  });

  it('a rank past 64 is refused at once; rank 64 works', () => {
    const t0 = performance.now();
    expectAttentionError(
      () => softmax({ data: new Float32Array(1), shape: new Array(16000).fill(1) }),
      'BAD_ARGUMENT',
      /x.shape has 16000 dimensions, past 64/,
    );
    expect(performance.now() - t0).toBeLessThan(1000);
    const one = tensor(new Float32Array([2]), new Array(64).fill(1));
    expect(scaledDotProductAttention(one, one, one).output.data).toEqual(new Float32Array([2]));
  });
});

describe('arguments are read once', () => {
  it('getters on tensors run once each, and later reads (which would change them) never happen', () => {
    const q = counted(randomTensor(1, [2, 4, 8]));
    const k = counted(randomTensor(2, [2, 6, 8]));
    const v = counted(randomTensor(3, [2, 6, 5]));
    const got = scaledDotProductAttention(q.obj, k.obj, v.obj, { returnWeights: true });
    for (const c of [q, k, v]) expect(c.reads).toEqual({ data: 1, shape: 1 });
    expect(got.output.shape).toEqual([2, 4, 5]);
    expectClose(
      'output',
      got.output.data,
      refAttention(randomTensor(1, [2, 4, 8]), randomTensor(2, [2, 6, 8]), randomTensor(3, [2, 6, 5])).output.data,
      ATOL,
      RTOL,
    );
  });

  it('a shape grown by an option getter after it was read changes nothing', () => {
    const m = new SelfAttention(8);
    const x = randomTensor(4, [2, 3, 8]);
    const shape = [2, 3, 8];
    const want = m.forward(x, { causal: true }).output.data;
    const got = m.forward(
      { data: x.data, shape },
      {
        get causal() {
          shape[1] = 30;
          return true;
        },
      },
    );
    expect(got.output.shape).toEqual([2, 3, 8]);
    expect(got.output.data).toEqual(want);
    m.dispose();
  });

  it('a resizable buffer shrunk by an option getter fails the call before its data is copied', () => {
    const buffer = resizable(4 * 8 * 4, 4096);
    const q = new Float32Array(buffer); // length-tracking
    q.set(randomTensor(5, [4, 8]).data);
    const options = {
      get causal() {
        buffer.resize(8);
        return true;
      },
    };
    expectAttentionError(
      () =>
        scaledDotProductAttention(
          { data: q, shape: [4, 8] },
          randomTensor(6, [4, 8]),
          randomTensor(7, [4, 8]),
          options,
        ),
      'BAD_ARGUMENT',
      /q.data changed size during the call/,
    );
    // Grown instead: only the elements read at the entry are used.
    buffer.resize(4 * 8 * 4);
    q.set(randomTensor(5, [4, 8]).data);
    const grow = {
      get causal() {
        buffer.resize(4096);
        return false;
      },
    };
    const got = scaledDotProductAttention(
      { data: q, shape: [4, 8] },
      randomTensor(6, [4, 8]),
      randomTensor(7, [4, 8]),
      grow,
    );
    expectClose(
      'grown',
      got.output.data,
      refAttention(randomTensor(5, [4, 8]), randomTensor(6, [4, 8]), randomTensor(7, [4, 8])).output.data,
      ATOL,
      RTOL,
    );
  });

  it('a getter that throws, or a revoked proxy, gives BAD_ARGUMENT', () => {
    const throwing = {
      get data(): Float32Array {
        throw new RangeError('nope');
      },
      shape: [2, 2],
    };
    expectAttentionError(
      () => softmax(throwing as unknown as Tensor),
      'BAD_ARGUMENT',
      /reading x.data threw \(RangeError: nope\)/,
    );
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expectAttentionError(() => softmax(proxy as Tensor), 'BAD_ARGUMENT', /reading x.data threw/);
    expectAttentionError(() => softmax(randomTensor(1, [2, 2]), proxy as never), 'BAD_ARGUMENT', /reading options/);
  });

  it('a Float32Array of another realm, or of a subclass, is read as the plain array it is', () => {
    const foreign = runInNewContext('new Float32Array([1, 2, 3, 4])') as Float32Array;
    expect(foreign instanceof Float32Array).toBe(false);
    expectClose(
      'foreign',
      softmax({ data: foreign, shape: [2, 2] }).data,
      softmax(tensor(new Float32Array([1, 2, 3, 4]), [2, 2])).data,
      0,
      0,
    );
    class Sneaky extends Float32Array {}
    const s = new Sneaky([1, 2, 3, 4]);
    Object.defineProperty(s, 'length', { get: () => 1e9 });
    expectClose(
      'subclass',
      softmax({ data: s, shape: [2, 2] }).data,
      softmax(tensor(new Float32Array([1, 2, 3, 4]), [2, 2])).data,
      0,
      0,
    );
  });
});

describe('internals are private', () => {
  it('a KVCache cannot be made or moved by hand, and an engine shows no heap or kernels', () => {
    const m = new MultiHeadAttention(8, 2);
    const cache = m.createCache({ batch: 1, maxLength: 4 });
    for (const key of ['advance', 'reserve', 'ptr', 'owner', 'rowFloats']) expect(key in cache).toBe(false);
    for (const key of ['heap', 'kernels']) expect(key in engine).toBe(false);
    const Ctor = KVCache as unknown as new (...a: unknown[]) => KVCache;
    expectAttentionError(() => new Ctor(engine, m, 1, { batch: 1, maxLength: 1 }), 'BAD_ARGUMENT', /createCache/);
    // A look-alike object is no cache.
    expectAttentionError(
      () => m.forwardStep(randomTensor(1, [1, 1, 8]), Object.create(KVCache.prototype)),
      'BAD_ARGUMENT',
      /cache must come from createCache/,
    );
    cache.dispose();
    m.dispose();
  });
});

describe('dispose during a call', () => {
  it('a getter that disposes the module or the cache fails the call with DISPOSED before memory is touched', () => {
    const m = new MultiHeadAttention(16, 4);
    const x = randomTensor(3, [1, 4, 16]);
    expectAttentionError(
      () =>
        m.forward(x, x, x, {
          get causal() {
            m.dispose();
            return true;
          },
        }),
      'DISPOSED',
      /MultiHeadAttention.forward: this module was disposed/,
    );
    // Its block is free again: a new module takes it, and the canary is untouched (checked after the test).
    const taker = new MultiHeadAttention(16, 4, { seed: 3 });
    const m2 = new MultiHeadAttention(16, 4);
    const cache = m2.createCache({ batch: 1, maxLength: 8 });
    expectAttentionError(
      () =>
        m2.forwardStep(randomTensor(4, [1, 2, 16]), cache, {
          get needWeights() {
            cache.dispose();
            return false;
          },
        }),
      'DISPOSED',
      /this KV cache was disposed/,
    );
    expect(taker.forward(x).output.data).toEqual(new MultiHeadAttention(16, 4, { seed: 3 }).forward(x).output.data);
    m2.dispose();
    taker.dispose();
  });
});

describe('float32 extremes on the fused path', () => {
  it("a padding mask of float32's lowest value gives mean(V) on both paths, as PyTorch does", () => {
    const m = new MultiHeadAttention(8, 2, { seed: 4 });
    const x = randomTensor(9, [2, 3, 8]);
    const pad = new Float32Array(6);
    pad.fill(-3.4028234663852886e38, 0, 3); // batch 0: every key padded the Hugging Face way
    const mask = { data: pad, shape: [2, 3] };
    const fused = m.forward(x, x, x, { keyPaddingMask: mask, needWeights: false }).output.data;
    const weighted = m.forward(x, x, x, { keyPaddingMask: mask, needWeights: true }).output.data;
    expectClose('fused vs weights path', fused, weighted, 1e-6, 1e-5);
    m.dispose();
  });

  it('finite scores near float32 max and a scale of 2.5e38 stay finite and agree across paths; scale 1e39 is refused', () => {
    const q = tensor(new Float32Array([1.6e19, 1, -1.6e19, 2]), [2, 2]);
    const k = tensor(new Float32Array([1.6e19, 0, 1, 1]), [2, 2]);
    const v = randomTensor(8, [2, 3]);
    for (const scale of [1, 2.5e38 / 2.56e38]) {
      const fused = scaledDotProductAttention(q, k, v, { scale });
      const weights = scaledDotProductAttention(q, k, v, { scale, returnWeights: true });
      expect(fused.output.data.every(Number.isFinite)).toBe(true);
      expectClose('paths', fused.output.data, weights.output.data, 1e-6, 1e-5);
    }
    // q·k₀ = 1, so the score is 2.5e38 (finite); q·k₁ = 0.
    const one = tensor(new Float32Array([1, 0]), [1, 2]);
    const big = scaledDotProductAttention(one, tensor(new Float32Array([1, 1, 0, 0]), [2, 2]), v, { scale: 2.5e38 });
    expectClose('scale 2.5e38', big.output.data, v.data.subarray(0, 3), 0, 0);
    expectAttentionError(
      () => scaledDotProductAttention(q, k, v, { scale: 1e39 }),
      'BAD_ARGUMENT',
      /options.scale must be a finite float32, got 1e\+39/,
    );
  });

  it('dk = 0 gives mean(V), as PyTorch does', () => {
    const v = randomTensor(2, [4, 3]);
    const got = scaledDotProductAttention(tensor(new Float32Array(0), [2, 0]), tensor(new Float32Array(0), [4, 0]), v);
    const mean = [0, 1, 2].map((c) => (v.data[c] + v.data[3 + c] + v.data[6 + c] + v.data[9 + c]) / 4);
    expectClose('dk 0', got.output.data, [...mean, ...mean], 1e-6, 1e-6);
  });
});

describe('options', () => {
  it('unknown keys are BAD_ARGUMENT naming the accepted ones, with the right name for PyTorch spellings', () => {
    const x = randomTensor(1, [3, 8]);
    const sa = new SelfAttention(8);
    const mha = new MultiHeadAttention(8, 2);
    expectAttentionError(
      () => sa.forward(x, { attnMask: createCausalMask(3) } as never),
      'BAD_ARGUMENT',
      /unknown key 'attnMask' \(did you mean 'mask'\?; a Uint8Array mask keeps where 1, an attnMask hides where 1\); accepted: mask, causal, returnWeights/,
    );
    expectAttentionError(
      () => mha.forward(x, x, x, { mask: createCausalMask(3) } as never),
      'BAD_ARGUMENT',
      /unknown key 'mask' \(did you mean 'attnMask'\?/,
    );
    expectAttentionError(
      () => scaledDotProductAttention(x, x, x, { casual: true } as never),
      'BAD_ARGUMENT',
      /unknown key 'casual'; accepted: scale, mask, causal, returnWeights, engine/,
    );
    expectAttentionError(
      () => scaledDotProductAttention(x, x, x, { is_causal: true } as never),
      'BAD_ARGUMENT',
      /did you mean 'causal'/,
    );
    expectAttentionError(
      () => mha.forward(x, x, x, { need_weights: false } as never),
      'BAD_ARGUMENT',
      /did you mean 'needWeights'/,
    );
    expectAttentionError(
      () => matmul(x, x, { transpose_b: true } as never),
      'BAD_ARGUMENT',
      /did you mean 'transposeB'/,
    );
    sa.dispose();
    mha.dispose();
  });

  it('options and state-dict keys are never read through the prototype chain', () => {
    const proto = Object.prototype as Record<string, unknown>;
    const q = randomTensor(1, [4, 8]);
    const sd = new SelfAttention(8, { seed: 2 });
    // The oracle reads its options plainly: take its answer before the pollution.
    const want = refAttention(q, q, q).output.data;
    try {
      proto.causal = true;
      proto['W_q.bias'] = randomTensor(3, [8]);
      expectClose('not causal', scaledDotProductAttention(q, q, q).output.data, want, ATOL, RTOL);
      const noBias = {
        'W_q.weight': randomTensor(1, [8, 8]),
        'W_k.weight': randomTensor(2, [8, 8]),
        'W_v.weight': randomTensor(3, [8, 8]),
      };
      expect(SelfAttention.fromStateDict(noBias).bias).toBe(false);
    } finally {
      delete proto.causal;
      delete proto['W_q.bias'];
      sd.dispose();
    }
  });
});

describe('heatmaps', () => {
  it('refuse huge cells and non-boolean flags, and show control characters in labels as �', () => {
    const w = tensor(new Float32Array([1, 0, 0.5, 0.5]), [2, 2]);
    expectAttentionError(
      () => heatmap(w, { cellWidth: 2 ** 30 }),
      'BAD_ARGUMENT',
      /cellWidth must be an integer from 1 to 64/,
    );
    expectAttentionError(
      () => heatmap(w, { perRow: 'no' as never }),
      'BAD_ARGUMENT',
      /perRow must be a boolean, got "no"/,
    );
    const drawn = heatmap(w, { rows: ['\u001b[31mred', 'ok'], cols: ['a', 'b'] });
    expect(drawn).not.toContain('\u001b');
    expect(drawn).toContain('\ufffd[31mred');
  });
});

/** A hostile variant of a valid argument: getters that change between reads, shrinking buffers, disposal. */
type Hostile = (t: Tensor, victim: { dispose(): void }) => unknown;
const hostile: Record<string, Hostile> = {
  changingGetters: (t) => counted(t).obj,
  resizableShrunkMidCall: (t) => {
    const buffer = resizable(t.data.byteLength, t.data.byteLength * 2 + 64);
    const data = new Float32Array(buffer);
    data.set(t.data);
    return {
      data,
      get shape() {
        buffer.resize(0);
        return t.shape;
      },
    };
  },
  disposingGetter: (t, victim) => ({
    get data() {
      victim.dispose();
      return t.data;
    },
    shape: t.shape,
  }),
  proxy: (t) =>
    new Proxy(
      { data: t.data, shape: [...t.shape] },
      { get: (o, k) => (k === 'shape' ? [...o.shape, 1].slice(0, o.shape.length) : Reflect.get(o, k)) },
    ),
  hugeEmpty: (t) => ({
    data: new Float32Array(0),
    shape: [...t.shape.slice(0, -1), 0].map((d, i) => (i === 0 && d !== 0 ? 2 ** 31 - 1 : d)),
  }),
  foreignRealm: (t) => ({ data: runInNewContext('(d) => new Float32Array(d)')(Array.from(t.data)), shape: t.shape }),
};

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
/** Keys set on Object.prototype during a run: options and state-dict names. */
const POLLUTED = [
  'causal',
  'returnWeights',
  'needWeights',
  'transposeB',
  'mask',
  'engine',
  'W_q.bias',
  'in_proj_bias',
  'data',
  'shape',
];

describe('fuzz: hostile input at every entry point', () => {
  it(`leaves a canary module bit-for-bit unchanged and the next call right (${RUNS} runs)`, () => {
    const calls: Array<(a: unknown, victim: { dispose(): void }, cache: KVCache) => unknown> = [
      (a) => scaledDotProductAttention(a as Tensor, randomTensor(1, [5, 8]), randomTensor(2, [5, 3])),
      (a) => scaledDotProductAttention(randomTensor(1, [4, 8]), a as Tensor, a as Tensor, { returnWeights: true }),
      (a) =>
        scaledDotProductAttention(randomTensor(1, [4, 8]), randomTensor(2, [4, 8]), randomTensor(3, [4, 8]), {
          mask: a as Tensor,
        }),
      (a) => matmul(a as Tensor, randomTensor(1, [8, 3])),
      (a) => linear(a as Tensor, randomTensor(1, [6, 8]), randomTensor(2, [6])),
      (a) => softmax(a as Tensor),
      (a, victim) => (victim as SelfAttention).forward?.(a as Tensor),
      (a, victim) => (victim as MultiHeadAttention).forward?.(a as Tensor),
      (a, victim, cache) => (victim as MultiHeadAttention).forwardStep?.(a as Tensor, cache),
      (a) =>
        new SelfAttention(8, {
          weights: {
            'W_q.weight': a,
            'W_k.weight': randomTensor(1, [8, 8]),
            'W_v.weight': randomTensor(2, [8, 8]),
          } as never,
        }),
      (a) =>
        MultiHeadAttention.fromStateDict({ in_proj_weight: a, 'out_proj.weight': randomTensor(1, [8, 8]) } as never, {
          numHeads: 2,
        }),
      (a) => tensor((a as Tensor).data, (a as Tensor).shape),
      (a) => heatmap(a as Tensor),
      (a, victim) =>
        (victim as SelfAttention).createCache?.({
          batch: 1,
          get maxLength() {
            return (a as Tensor).shape.length;
          },
        }),
    ];
    const shapes: number[][] = [
      [4, 8],
      [1, 4, 8],
      [2, 4, 8],
      [1, 1, 8],
      [8, 8],
    ];
    fc.assert(
      fc.property(
        fc.nat(calls.length - 1),
        fc.constantFrom(...Object.keys(hostile)),
        fc.nat(shapes.length - 1),
        fc.boolean(),
        (which, kind, s, pollute) => {
          const victim = which % 2 === 0 ? new SelfAttention(8) : new MultiHeadAttention(8, 2);
          const cache =
            victim instanceof MultiHeadAttention
              ? victim.createCache({ batch: shapes[s][0] === 2 ? 2 : 1, maxLength: 16 })
              : undefined;
          const arg = hostile[kind](randomTensor(which + s, shapes[s]), victim);
          const proto = Object.prototype as Record<string, unknown>;
          const polluted = POLLUTED[(which + s) % POLLUTED.length];
          if (pollute) proto[polluted] = true;
          try {
            const made = calls[which](arg, victim, cache as KVCache) as { dispose?: () => void } | undefined;
            made?.dispose?.();
          } catch (e) {
            if (!(e instanceof AttentionError)) throw new Error(`call ${which} with ${kind} threw ${String(e)}`);
          } finally {
            delete proto[polluted];
            cache?.dispose();
            victim.dispose();
          }
          expectIntact();
        },
      ),
      { seed: 1313, numRuns: RUNS },
    );
  });
});
