// What the benchmarks time: each workload is one piece of work, the same for every engine that runs it.
import {
  type Build,
  createEngine,
  type Engine,
  MultiHeadAttention,
  type StateDict,
  matmul,
  matmulAsync,
  scaledDotProductAttention,
  scaledDotProductAttentionAsync,
  SelfAttention,
  initialSelfAttentionWeights,
} from '../src/index.js';
import { type Runtime, runtimeOf } from '../src/runtime/engine.js';
import { mulberry32, normal, uniform } from '../src/modules/random.js';
import { refAttention, refLinear, refMatmul, refMultiHead, refSelfAttention, refSoftmax } from '../src/reference.js';
import { decodeGraph, mhaGraph, type MhaWeights } from './models/graphs.js';
import { modelBytes } from './models/onnx-writer.js';
import { HEAD_DIM, modelFiles } from './models/make-models.js';
import { ortRunner } from './peers/onnxruntime.js';
import { tf, tfAttention, tfjsReady, tfRun } from './peers/tfjs.js';

/** One engine's way of doing a workload: returns its output (copied out of the engine, as a user gets it). */
export type Run = () => Float32Array | Promise<Float32Array> | void;

export interface EngineRun {
  engine: string;
  /** Which formulation or graph, where an engine has several. */
  variant?: string;
  run: Run;
  /** Ours: the same work through the async twin (the threads section times it too). */
  async?: Run;
  /** The output to compare, when `run` returns none (kernel suites time the kernel alone). */
  output?: () => Float32Array;
}

export interface Workload {
  name: string;
  suite: 'end-to-end' | 'kernels';
  /** Floating-point operations of the work (multiply and add counted apart; causal counts what is visible). */
  flops: number;
  /** Float64 reference for the rows compared; `rows` says which rows of the output those are. */
  reference: () => { data: Float64Array; fromRow: number; rowLength: number };
  engines: () => Promise<EngineRun[]>;
  /** Left out of --quick runs. */
  slow?: boolean;
}

const randn = (seed: number, n: number) => normal(mulberry32(seed), n);

/** Threads our runs use (the threads section makes each workload's runs once per count). */
let runThreads = 1;
export const useThreads = (threads: number): void => void (runThreads = threads);

/** Our engine on a build, by name (with its thread count past one). */
const ours = (build: Build) => `wasm-attention ${build}${runThreads > 1 ? `, ${runThreads} threads` : ''}`;

/**
 * The engines whose runs a workload sets up: one, by label (`engine (variant)`), those whose engine name passes a
 * test, or every one. bench/first-calls.ts times an engine's first calls in a process of its own, where the others'
 * setup (compiling their wasm, their sessions) would share the CPU with them; bench/threads.ts makes only the runs
 * it times.
 */
let only: string | ((engine: string) => boolean) | undefined;
export const setUpOnly = (which: typeof only): void => void (only = which);
const wanted = (engine: string, variant?: string) =>
  only === undefined ||
  (typeof only === 'function' ? only(engine) : only === (variant ? `${engine} (${variant})` : engine));

const engines = new Map<string, Engine>();
/** Makes one engine per build and thread count, once, before any workload runs. */
export async function makeEngines(builds: readonly Build[], threads: readonly number[] = [1]): Promise<void> {
  for (const build of builds)
    for (const t of threads) engines.set(`${build}/${t}`, await createEngine({ build, threads: t }));
}
/** The engine of a build at the current thread count: every run passes it to the ops as options.engine. */
export const engineOf = (build: Build): Engine => engines.get(`${build}/${runThreads}`)!;

