// Where the fused attention kernel's time goes: builds of assembly/ with one phase taken out (the results are then
// wrong, only the time counts), each timed against the whole kernel by bench/kernel-ab.mjs in one process.
//   node bench/kernel-phases.mjs [L = 1024] [simd | relaxed-simd] [causal]
// A phase's share is 1 − (time without it ÷ time with it). Each edit must match the kernel's source exactly: when
// the kernel changes, this script stops and names the edit that no longer applies.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildWasm, copyAssembly } from './assembly-copy.mjs';

const [L = '1024', target = 'simd', causal = ''] = process.argv.slice(2);
const root = new URL('..', import.meta.url).pathname;

/** Each phase: the lines of assembly/ that do it (in flash.ts unless a file is named), and what replaces them. */
const PHASES = [
  {
    phase: 'Q·Kᵀ (the scores micro-kernel)',
    // Scores of 0 stored in its place: with the slots left as they were, the softmax would raise the last block's
    // probabilities to e^p again and again, to Infinity.
    edits: [
      {
        from: '/** Keys per block',
        to: '@inline function zeroScores(at: usize): v128 {\n  memory.fill(at, 0, NR * 16);\n  return f32x4.splat(0);\n}\n/** Keys per block',
      },
      {
        from: 'const m = microTileRows(\n        qPanel, bp,',
        to: 'const m = kb > 0 ? zeroScores(sT + (<usize>jp << 4)) : microTileRows(\n        qPanel, bp,',
      },
    ],
  },
  {
    phase: 'block maximum',
    edits: [
      { file: 'simd.ts', from: 'return f32x4.pmax(f32x4.pmax(c0, c1), f32x4.pmax(c2, c3));', to: 'return c0;' },
      {
        file: 'gemm.ts',
        from: 'return f32x4.pmax(max0, storeTransposed4(',
        to: 'return (storeTransposed4(',
      },
      { from: 'blockMax = f32x4.pmax(blockMax, m);', to: 'blockMax = m;' },
    ],
  },
  {
    phase: '2^x of every score',
    edits: [
      {
        from: 'const p = exp2_flush_f32x4(f32x4.mul(f32x4.sub(v128.load(at), ref), log2e), P_FLOOR);',
        to: 'const p = f32x4.sub(v128.load(at), ref);',
      },
    ],
  },
  {
    phase: 'rescaling O when the maximum grows',
    edits: [{ from: 'scaleRows(o0, oRow, mr, dv, alpha);', to: 'if (mr < 0) scaleRows(o0, oRow, mr, dv, alpha);' }],
  },
  {
    phase: 'P·V (the output micro-kernel)',
    edits: [{ from: 'if (kb > 0) accumulatePV(', to: 'if (kb < 0) accumulatePV(' }],
  },
];

const build = (dir, out) => buildWasm(dir, target, out);

const work = copyAssembly('phases');
const whole = join(work, 'whole.wasm');
build(work, whole);
const node = [...(target === 'relaxed-simd' ? ['--experimental-wasm-relaxed-simd'] : [])];
console.log(`fused attention, SDPA ${L}×${L}×64${causal && ' causal'}, ${target} build: each phase taken out in turn`);
for (const { phase, edits } of PHASES) {
  const sources = edits.map(({ file = 'flash.ts', from, to }) => {
    const path = join(work, 'assembly', file);
    const source = readFileSync(path, 'utf8');
    if (source.split(from).length !== 2)
      throw new Error(`the edit for '${phase}' does not match assembly/${file} once`);
    writeFileSync(path, source.replace(from, to));
    return [path, source];
  });
  const without = join(work, 'without.wasm');
  build(work, without);
  for (const [path, source] of sources) writeFileSync(path, source);
  const line = execFileSync(process.execPath, [...node, join(root, 'bench/kernel-ab.mjs'), whole, without, L, causal], {
    encoding: 'utf8',
  });
  const [, a, b] = line.match(/A min ([\d.]+).*B min ([\d.]+)/);
  const share = 1 - Number(b) / Number(a);
  console.log(`${phase}: ${a} → ${b} ms without it, ${(share * 100).toFixed(1)} % of the kernel`);
}
