// A stress check for new 2-thread engines, each making a decode-sized call and SDPA 512×64 right after its worker
// starts, as a test of test/threads.test.ts once did (it once failed with WORKER_FAILED: a helper acted on a stale
// view of the memory just grown, which src/runtime/threads/thread-jobs.ts seeMemory now refreshes;
// scripts/memory-grow-race.mjs shows the race); prints every failure with the cause the helper wrote. Run after
// `npm run build`:
//   node scripts/thread-stress.mjs [build = simd] [rounds = 200]
// (relaxed-simd on Node 20: node --experimental-wasm-relaxed-simd scripts/thread-stress.mjs relaxed-simd)
import { createEngine, scaledDotProductAttention, tensor } from '../dist/index.js';

const build = process.argv[2] ?? 'simd';
const rounds = Number(process.argv[3] ?? 200);
let seed = 1;
const data = (n) => Float32Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5);
const q = tensor(data(12 * 64), [12, 1, 64]);
const k = tensor(data(12 * 1024 * 64), [12, 1024, 64]);
const x = tensor(data(512 * 64), [512, 64]);
let failures = 0;
for (let r = 0; r < rounds; r++) {
  const engine = await createEngine({ build, threads: 2 });
  try {
    for (let i = 0; i < 5; i++) {
      scaledDotProductAttention(q, k, k, { engine });
      scaledDotProductAttention(x, x, x, { engine });
      await new Promise((resolve) => setTimeout(resolve, 1 + (r % 10)));
    }
  } catch (e) {
    failures++;
    console.log(`round ${r}: ${e.code} ${e.message}`);
  }
  engine.close();
}
console.log(`${build}: ${failures} failures in ${rounds} rounds`);
