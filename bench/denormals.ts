// What inputs whose products fall below float32's normal range (subnormals) cost each engine: SDPA 512×64 on ordinary
// inputs; with sharp scores (q × 20: the softmax spans more than 2^-126, so some probability × value products are
// subnormal); with tiny values (v × 1e-36: most of those products are); and with tiny queries and keys (q, k × 1e-20:
// every product of the scores is). WebAssembly keeps subnormals (no flush to zero), and some x86 cores take a slow
// path for each one. All engines in this one process, taking turns after the same warm-up; medians.
// `node --import tsx bench/denormals.ts [rounds = 9]`
import { createEngine, scaledDotProductAttention } from '../src/index.js';
import { mulberry32, normal } from '../src/modules/random.js';
import { machine, median } from './report.js';
import { HEAD_DIM, modelFiles } from './models/make-models.js';
import { ortRunner } from './peers/onnxruntime.js';
import { tf, tfAttention, tfjsReady, tfRun } from './peers/tfjs.js';

const N = 512;
const D = HEAD_DIM;
const rounds = Number(process.argv[2] ?? 9);
const scaled = (seed: number, by: number) => normal(mulberry32(seed), N * D).map((x) => x * by);
const INPUTS: Record<string, [Float32Array, Float32Array, Float32Array]> = {
  ordinary: [scaled(1, 1), scaled(2, 1), scaled(3, 1)],
  'sharp scores (q × 20)': [scaled(1, 20), scaled(2, 1), scaled(3, 1)],
  'tiny values (v × 1e-36)': [scaled(1, 1), scaled(2, 1), scaled(3, 1e-36)],
  'tiny queries and keys (× 1e-20)': [scaled(1, 1e-20), scaled(2, 1e-20), scaled(3, 1)],
};

type Run = (q: Float32Array, k: Float32Array, v: Float32Array) => unknown;
const tensor = (data: Float32Array) => ({ data, shape: [N, D] });
const engine = await createEngine({ build: 'simd' });
const attn = await ortRunner(modelFiles.attentionOp(N, false), { Q: [1, 1, N, D], K: [1, 1, N, D], V: [1, 1, N, D] });
await tfjsReady();
const ENGINES: Record<string, Run> = {
  'wasm-attention simd': (q, k, v) => scaledDotProductAttention(tensor(q), tensor(k), tensor(v), { engine }),
  'wasm-attention simd, with weights': (q, k, v) =>
    scaledDotProductAttention(tensor(q), tensor(k), tensor(v), { engine, returnWeights: true }),
  'onnxruntime-web (opset-23 Attention)': (q, k, v) => attn([q, k, v]),
  'tfjs-wasm (matMul(q, transpose(k)))': (q, k, v) =>
    tfRun(() => tfAttention(tf.tensor2d(q, [N, D]), tf.tensor2d(k, [N, D]), tf.tensor2d(v, [N, D]), 1 / Math.sqrt(D))),
};

const cases = Object.entries(ENGINES).flatMap(([engineName, run]) =>
  Object.values(INPUTS).map(([q, k, v]) => ({ engineName, call: () => run(q, k, v) })),
);
for (const c of cases) {
  const t0 = performance.now();
  for (let i = 0; i < 5 || performance.now() - t0 < 500; i++) await c.call();
}
const samples = cases.map(() => [] as number[]);
for (let r = 0; r < rounds; r++) {
  for (const [i, c] of (r % 2 ? [...cases.entries()].reverse() : [...cases.entries()]).values()) {
    const t0 = performance.now();
    for (let j = 0; j < 3; j++) await c.call();
    samples[i].push((performance.now() - t0) / 3);
  }
}
const med = samples.map(median);
console.log(`SDPA ${N}×${D}, ms per call (${machine()}; medians of ${rounds} rounds)`);
console.log(`| engine | ${Object.keys(INPUTS).join(' | ')} |`);
console.log(`| --- |${' ---: |'.repeat(Object.keys(INPUTS).length)}`);
for (const name of Object.keys(ENGINES)) {
  const mine = cases.flatMap((c, i) => (c.engineName === name ? [med[i]] : []));
  console.log(
    `| ${name} | ${mine.map((ms, i) => (i ? `${ms.toFixed(2)} (${(ms / mine[0]).toFixed(1)}×)` : ms.toFixed(2))).join(' | ')} |`,
  );
}
