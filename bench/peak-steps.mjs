// The peak micro-kernel (bench/assembly/peak.ts) in tiles of different lengths: builds of it with K steps of k per
// tile, the loop's bound a constant as shipped, and one build whose bound is read at run time as the kernels' are;
// each timed as bench/peak.ts times the shipped one (best of 15 runs of ~10 ms after half a second of warm-up), taking
// turns.
// Why the peak's tiles are as long as they are.
//   node bench/peak-steps.mjs [steps = 64,128,256,320,384,512,640] [simd | relaxed-simd]
// (relaxed-simd on Node 20: node --experimental-wasm-relaxed-simd bench/peak-steps.mjs … relaxed-simd)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyAssembly } from './assembly-copy.mjs';

const [stepsArg = '64,128,256,320,384,512,640', target = 'simd'] = process.argv.slice(2);
const STEPS = stepsArg.split(',').map(Number);
const root = new URL('..', import.meta.url).pathname;
const K_LINE = /^const K = \d+;$/m;

const work = copyAssembly('peak-steps');
mkdirSync(join(work, 'bench/assembly'), { recursive: true });
const source = readFileSync(join(root, 'bench/assembly/peak.ts'), 'utf8');
if (!K_LINE.test(source)) throw new Error('bench/assembly/peak.ts no longer declares `const K = <n>;`');
const features = target === 'relaxed-simd' ? ['--enable', 'simd', '--enable', 'relaxed-simd'] : ['--enable', 'simd'];
const TILE_CALL = 'microTile(A, B, NR * 4, K, false';
if (!source.includes(TILE_CALL)) throw new Error(`bench/assembly/peak.ts no longer calls \`${TILE_CALL}\``);

/** The exports of bench/assembly/peak.ts built with `edit` applied to its source. */
function build(name, edit) {
  writeFileSync(join(work, 'bench/assembly/peak.ts'), edit(source));
  const out = join(work, `${name}.wasm`);
  execFileSync(
    join(root, 'node_modules/.bin/asc'),
    ['bench/assembly/peak.ts', '--runtime', 'stub', '-O3', '--noAssert', ...features, '-o', out],
    { cwd: work },
  );
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  return new WebAssembly.Instance(new WebAssembly.Module(readFileSync(out)), { env: { memory } }).exports;
}
// About 10 ms a run, whatever the tile's length.
const repsFor = (k) => Math.round((20_000 * 256) / k);
const constant = STEPS.map((k) => {
  const exports = build(`peak-${k}`, (src) => src.replace(K_LINE, `const K = ${k};`));
  const reps = repsFor(k);
  return { k, run: () => exports.f32_peak_tile(reps), flops: reps * exports.FLOPS_PER_REP.value, best: 0 };
});
// One build with room for the longest tile, whose loop reads its bound from a global set before each run.
const atRun = build('peak-at-run', (src) =>
  src
    .replace(
      K_LINE,
      `const K = ${Math.max(...STEPS)};\nlet steps: i32 = K;\nexport function set_steps(s: i32): void {\n  steps = s;\n}`,
    )
    .replace(TILE_CALL, 'microTile(A, B, NR * 4, steps, false'),
);
const flopsPerStep = atRun.FLOPS_PER_REP.value / Math.max(...STEPS);
const runtime = STEPS.map((k) => {
  const reps = repsFor(k);
  return { k, run: () => (atRun.set_steps(k), atRun.f32_peak_tile(reps)), flops: reps * k * flopsPerStep, best: 0 };
});
const kernels = [...constant, ...runtime];
for (const t0 = performance.now(); performance.now() - t0 < 500;) for (const t of kernels) t.run();
for (let r = 0; r < 15; r++) {
  for (const t of kernels) {
    const t0 = performance.now();
    t.run();
    t.best = Math.max(t.best, t.flops / ((performance.now() - t0) / 1000) / 1e9);
  }
}
console.log(`peak micro-kernel (${target}), GFLOP/s by steps of k per tile: bound a constant | bound read at run time`);
for (const [i, t] of constant.entries()) {
  console.log(`${String(t.k).padStart(5)} steps: ${t.best.toFixed(1).padStart(5)} | ${runtime[i].best.toFixed(1)}`);
}