function sdpaWorkload(
  n: number,
  causal: boolean,
  builds: Build[],
  opts: { slow?: boolean; peers?: boolean; jsReference?: boolean } = {},
): Workload {
  const d = HEAD_DIM;
  const [q, k, v] = [1, 2, 3].map((s) => randn(s, n * d));
  const visible = causal ? (n * (n + 1)) / 2 : n * n;
  // Long sequences compare their last 64 rows: with causal alignment at the bottom right they need no others.
  const refRows = opts.jsReference === false ? 64 : n;
  return {
    name: `SDPA ${n}×${d}${causal ? ' causal' : ''}`,
    suite: 'end-to-end',
    flops: 4 * visible * d,
    slow: opts.slow,
    reference: () => {
      const from = n - refRows;
      const r = refAttention(
        { data: q.subarray(from * d), shape: [refRows, d] },
        { data: k, shape: [n, d] },
        { data: v, shape: [n, d] },
        { causal },
      );
      return { data: r.output.data, fromRow: from, rowLength: d };
    },
    engines: async () => {
      // The engine is taken when the runs are made (the threads section makes them once per thread count).
      const runs: EngineRun[] = builds
        .filter((build) => wanted(ours(build)))
        .map((build) => {
          const engine = engineOf(build);
          const [tq, tk, tv] = [
            { data: q, shape: [n, d] },
            { data: k, shape: [n, d] },
            { data: v, shape: [n, d] },
          ];
          return {
            engine: ours(build),
            run: () => scaledDotProductAttention(tq, tk, tv, { causal, engine }).output.data,
            async: async () => (await scaledDotProductAttentionAsync(tq, tk, tv, { causal, engine })).output.data,
          };
        });
      if (opts.peers !== false && wanted('onnxruntime-web', 'opset-23 Attention')) {
        const attn = await ortRunner(modelFiles.attentionOp(n, causal), {
          Q: [1, 1, n, d],
          K: [1, 1, n, d],
          V: [1, 1, n, d],
        });
        runs.push({ engine: 'onnxruntime-web', variant: 'opset-23 Attention', run: () => attn([q, k, v]) });
      }
      if (opts.peers !== false && !causal && wanted('onnxruntime-web', 'MatMul/Softmax graph')) {
        const prim = await ortRunner(modelFiles.sdpa(n), { q: [1, n, d], k: [1, n, d], v: [1, n, d] });
        runs.push({ engine: 'onnxruntime-web', variant: 'MatMul/Softmax graph', run: () => prim([q, k, v]) });
      }
      if (opts.peers !== false && wanted('tfjs-wasm', 'matMul(q, transpose(k))')) {
        await tfjsReady();
        const mask = causal
          ? tf.tensor2d(
              Float32Array.from({ length: n * n }, (_, i) => (i % n > Math.floor(i / n) ? -Infinity : 0)),
              [n, n],
            )
          : undefined;
        runs.push({
          engine: 'tfjs-wasm',
          variant: 'matMul(q, transpose(k))',
          run: () =>
            tfRun(() =>
              tfAttention(
                tf.tensor2d(q, [n, d]),
                tf.tensor2d(k, [n, d]),
                tf.tensor2d(v, [n, d]),
                1 / Math.sqrt(d),
                mask,
              ),
            ),
        });
      }
      if (opts.jsReference !== false && wanted('plain JS')) {
        runs.push({
          engine: 'plain JS',
          run: () =>
            Float32Array.from(
              refAttention(
                { data: q, shape: [n, d] },
                { data: k, shape: [n, d] },
                { data: v, shape: [n, d] },
                { causal },
              ).output.data,
            ),
        });
      }
      return runs;
    },
  };
}

