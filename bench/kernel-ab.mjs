// A/B timing of the fused attention kernel between two builds of the wasm, for kernel work:
//   npx asc assembly/index.ts --config asconfig.json --target simd -o /tmp/b.wasm   (after an edit)
//   node bench/kernel-ab.mjs build/simd.wasm /tmp/b.wasm [L = 512, or Lq x Lk as 1x1024] [causal] [shared]
// (relaxed-simd builds on Node 20: node --experimental-wasm-relaxed-simd bench/kernel-ab.mjs …)
// With `shared`, B runs over a shared memory, as every Node engine and cross-origin-isolated page does (A's is not):
//   node --import tsx bench/kernel-ab.mjs build/simd.wasm build/simd.wasm 512 plain shared
// Both builds must take the descriptor ABI (assembly/descriptor.ts). One process, the same inputs in each build's
// memory, 1.5 s of warm-up (so both run optimised code), then
// 40 rounds of 5 calls taking turns; prints min and median ms per call and the largest output difference.
import { readFileSync } from 'node:fs';

const [fileA, fileB, lArg, causalArg, sharedArg] = process.argv.slice(2);
if (!fileA || !fileB) {
  console.error('usage: node bench/kernel-ab.mjs A.wasm B.wasm [L | LqxLk] [causal | plain] [shared]');
  process.exit(2);
}
const [LQ, LK] = (lArg ?? '512').includes('x') ? lArg.split('x').map(Number) : [Number(lArg), Number(lArg)];
const causal = causalArg === 'causal';
const D = 64;
// The engine's own rewrite of the module's memory import (needs tsx, as the usage line says).
const shareB =
  sharedArg === 'shared' ? (await import('../src/runtime/threads/shared-memory.ts')).sharedMemoryModule : undefined;

function setup(file, share) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: !!share });
  const bytes = share ? share(readFileSync(file)) : readFileSync(file);
  const { exports: x } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  let end = (x.heap_base() + 63) & ~63;
  const alloc = (floats) => {
    const at = end;
    end += (floats * 4 + 63) & ~63;
    return at;
  };
  const [q, k, v, o] = [alloc(LQ * D), alloc(LK * D), alloc(LK * D), alloc(LQ * D)];
  const scratch = alloc(x.f32_attention_fused_scratch_floats(LQ, LK, D));
  const desc = alloc(32);
  if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  const mem = new Float32Array(memory.buffer);
  let seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 4;
  for (const [at, rows] of [
    [q, LQ],
    [k, LK],
    [v, LK],
  ])
    for (let i = 0; i < rows * D; i++) mem[at / 4 + i] = random();
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
    D,
    0,
    v,
    D,
    0,
    o,
    D,
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
    0,
    0,
    causal ? 1 : 0,
  ]);
  new Float32Array(memory.buffer, desc + 80, 1)[0] = 1 / Math.sqrt(D);
  return {
    run: () => x.f32_attention_fused(desc, 0, 1, scratch),
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
  `SDPA ${LQ === LK ? LQ : `${LQ}×${LK}`}×${D}${causal ? ' causal' : ''}: A min ${sa.min.toFixed(3)} median ${sa.median.toFixed(3)} ms | B min ${sb.min.toFixed(3)} median ${sb.median.toFixed(3)} ms | B/A ${(sb.min / sa.min).toFixed(3)} (min) | max |A − B| ${maxDiff.toExponential(2)}`,
);
