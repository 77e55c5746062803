// Builds of edited kernels (bench/kernel-phases.mjs, bench/warm-up-rounds.mjs): assembly/ and asconfig.json copied
// into a temporary folder, where a script edits the sources and builds each variant with asc.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const asc = join(root, 'node_modules/.bin/asc');

/** A new temporary folder holding a copy of assembly/ and asconfig.json. */
export function copyAssembly(name) {
  const dir = mkdtempSync(join(tmpdir(), `wasm-attention-${name}-`));
  cpSync(join(root, 'assembly'), join(dir, 'assembly'), { recursive: true });
  cpSync(join(root, 'asconfig.json'), join(dir, 'asconfig.json'));
  return dir;
}

/** Builds the copy in `dir` for asconfig's `target` into `out`. */
export function buildWasm(dir, target, out) {
  execFileSync(asc, ['assembly/index.ts', '--config', 'asconfig.json', '--target', target, '-o', out], { cwd: dir });
}
