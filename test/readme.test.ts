// The README's example is code a newcomer will paste: run it as written and check what it prints.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { expect, it, vi } from 'vitest';
import { readmeWithTables } from '../scripts/readme-tables.mjs';
import { BUILD } from './helpers.js';

it("the README's Use examples run and print what their comments say", async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  // The section's code blocks in order, as one module (imports hoist).
  const section = readme.split('## Use')[1].split('\n## ')[0];
  const blocks = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(blocks).toHaveLength(2);
  // Each block as a module of its own, as a reader would paste it, importing the sources instead of the package
  // and running on the build under test.
  const dir = new URL('./artifacts/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const files = blocks.map((block, i) => {
    const code = block
      .replace("from 'wasm-attention'", "from '../../src/index.js'")
      .replace("from 'wasm-attention/heatmap'", "from '../../src/heatmap.js'")
      .replace('await init();', `await init({ build: '${BUILD}' });`);
    const file = new URL(`readme-example-${i}-${BUILD}.ts`, dir);
    writeFileSync(file, `${code}\nexport {};\n`);
    return file;
  });
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    for (const file of files) await import(/* @vite-ignore */ file.href);
    const printed = log.mock.calls.map((args) =>
      args
        .map((a) => (a === undefined ? 'undefined' : JSON.stringify(a instanceof Float32Array ? Array.from(a) : a)))
        .join(' '),
    );
    expect(printed.slice(0, 6)).toEqual([
      '[2,10,64] [2,10,10]',
      'undefined',
      '[1,0,0,0]',
      '[4,3]',
      '[2,10,64] [2,8,10,10]',
      '3',
    ]);
    // The causal heatmap: 'The' sees only itself (weight 1: full shade), 'cat' nothing after itself.
    const map = JSON.parse(printed[6]).split('\n');
    expect(map).toHaveLength(9);
    expect(map[0]).toBe('     keys →  (queries ↓)');
    expect(map[3]).toBe('The │ ███           │');
    expect(map[4]).toMatch(/^cat │ [░▒▓█]{3} {2}[░▒▓█]{3} {6}│$/);
    expect(map.slice(7)).toEqual(['     attention weight, blank 0:', '     ░ <.375 ▒ <.625 ▓ <.875 █ ≤1']);
    expect(printed).toHaveLength(7);
  } finally {
    log.mockRestore();
  }
});

it("the README's benchmark tables are bench/RESULTS.md's (node scripts/readme-tables.mjs writes them)", () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const results = readFileSync(new URL('../bench/RESULTS.md', import.meta.url), 'utf8');
  expect(readmeWithTables(readme, results)).toBe(readme);
});