function matmulWorkload(n: number, builds: Build[], slow = false): Workload {
  const [a, b] = [4, 5].map((s) => randn(s, n * n));
  return {
    name: `matmul ${n}³`,
    suite: 'end-to-end',
    flops: 2 * n ** 3,
    slow,
    reference: () => ({
      data: refMatmul({ data: a, shape: [n, n] }, { data: b, shape: [n, n] }).data,
      fromRow: 0,
      rowLength: n,
    }),
    engines: async () => {
      const runs: EngineRun[] = builds
        .filter((build) => wanted(ours(build)))
        .map((build) => {
          const engine = engineOf(build);
          const [ta, tb] = [
            { data: a, shape: [n, n] },
            { data: b, shape: [n, n] },
          ];
          return {
            engine: ours(build),
            run: () => matmul(ta, tb, { engine }).data,
            async: async () => (await matmulAsync(ta, tb, { engine })).data,
          };
        });
      if (wanted('onnxruntime-web', 'MatMul')) {
        const ort = await ortRunner(modelFiles.matmul(n), { a: [n, n], b: [n, n] });
        runs.push({ engine: 'onnxruntime-web', variant: 'MatMul', run: () => ort([a, b]) });
      }
      if (wanted('tfjs-wasm', 'matMul')) {
        await tfjsReady();
        runs.push({
          engine: 'tfjs-wasm',
          variant: 'matMul',
          run: () => tfRun(() => tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n]))),
        });
      }
      if (n <= 512 && wanted('plain JS'))
        runs.push({
          engine: 'plain JS',
          run: () => Float32Array.from(refMatmul({ data: a, shape: [n, n] }, { data: b, shape: [n, n] }).data),
        });
      return runs;
    },
  };
}

/** The seed's module, returning output and weights (as the seed does); weights resident in every engine. */
function moduleWorkload(batch: number, n: number, E: number, builds: Build[]): Workload {
  const x = randn(6, batch * n * E);
  const sd = initialSelfAttentionWeights(E, 0);
  return {
    name: `SelfAttention ${batch}×${n}×${E}`,
    suite: 'end-to-end',
    flops: batch * (2 * n * E * 3 * E + 4 * n * n * E),
    reference: () => ({
      data: refSelfAttention(sd, { data: x, shape: [batch, n, E] }).output.data,
      fromRow: 0,
      rowLength: E,
    }),
    engines: async () => {
      const runs: EngineRun[] = builds.map((build) => {
        const mod = new SelfAttention(E, { weights: sd, engine: engineOf(build) });
        return { engine: ours(build), run: () => mod.forward({ data: x, shape: [batch, n, E] }).output.data };
      });
      const ort = await ortRunner(modelFiles.selfAttention(batch, n, E), { x: [batch, n, E] });
      runs.push({ engine: 'onnxruntime-web', variant: 'fused-QKV MatMul graph', run: () => ort([x]) });
      await tfjsReady();
      const wqkv = tf.tensor2d(
        Float32Array.from({ length: E * 3 * E }, (_, i) => {
          const [row, col] = [Math.floor(i / (3 * E)), i % (3 * E)];
          const p = ['W_q', 'W_k', 'W_v'][Math.floor(col / E)];
          return sd[`${p}.weight`].data[(col % E) * E + row];
        }),
        [E, 3 * E],
      );
      const bqkv = tf.tensor1d(
        Float32Array.from([...sd['W_q.bias'].data, ...sd['W_k.bias'].data, ...sd['W_v.bias'].data]),
      );
      runs.push({
        engine: 'tfjs-wasm',
        variant: 'fused-QKV matMul',
        run: () =>
          tfRun(() => {
            const qkv = tf.add(tf.matMul(tf.tensor2d(x, [batch * n, E]), wqkv), bqkv);
            const [q, k, v] = tf.split(tf.reshape(qkv, [batch, n, 3 * E]), 3, 2);
            const out = [...Array(batch).keys()].map((bi) => {
              const take = (t: tf.Tensor) => tf.reshape(tf.slice(t, [bi, 0, 0], [1, n, E]), [n, E]);
              const s = tf.mul(tf.matMul(take(q), tf.transpose(take(k))), 1 / Math.sqrt(E));
              const w = tf.softmax(s);
              w.dataSync(); // the weights are returned too
              return tf.matMul(w, take(v));
            });
            return tf.concat(out);
          }),
      });
      runs.push({
        engine: 'plain JS',
        run: () => Float32Array.from(refSelfAttention(sd, { data: x, shape: [batch, n, E] }).output.data),
      });
      return runs;
    },
  };
}

/**
 * A kernel alone on operands already in linear memory (allocated here and kept for the whole run), so the
 * time is arithmetic, not copies. `call` runs the kernel; the output is read back only for the check.
 */
