// A/B timing of the fused attention kernel between two builds of the wasm, for kernel work:
//   npx asc assembly/index.ts --config asconfig.json --target simd -o /tmp/b.wasm   (after an edit)
//   node bench/kernel-ab.mjs build/simd.wasm /tmp/b.wasm [L = 512, or Lq x Lk as 1x1024] [causal] [shared]
//     [weights] [kvRow=N]
// `weights` times the kernel that returns the weights (f32_attention_weights) instead; `kvRow=N` lays K and V in the
// rows of one matrix N floats wide (K in the first half, V in the second), as a KV cache holds them.
// (relaxed-simd builds on Node 20: node --experimental-wasm-relaxed-simd bench/kernel-ab.mjs …)
// With `shared`, B runs over a shared memory, as every Node engine and cross-origin-isolated page does (A's is not):
//   node --import tsx bench/kernel-ab.mjs build/simd.wasm build/simd.wasm 512 plain shared
// Both builds must take the descriptor ABI (assembly/descriptor.ts). One process, the same inputs in each build's
// memory, 1.5 s of warm-up (so both run optimised code), then
// 40 rounds of 5 calls taking turns; prints min and median ms per call and the largest output difference.
import { readFileSync } from 'node:fs';
import { rawInstance } from './raw-instance.mjs';

const [fileA, fileB, lArg, ...flags] = process.argv.slice(2);
if (!fileA || !fileB) {
  console.error(
    'usage: node bench/kernel-ab.mjs A.wasm B.wasm [L | LqxLk] [causal | plain] [shared] [weights] [kvRow=N]',
  );
  process.exit(2);
}
const [LQ, LK] = (lArg ?? '512').includes('x') ? lArg.split('x').map(Number) : [Number(lArg), Number(lArg)];
const causal = flags.includes('causal');
const weights = flags.includes('weights');
const D = 64;
const KV_ROW = Number(flags.find((f) => f.startsWith('kvRow='))?.slice(6) ?? 0);
if (KV_ROW && KV_ROW < 2 * D) throw new Error(`kvRow must be at least ${2 * D}`);
// The engine's own rewrite of the module's memory import (needs tsx, as the usage line says).
const shareB = flags.includes('shared')
  ? (await import('../src/runtime/threads/shared-memory.ts')).sharedMemoryModule
  : undefined;

function setup(file, share) {
  const bytes = share ? share(readFileSync(file)) : readFileSync(file);
  const { exports: x, memory, alloc } = rawInstance(bytes, !!share);
  const [q, o, w] = [alloc(LQ * D), alloc(LQ * D), weights ? alloc(LQ * LK) : 0];
  const [k, v] = KV_ROW ? [alloc(LK * KV_ROW), 0] : [alloc(LK * D), alloc(LK * D)];
  const [vAt, ldkv] = KV_ROW ? [k + (KV_ROW / 2) * 4, KV_ROW] : [v, D];
  const scratch = alloc(
    weights
      ? x.f32_attention_weights_scratch_floats(LQ, LK, D, D)
      : x.f32_attention_fused_scratch_floats(LQ, LK, D, LQ),
  );
  const desc = alloc(32);
  const mem = new Float32Array(memory.buffer);
  let seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 4;
  for (const [at, rows, width] of [
    [q, LQ, D],
    [k, LK, KV_ROW || D],
    [v, KV_ROW ? 0 : LK, D],
  ])
    for (let i = 0; i < rows * width; i++) mem[at / 4 + i] = random();
  // The AttentionDesc (assembly/descriptor.ts) of one item, one unit of all LQ rows, no masks.
  new Int32Array(memory.buffer, desc, 32).set([
    1,
    LQ,
    LK,
    D,
    D,
    LQ,
    q,
    D,
    0,
    k,
    ldkv,
    0,
    vAt,
    ldkv,
    0,
    o,
    D,
    0,
    w,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    causal ? 1 : 0,
  ]);
  new Float32Array(memory.buffer, desc + 80, 1)[0] = 1 / Math.sqrt(D);
  return {
    run: () => (weights ? x.f32_attention_weights : x.f32_attention_fused)(desc, 0, 1, scratch),
    output: () => new Float32Array(memory.buffer, o, LQ * D).slice(),
  };
}

const a = setup(fileA);
const b = setup(fileB, shareB);
for (const t0 = performance.now(); performance.now() - t0 < 1500;) {
  a.run();
  b.run();
}
const [oa, ob] = [a.output(), b.output()];
let maxDiff = 0;
for (let i = 0; i < oa.length; i++) maxDiff = Math.max(maxDiff, Math.abs(oa[i] - ob[i]));
const times = new Map([
  [a, []],
  [b, []],
]);
for (let round = 0; round < 40; round++) {
  for (const side of round % 2 ? [a, b] : [b, a]) {
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) side.run();
    times.get(side).push((performance.now() - t0) / 5);
  }
}
const summary = (t) => {
  t.sort((x, y) => x - y);
  return { min: t[0], median: t[t.length >> 1] };
};
const [sa, sb] = [summary(times.get(a)), summary(times.get(b))];
console.log(
  `SDPA ${LQ === LK ? LQ : `${LQ}×${LK}`}×${D}${causal ? ' causal' : ''}${weights ? ', weights' : ''}` +
    `${KV_ROW ? `, K and V in rows of ${KV_ROW}` : ''}: A min ${sa.min.toFixed(3)} median ${sa.median.toFixed(3)} ms | B min ${sb.min.toFixed(3)} median ${sb.median.toFixed(3)} ms | B/A ${(sb.min / sa.min).toFixed(3)} (min) | max |A − B| ${maxDiff.toExponential(2)}`,
);
