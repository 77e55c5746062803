// Calls of every kind interleaved at random on an engine of threads (either pool): sync calls while async ones are
// pending, bad calls between them, resizes, one KV cache fed by sync and async steps alike. Each result is bit for bit
// what the same calls give, one after another, on an engine of one thread; a bad call changes nothing.
import { expect } from 'vitest';
import {
  createEngine,
  type Engine,
  linear,
  linearAsync,
  matmul,
  matmulAsync,
  MultiHeadAttention,
  scaledDotProductAttention,
  scaledDotProductAttentionAsync,
  type Tensor,
} from '../../src/index.js';
import { runtimeOf } from '../../src/runtime/engine.js';
import { mulberry32 } from '../../src/modules/random.js';
import { BUILD, randomTensor, usedBytes } from '../helpers.js';

/** A call's results as the test compares them: every array it returned, in order. */
type Results = Float32Array[];

/** One call, made the same way on both engines; `mode` picks the sync call or its async twin. */
type Call = (
  engine: Engine,
  mha: MultiHeadAttention,
  cache: Cache,
  mode: 'sync' | 'async',
) => Results | Promise<Results>;
type Cache = ReturnType<MultiHeadAttention['createCache']>;

const E = 48;
const HEADS = 4;
const MAX_TOKENS = 48;

