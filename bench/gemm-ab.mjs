// A/B timing of the GEMM kernels between two builds of the wasm, for kernel work (bench/kernel-ab.mjs times the fused
// attention kernel): f32_gemm_prepacked (resident weights, as the projections run) and f32_gemm (both operands
// packed per call, as matmul runs) on each shape, one thread.
//   node bench/gemm-ab.mjs build/simd.wasm /tmp/b.wasm [MxNxK …]   (default 512x2304x768 1024x1024x1024)
// (relaxed-simd builds on Node 20: node --experimental-wasm-relaxed-simd bench/gemm-ab.mjs …)
// One process, the same inputs in each build's memory, 1.5 s of warm-up (so both run optimised code), then 15 rounds
// taking turns; prints each build's GFLOP/s (the median round), B ÷ A in time, and the largest output difference.
import { readFileSync } from 'node:fs';
import { rawInstance } from './raw-instance.mjs';

const [fileA, fileB, ...shapeArgs] = process.argv.slice(2);
if (!fileA || !fileB) {
  console.error('usage: node bench/gemm-ab.mjs A.wasm B.wasm [MxNxK …]');
  process.exit(2);
}
const SHAPES = (shapeArgs.length > 0 ? shapeArgs : ['512x2304x768', '1024x1024x1024']).map((s) =>
  s.split('x').map(Number),
);

/** Each shape's two kernels over one build's memory: runs, and the output each leaves. */
function setup(file) {
  const { exports: x, memory, alloc } = rawInstance(readFileSync(file));
  const cases = [];
  for (const [M, N, K] of SHAPES) {
    // A is M × K, the weights W are N × K as nn.Linear holds them (C = A·Wᵀ), C is M × N.
    const [a, w, c] = [alloc(M * K), alloc(N * K), alloc(M * N)];
    const packed = alloc(x.f32_gemm_packed_floats(N, K));
    const scratch = alloc(x.f32_gemm_scratch_floats(M, N, K));
    const mem = new Float32Array(memory.buffer);
    for (let i = 0; i < M * K; i++) mem[a / 4 + i] = Math.sin(i * 0.37);
    for (let i = 0; i < N * K; i++) mem[w / 4 + i] = Math.cos(i * 0.21) * 0.1;
    x.f32_gemm_pack(N, K, w, K, true, 0, packed);
    const output = () => new Float32Array(memory.buffer, c, M * N).slice();
    const flops = 2 * M * N * K;
    cases.push(
      {
        name: `f32_gemm_prepacked ${M}×${N}×${K}`,
        flops,
        output,
        run: () => x.f32_gemm_prepacked(1, M, N, K, a, K, 0, packed, c, N, 0, 1, scratch),
      },
      {
        name: `f32_gemm ${M}×${N}×${K}`,
        flops,
        output,
        run: () => x.f32_gemm(1, M, N, K, a, K, 0, w, K, 0, true, c, N, 0, 1, 0, scratch),
      },
    );
  }
  return cases;
}

const [A, B] = [setup(fileA), setup(fileB)];
for (const t0 = performance.now(); performance.now() - t0 < 1500;) for (const c of [...A, ...B]) c.run();
for (const [i, a] of A.entries()) {
  const b = B[i];
  a.run();
  b.run();
  const [oa, ob] = [a.output(), b.output()];
  let maxDiff = 0;
  for (let j = 0; j < oa.length; j++) maxDiff = Math.max(maxDiff, Math.abs(oa[j] - ob[j]));
  const times = [[], []];
  for (let round = 0; round < 15; round++) {
    for (const side of round % 2 ? [0, 1] : [1, 0]) {
      const t0 = performance.now();
      [a, b][side].run();
      times[side].push(performance.now() - t0);
    }
  }
  const [ta, tb] = times.map((t) => t.sort((x, y) => x - y)[t.length >> 1]);
  const rate = (t) => ((a.flops / t) * 1e-6).toFixed(1);
  console.log(
    `${a.name}: A ${rate(ta)} GFLOP/s | B ${rate(tb)} GFLOP/s | B/A ${(tb / ta).toFixed(3)} (time) | max |A − B| ${maxDiff.toExponential(2)}`,
  );
}