function kernelWorkload(
  name: string,
  flops: number,
  inputs: Float32Array[],
  outFloats: number,
  scratchFloats: (e: Runtime) => number,
  call: (e: Runtime, ptrs: number[], out: number, scratch: number) => void,
  reference: () => Float64Array,
  rowLength: number,
  builds: Build[],
): Workload {
  return {
    name,
    suite: 'kernels',
    flops,
    reference: () => ({ data: reference(), fromRow: 0, rowLength }),
    engines: async () =>
      builds.map((build) => {
        const e = runtimeOf(engineOf(build));
        const ptrs = inputs.map((x) => {
          const p = e.heap.alloc(x.length * 4);
          e.heap.write(p, { data: x });
          return p;
        });
        const out = e.heap.alloc(outFloats * 4);
        const scratch = e.heap.alloc(Math.max(4, scratchFloats(e) * 4));
        return {
          engine: ours(build),
          run: () => call(e, ptrs, out, scratch),
          output: () => e.heap.readF32(out, outFloats),
        };
      }),
  };
}

function kernelWorkloads(builds: Build[]): Workload[] {
  const n = 512;
  const d = HEAD_DIM;
  const [q, k] = [7, 8].map((s) => randn(s, n * d));
  const p = Float32Array.from(randn(9, n * n), Math.abs);
  const scores = Float32Array.from(randn(10, n * n), (x) => 4 * x);
  const expIn = Float32Array.from(randn(11, 1 << 20), (x) => -Math.abs(8 * x));
  return [
    kernelWorkload(
      `f32_gemm Q·Kᵀ ${n}×${n}×${d}`,
      2 * n * n * d,
      [q, k],
      n * n,
      (e) => e.kernels.f32_gemm_scratch_floats(n, n, d),
      (e, [pq, pk], out, scratch) => e.kernels.f32_gemm(1, n, n, d, pq, d, 0, pk, d, 0, true, out, n, 0, 1, 0, scratch),
      () => refMatmul({ data: q, shape: [n, d] }, { data: k, shape: [n, d] }, true).data,
      n,
      builds,
    ),
    kernelWorkload(
      `f32_gemm P·V ${n}×${d}×${n}`,
      2 * n * n * d,
      [p, k],
      n * d,
      (e) => e.kernels.f32_gemm_scratch_floats(n, d, n),
      (e, [pp, pv], out, scratch) =>
        e.kernels.f32_gemm(1, n, d, n, pp, n, 0, pv, d, 0, false, out, d, 0, 1, 0, scratch),
      () => refMatmul({ data: p, shape: [n, n] }, { data: k.subarray(0, n * d), shape: [n, d] }).data,
      d,
      builds,
    ),
    kernelWorkload(
      `f32_softmax_rows ${n}×${n}`,
      0,
      [scores],
      n * n,
      () => 0,
      (e, [ps], out) => e.kernels.f32_softmax_rows(n, n, ps, n, out, n, 0.125, 0, 0, 0, 0, n),
      () => refSoftmax({ data: Float64Array.from(scores, (x) => Math.fround(x * 0.125)), shape: [n, n] }).data,
      n,
      builds,
    ),
    kernelWorkload(
      'f32_exp 2^20',
      0,
      [expIn],
      expIn.length,
      () => 0,
      (e, [px], out) => e.kernels.f32_exp(expIn.length, px, out),
      () => Float64Array.from(expIn, Math.exp),
      1024,
      builds,
    ),
  ];
}

/** Seeded multi-head weights, nn.Linear layout, scaled like PyTorch's initialisation. */
export function mhaWeights(seed: number, E: number, kvDim: number): MhaWeights {
  const next = mulberry32(seed);
  const w = (out: number, inF: number) => uniform(next, out * inF, 1 / Math.sqrt(inF));
  const b = (n: number) => uniform(next, n, 0.02);
  return { wq: w(E, E), bq: b(E), wk: w(kvDim, E), bk: b(kvDim), wv: w(kvDim, E), bv: b(kvDim), wo: w(E, E), bo: b(E) };
}

