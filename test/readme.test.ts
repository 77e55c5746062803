// The README's example is code a newcomer will paste: run it as written and check what it prints.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { expect, it, vi } from 'vitest';
import { BUILD } from './helpers.js';

it("the README's Use example runs and prints what its comments say", async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = readme.split('## Use')[1].match(/```js\n([\s\S]*?)```/)![1];
  // Import the sources instead of the package name, and run on the build under test.
  const code = block
    .replace("from 'wasm-attention'", "from '../../src/index.js'")
    .replace('await init();', `await init({ build: '${BUILD}' });`);
  const dir = new URL('./artifacts/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`readme-example-${BUILD}.ts`, dir);
  writeFileSync(file, `${code}\nexport {};\n`);
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    await import(/* @vite-ignore */ file.href);
    const printed = log.mock.calls.map((args) => args.map((a) => (a === undefined ? 'undefined' : JSON.stringify(a instanceof Float32Array ? Array.from(a) : a))).join(' '));
    expect(printed).toEqual(['[2,10,64] [2,10,10]', 'undefined', '[1,0,0,0]', '[4,3]', '[2,10,64] [2,8,10,10]', '3']);
  } finally {
    log.mockRestore();
  }
});
