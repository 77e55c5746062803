// src/ in layers (the README's Layout): the public face at the top of src/, then modules/, ops/ and runtime/ (its
// threads/ included, so the workers' entries import the runtime alone). An import only ever points down.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src/', import.meta.url));
const LAYERS = ['runtime', 'ops', 'modules'];

/** A file's layer, bottom up: runtime 0, ops 1, modules 2, the public face 3; the package's file URLs and the
 * generated .wasm data are leaves that any layer may import (-1). */
function layerOf(file: string): number {
  const top = relative(src, file).split('/')[0];
  if (top === 'package-files.ts' || top === 'generated') return -1;
  const i = LAYERS.indexOf(top);
  return i >= 0 ? i : LAYERS.length;
}

it('every import in src/ points to its own layer or one below', () => {
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(src, f));
  expect(files.length).toBeGreaterThan(40);
  const upward: string[] = [];
  for (const file of files) {
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
      // Outside src/: the kernels' ABI types that asc writes to build/.
      if (!target.startsWith(src)) continue;
      if (layerOf(target) > layerOf(file)) upward.push(`${relative(src, file)} imports ${relative(src, target)}`);
    }
  }
  expect(upward).toEqual([]);
});