export function mhaStateDict(w: MhaWeights, E: number, kvDim: number): StateDict {
  const t = (data: Float32Array, shape: number[]) => ({ data, shape });
  return {
    'q_proj.weight': t(w.wq, [E, E]),
    'q_proj.bias': t(w.bq, [E]),
    'k_proj.weight': t(w.wk, [kvDim, E]),
    'k_proj.bias': t(w.bk, [kvDim]),
    'v_proj.weight': t(w.wv, [kvDim, E]),
    'v_proj.bias': t(w.bv, [kvDim]),
    'out_proj.weight': t(w.wo, [E, E]),
    'out_proj.bias': t(w.bo, [E]),
  };
}

const refWeights = (w: MhaWeights, E: number, kvDim: number) => {
  const t = (data: Float32Array, shape: number[]) => ({ data, shape });
  return {
    wq: t(w.wq, [E, E]),
    bq: t(w.bq, [E]),
    wk: t(w.wk, [kvDim, E]),
    bk: t(w.bk, [kvDim]),
    wv: t(w.wv, [kvDim, E]),
    bv: t(w.bv, [kvDim]),
    wo: t(w.wo, [E, E]),
    bo: t(w.bo, [E]),
  };
};

/** BERT-base self-attention (E 768, 12 heads): projections, heads, output projection; no weights returned. */
function bertWorkload(L: number, builds: Build[], slow = false): Workload {
  const [E, H] = [768, 12];
  const w = mhaWeights(21, E, E);
  const x = randn(22, L * E);
  return {
    name: `MultiHeadAttention ${L}×${E}, ${H} heads`,
    suite: 'end-to-end',
    flops: 8 * L * E * E + 4 * L * L * E,
    slow,
    reference: () => ({
      data: refMultiHead(
        refWeights(w, E, E),
        { data: x, shape: [1, L, E] },
        { data: x, shape: [1, L, E] },
        { data: x, shape: [1, L, E] },
        { numHeads: H },
      ).output.data,
      fromRow: 0,
      rowLength: E,
    }),
    engines: async () => {
      const runs: EngineRun[] = builds
        .filter((build) => wanted(ours(build)))
        .map((build) => {
          const m = MultiHeadAttention.fromStateDict(mhaStateDict(w, E, E), { numHeads: H, engine: engineOf(build) });
          const xt = { data: x, shape: [1, L, E] };
          return {
            engine: ours(build),
            run: () => m.forward(xt, xt, xt, { needWeights: false }).output.data,
            async: async () => (await m.forwardAsync(xt, xt, xt, { needWeights: false })).output.data,
          };
        });
      const variants = {
        packed: 'com.microsoft Attention, packed QKV',
        contrib: 'com.microsoft MultiHeadAttention',
        opset23: 'opset-23 Attention',
      } as const;
      for (const op of ['packed', 'contrib', 'opset23'] as const) {
        if (!wanted('onnxruntime-web', variants[op])) continue;
        const ort = await ortRunner(modelBytes(mhaGraph(1, L, E, H, w, op)), { x: [1, L, E] });
        runs.push({ engine: 'onnxruntime-web', variant: variants[op], run: () => ort([x]) });
      }
      return runs;
    },
  };
}

/**
 * One decoding step after `P` cached tokens (E 768, 12 query heads, `Hkv` kv heads): project the new token,
 * attend over the cache, project out. Ours appends to its KV cache (rewound after each step); onnxruntime-web
 * takes past keys/values in and hands present ones back (its past/present path).
 */