/** Same bits, NaN included. */
const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
const sameBits = (a: Float32Array, b: Float32Array) => {
  const [x, y] = [bits(a), bits(b)];
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

/** An attention call's arrays: its output, and its weights where it returned them. */
const arrays = (r: { output: Tensor; weights?: Tensor }): Results => [
  r.output.data,
  ...(r.weights ? [r.weights.data] : []),
];

function randomCall(rand: () => number, seed: number, cacheLength: number): { call: Call; name: string } | undefined {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  // From calls too small to share to ones the threads share (the tests' engines share small calls too).
  const n = pick([1, 3, 17, 64, 130]);
  const d = pick([8, 24, 64]);
  switch (pick(['sdpa', 'matmul', 'linear', 'forward', 'step'] as const)) {
    case 'sdpa': {
      const [q, k, v] = [0, 1, 2].map((i) => randomTensor(seed + i, [2, n, d]));
      const causal = rand() < 0.5;
      const returnWeights = rand() < 0.5;
      return {
        name: `SDPA ${n}×${d} causal ${causal} weights ${returnWeights}`,
        call: (engine, _m, _c, mode) => {
          const opts = { causal, returnWeights, engine };
          return mode === 'sync'
            ? arrays(scaledDotProductAttention(q, k, v, opts))
            : scaledDotProductAttentionAsync(q, k, v, opts).then(arrays);
        },
      };
    }
    case 'matmul': {
      const [a, b] = [randomTensor(seed, [n, d]), randomTensor(seed + 1, [n + 5, d])];
      return {
        name: `matmul ${n}×${d}·(${n + 5}×${d})ᵀ`,
        call: (engine, _m, _c, mode) =>
          mode === 'sync'
            ? [matmul(a, b, { transposeB: true, engine }).data]
            : matmulAsync(a, b, { transposeB: true, engine }).then((r) => [r.data]),
      };
    }
    case 'linear': {
      const [x, w, b] = [randomTensor(seed, [n, d]), randomTensor(seed + 1, [33, d]), randomTensor(seed + 2, [33])];
      return {
        name: `linear ${n}×${d} → 33`,
        call: (engine, _m, _c, mode) =>
          mode === 'sync' ? [linear(x, w, b, { engine }).data] : linearAsync(x, w, b, { engine }).then((r) => [r.data]),
      };
    }
    case 'forward': {
      const x = randomTensor(seed, [1, n, E]);
      const needWeights = rand() < 0.5;
      return {
        name: `MultiHeadAttention.forward ${n} tokens, weights ${needWeights}`,
        call: (_e, m, _c, mode) => {
          return mode === 'sync'
            ? arrays(m.forward(x, x, x, { causal: true, needWeights }))
            : m.forwardAsync(x, x, x, { causal: true, needWeights }).then(arrays);
        },
      };
    }
    case 'step': {
      const t = Math.min(pick([1, 1, 2, 5]), MAX_TOKENS - cacheLength);
      if (t <= 0) return undefined;
      const x = randomTensor(seed, [1, t, E]);
      const needWeights = rand() < 0.3;
      return {
        name: `forwardStep ${t} tokens after ${cacheLength}, weights ${needWeights}`,
        call: (_e, m, cache, mode) => {
          return mode === 'sync'
            ? arrays(m.forwardStep(x, cache, { needWeights }))
            : m.forwardStepAsync(x, cache, { needWeights }).then(arrays);
        },
      };
    }
  }
}

/** A call the checks refuse: shapes that do not fit, on each of the op kinds. */
function badCall(rand: () => number, seed: number): Call {
  const x = randomTensor(seed, [5, 8]);
  const y = randomTensor(seed + 1, [6, 9]);
  const token = randomTensor(seed + 2, [1, 1, E + 1]);
  switch (Math.floor(rand() * 3)) {
    case 0:
      return (engine, _m, _c, mode) =>
        mode === 'sync'
          ? (scaledDotProductAttention(x, y, y, { engine }), [])
          : scaledDotProductAttentionAsync(x, y, y, { engine }).then(() => []);
    case 1:
      return (engine, _m, _c, mode) =>
        mode === 'sync' ? (matmul(x, y, { engine }), []) : matmulAsync(x, y, { engine }).then(() => []);
    default:
      return (_e, m, cache, mode) =>
        mode === 'sync' ? (m.forwardStep(token, cache), []) : m.forwardStepAsync(token, cache).then(() => []);
  }
}

/** What a run did, so that a test can tell it really mixed them. */
export interface Mix {
  async: number;
  sync: number;
  bad: number;
  resizes: number;
  sharedUnits: number;
}

/**
 * 250 calls chosen by `seed` on `many` (an engine of 2 threads that shares small calls), resized now and then to 1 to
 * `maxThreads` threads, each compared with the same call on an engine of one thread. Where sync calls cannot wait for
 * pending async ones (worker mode), `syncWaits` false: the async calls are awaited before a sync step of the cache.
 */
export async function interleave(seed: number, many: Engine, maxThreads: number, syncWaits: boolean): Promise<Mix> {
  const rand = mulberry32(seed);
  const one = await createEngine({ build: BUILD, threads: 1 });
  const pool = runtimeOf(many).pool!;
  const [m1, mN] = [one, many].map((engine) => new MultiHeadAttention(E, HEADS, { numKVHeads: 2, seed, engine }));
  const [c1, cN] = [m1, mN].map((m) => m.createCache({ batch: 1, maxLength: MAX_TOKENS }));
  const pending: Array<Promise<void>> = [];
  const failures: string[] = [];
  const mix: Mix = { async: 0, sync: 0, bad: 0, resizes: 0, sharedUnits: 0 };
  const unitsBefore = pool.workerUnits;
  const compare = (name: string, got: Results, want: Results) => {
    const same = got.length === want.length && got.every((g, i) => sameBits(g, want[i]));
    if (!same) failures.push(name);
  };
  for (let i = 0; i < 250; i++) {
    const r = rand();
    if (r < 0.1) {
      pool.resize(1 + Math.floor(rand() * maxThreads));
      mix.resizes++;
    } else if (r < 0.2) {
      // A bad call, sync or async: it throws or rejects AttentionError, and what comes after is as if it never was.
      const call = badCall(rand, 1000 + i);
      const async = rand() < 0.5;
      mix.bad++;
      const outcome = (async () => call(many, mN, cN, async ? 'async' : 'sync'))().then(
        () => failures.push(`bad call ${i} succeeded`),
        (e: unknown) => {
          if ((e as Error).name !== 'AttentionError') failures.push(`bad call ${i} threw ${String(e)}`);
        },
      );
      pending.push(outcome.then(() => {}));
    } else if (r < 0.3 && pending.length > 0) {
      await pending.splice(0, Math.ceil(rand() * pending.length)).reduce((a, p) => a.then(() => p), Promise.resolve());
    } else {
      if (c1.length + 5 > MAX_TOKENS && rand() < 0.5) {
        // A cache is reset once the calls that feed it are done.
        await Promise.all(pending.splice(0));
        c1.reset();
        cN.reset();
      }
      const made = randomCall(rand, 100 * i, c1.length);
      if (!made) continue;
      const want = await made.call(one, m1, c1, 'sync');
      const name = `call ${i}: ${made.name}`;
      const async = rand() < 0.6;
      if (!async && !syncWaits && made.name.startsWith('forwardStep')) await Promise.all(pending.splice(0));
      if (async) {
        mix.async++;
        pending.push(Promise.resolve(made.call(many, mN, cN, 'async')).then((got) => compare(name, got, want)));
      } else {
        mix.sync++;
        compare(name, (await made.call(many, mN, cN, 'sync')) as Results, want);
      }
      expect(cN.length, `after ${name}`).toBe(c1.length);
    }
  }
  await Promise.all(pending);
  expect(failures).toEqual([]);
  for (const x of [c1, cN, m1, mN]) x.dispose();
  expect(usedBytes(many)).toBe(0);
  mix.sharedUnits = pool.workerUnits - unitsBefore;
  one.close();
  many.close();
  return mix;
}
