// Where the fused attention kernel's time goes: builds of assembly/ with one phase taken out (the results are then
// wrong, only the time counts), each timed against the whole kernel by bench/kernel-ab.mjs in one process.
//   node bench/kernel-phases.mjs [L = 1024] [simd | relaxed-simd] [causal]
// A phase's share is 1 − (time without it ÷ time with it). Each edit must match the kernel's source exactly: when
// the kernel changes, this script stops and names the edit that no longer applies.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [L = '1024', target = 'simd', causal = ''] = process.argv.slice(2);
const root = new URL('..', import.meta.url).pathname;
const asc = join(root, 'node_modules/.bin/asc');

/** Each phase: the lines of assembly/flash.ts that do it, and what replaces them. */
const PHASES = [
  {
    phase: 'Q·Kᵀ (the scores micro-kernel)',
    from: 'microTileRows(\n        qPanel, bp,',
    to: 'if (kb < 0) microTileRows(\n        qPanel, bp,',
  },
  {
    phase: 'block maximum',
    from: 'for (let j = 0; j < kb; j++) blockMax = f32x4.pmax(blockMax, v128.load(sT + (<usize>j << 4)));',
    to: 'blockMax = v128.load(sT);',
  },
  {
    phase: '2^x of every score',
    from: 'const p = exp2_flush_f32x4(f32x4.mul(f32x4.sub(v128.load(at), ref), log2e));',
    to: 'const p = f32x4.sub(v128.load(at), ref);',
  },
  {
    phase: 'rescaling O when the maximum grows',
    from: 'scaleRows(o0, oRow, mr, dv, alpha);',
    to: 'if (mr < 0) scaleRows(o0, oRow, mr, dv, alpha);',
  },
  {
    phase: 'P·V (the output micro-kernel)',
    from: 'if (kb > 0) accumulatePV(',
    to: 'if (kb < 0) accumulatePV(',
  },
];

function build(dir, out) {
  execFileSync(asc, ['assembly/index.ts', '--config', 'asconfig.json', '--target', target, '-o', out], { cwd: dir });
}

const work = mkdtempSync(join(tmpdir(), 'wasm-attention-phases-'));
cpSync(join(root, 'assembly'), join(work, 'assembly'), { recursive: true });
cpSync(join(root, 'asconfig.json'), join(work, 'asconfig.json'));
const flash = join(work, 'assembly/flash.ts');
const source = readFileSync(flash, 'utf8');
const whole = join(work, 'whole.wasm');
build(work, whole);
const node = [...(target === 'relaxed-simd' ? ['--experimental-wasm-relaxed-simd'] : [])];
console.log(`fused attention, SDPA ${L}×${L}×64${causal && ' causal'}, ${target} build: each phase taken out in turn`);
for (const { phase, from, to } of PHASES) {
  if (source.split(from).length !== 2) throw new Error(`the edit for '${phase}' does not match assembly/flash.ts once`);
  writeFileSync(flash, source.replace(from, to));
  const without = join(work, 'without.wasm');
  build(work, without);
  writeFileSync(flash, source);
  const line = execFileSync(process.execPath, [...node, join(root, 'bench/kernel-ab.mjs'), whole, without, L, causal], {
    encoding: 'utf8',
  });
  const [, a, b] = line.match(/A min ([\d.]+).*B min ([\d.]+)/);
  const share = 1 - Number(b) / Number(a);
  console.log(`${phase}: ${a} → ${b} ms without it, ${(share * 100).toFixed(1)} % of the kernel`);
}
