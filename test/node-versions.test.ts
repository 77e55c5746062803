// Every Node the package says it runs on (engines: >=20). Node before 20.16 has no process.getBuiltinModule: a
// process with it deleted stands in for one, and where OLD_NODE names an old Node binary (.ci/run fetches Node 20.0.0
// from the npm registry) that Node runs the same scripts.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const dist = (f: string) => new URL(`../dist/${f}`, import.meta.url).href;

// ESM: init() reads the package's .wasm, an engine of 2 threads starts its workers and gives the one thread's result.
const ESM = `
  delete process.getBuiltinModule;
  const { createEngine, init, scaledDotProductAttention, tensor } = await import(${JSON.stringify(dist('index.js'))});
  await init();
  const two = await createEngine({ threads: 2 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const q = tensor(Float32Array.from({ length: 512 * 64 }, (_, i) => Math.sin(i)), [512, 64]);
  const one = scaledDotProductAttention(q, q, q).output.data;
  const shared = scaledDotProductAttention(q, q, q, { engine: two }).output.data;
  console.log(two.info.threads, two.info.threading, one.every((v, i) => Object.is(v, shared[i])), one[0].toFixed(6));
  two.close();
`;
// CJS: initSync() reads it synchronously.
const CJS = `
  delete process.getBuiltinModule;
  const { initSync, softmax, tensor } = require(${JSON.stringify(new URL(dist('index.cjs')).pathname)});
  initSync();
  console.log(JSON.stringify(Array.from(softmax(tensor(new Float32Array([0, 0, 0, 0]), [4])).data)));
`;

const nodes = [process.execPath, ...(process.env.OLD_NODE ? [process.env.OLD_NODE] : [])];
if (!process.env.OLD_NODE)
  console.log('OLD_NODE is not set: Node without process.getBuiltinModule is tried by deleting it from this one');

describe.each(nodes)('on %s, without process.getBuiltinModule', (node) => {
  const run = (args: string[]) => execFileSync(node, args, { encoding: 'utf8', timeout: 30_000 });

  it('reports its version', () => {
    expect(run(['--version'])).toMatch(/^v2\d\./);
  });

  it('loads through ESM import: init(), and an engine of 2 threads that shares memory', () => {
    expect(run(['--input-type=module', '-e', ESM])).toMatch(/^2 shared-memory true -?\d\.\d{6}\n$/);
  });

  it('loads through CJS require: initSync()', () => {
    expect(run(['-e', CJS])).toBe('[0.25,0.25,0.25,0.25]\n');
  });
});