function decodeWorkload(P: number, Hkv: number, builds: Build[]): Workload {
  const [E, H] = [768, 12];
  const hd = E / H;
  const kvDim = Hkv * hd;
  const w = mhaWeights(31 + Hkv, E, kvDim);
  const prompt = randn(32, P * E);
  const x1 = randn(33, E);
  const seq = new Float32Array((P + 1) * E);
  seq.set(prompt);
  seq.set(x1, P * E);
  return {
    name: `decode step, ${P} cached, ${H} heads${Hkv < H ? `, ${Hkv} kv heads` : ''}`,
    suite: 'end-to-end',
    flops: 2 * E * (2 * E + 2 * kvDim) + 4 * (P + 1) * E,
    reference: () => ({
      data: refMultiHead(
        refWeights(w, E, kvDim),
        { data: x1, shape: [1, 1, E] },
        { data: seq, shape: [1, P + 1, E] },
        { data: seq, shape: [1, P + 1, E] },
        { numHeads: H, numKVHeads: Hkv },
      ).output.data,
      fromRow: 0,
      rowLength: E,
    }),
    engines: async () => {
      const runs: EngineRun[] = builds
        .filter((build) => wanted(ours(build)))
        .map((build) => {
          const m = MultiHeadAttention.fromStateDict(mhaStateDict(w, E, kvDim), {
            numHeads: H,
            numKVHeads: Hkv,
            engine: engineOf(build),
          });
          const cache = m.createCache({ batch: 1, maxLength: P + 1 });
          m.forwardStep({ data: prompt, shape: [1, P, E] }, cache, { needWeights: false });
          const xt = { data: x1, shape: [1, 1, E] };
          return {
            engine: ours(build),
            run: () => {
              const out = m.forwardStep(xt, cache, { needWeights: false }).output.data;
              cache.truncate(P);
              return out;
            },
            async: async () => {
              const out = (await m.forwardStepAsync(xt, cache, { needWeights: false })).output.data;
              cache.truncate(P);
              return out;
            },
          };
        });
      // Past keys and values of the prompt, [1, Hkv, P, hd], as onnxruntime wants them.
      const toHeads = (flat: Float64Array) => {
        const out = new Float32Array(P * kvDim);
        for (let p = 0; p < P; p++)
          for (let g = 0; g < Hkv; g++)
            for (let c = 0; c < hd; c++) out[(g * P + p) * hd + c] = flat[p * kvDim + g * hd + c];
        return out;
      };
      const promptT = { data: prompt, shape: [P, E] };
      const pastK = toHeads(refLinear(promptT, { data: w.wk, shape: [kvDim, E] }, { data: w.bk, shape: [kvDim] }).data);
      const pastV = toHeads(refLinear(promptT, { data: w.wv, shape: [kvDim, E] }, { data: w.bv, shape: [kvDim] }).data);
      if (!wanted('onnxruntime-web', 'opset-23 Attention, past/present')) return runs;
      const ort = await ortRunner(modelBytes(decodeGraph(1, P, E, H, Hkv, w)), {
        x: [1, 1, E],
        past_key: [1, Hkv, P, hd],
        past_value: [1, Hkv, P, hd],
      });
      runs.push({
        engine: 'onnxruntime-web',
        variant: 'opset-23 Attention, past/present',
        run: () => ort([x1, pastK, pastV]),
      });

      return runs;
    },
  };
}

/** The workloads of the threads section (bench/threads.ts) and of its 2-core ceilings (bench/pairs.ts). */
export const THREADS_WORKLOADS = [
  'SDPA 512×64',
  'SDPA 2048×64',
  'MultiHeadAttention 512×768, 12 heads',
  'matmul 1024³',
  'decode step, 1024 cached, 12 heads',
  'decode step, 1024 cached, 12 heads, 4 kv heads',
];

export function workloads(builds: Build[]): Workload[] {
  return [
    ...kernelWorkloads(builds),
    moduleWorkload(2, 10, 64, builds),
    sdpaWorkload(512, false, builds),
    sdpaWorkload(512, true, builds),
    sdpaWorkload(2048, false, builds, { slow: true, jsReference: false }),
    sdpaWorkload(2048, true, builds, { slow: true, jsReference: false }),
    moduleWorkload(1, 512, 256, builds),
    matmulWorkload(512, builds),
    matmulWorkload(1024, builds, true),
    bertWorkload(128, builds),
    bertWorkload(512, builds, true),
    decodeWorkload(1024, 12, builds),
    decodeWorkload(1024, 4, builds),
    sdpaWorkload(16384, true, builds, { slow: true, peers: false, jsReference: false }),
  ];
}
