// The published package as a user meets it: `npm pack`, installed into an empty project, used through ESM
// import, CJS require, a strict TypeScript consumer and the CLI. Build-independent: runs in one project only.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { wrapperSize } from '../scripts/wrapper-size.mjs';
import { installPacked, type Packed, repoRoot, run } from './support/pack.js';

let project: string;
let packed: Packed;

beforeAll(() => {
  ({ packed, project } = installPacked('wasm-attention-user-'));
}, 180_000);

describe('npm package', () => {
  it('ships the code, both .wasm builds and the types, and no tests or benchmarks', () => {
    const files = packed.files.map((f) => f.path);
    for (const f of [
      'dist/index.js',
      'dist/index.cjs',
      'dist/browser.js',
      'dist/wasm-attention.min.js',
      'dist/index.d.ts',
      'dist/heatmap.js',
      'dist/heatmap.cjs',
      'dist/heatmap.browser.js',
      'dist/heatmap.d.ts',
      'dist/index.d.cts',
      'dist/heatmap.d.cts',
      'dist/standalone.d.ts',
      'build/simd.d.cts',
      'dist/cli.js',
      'build/simd.wasm',
      'build/relaxed-simd.wasm',
      'build/simd.d.ts',
      'README.md',
      'LICENSE',
      'package.json',
    ]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /^(test|bench|assembly|src)\//.test(f))).toEqual([]);
    // Budgets: each .wasm at most 64 KB; the browser entries reach no node: module.
    for (const f of packed.files.filter((x) => x.path.endsWith('.wasm')))
      expect(f.size, f.path).toBeLessThanOrEqual(64 * 1024);
    for (const f of ['dist/browser.js', 'dist/heatmap.browser.js', 'dist/wasm-attention.min.js']) {
      expect(readFileSync(join(project, 'node_modules/wasm-attention', f), 'utf8'), f).not.toMatch(/["']node:/);
    }
    console.log(
      `npm pack: ${packed.filename}, ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${files.length} files`,
    );
  });

  it('keeps the wrapper JS within 30 KB minified, everything it imports included', async () => {
    const size = await wrapperSize();
    console.log(`wrapper JS minified: ${size.main} bytes; heatmap entry ${size.heatmap} bytes`);
    expect(size.main).toBeLessThanOrEqual(30 * 1024);
  });

  it('works through ESM import', () => {
    const out = run(
      'node',
      [
        '--input-type=module',
        '-e',
        `
      import { AttentionError, init, scaledDotProductAttention, tensor } from 'wasm-attention';
      import { heatmap } from 'wasm-attention/heatmap';
      const engine = await init();
      const q = tensor(Float32Array.from({ length: 12 }, (_, i) => i / 12), [3, 4]);
      const r = scaledDotProductAttention(q, q, q, { causal: true, returnWeights: true });
      console.log(engine.info.build, JSON.stringify(Array.from(r.output.data.slice(0, 4))));
      console.log(heatmap(r.weights).split('\\n')[3]);
      try { heatmap(q.data); } catch (e) { console.log(e instanceof AttentionError, e.code); }
    `,
      ],
      project,
    );
    expect(out).toMatch(
      /^(simd|relaxed-simd) \[0,0.0833333\d*,0.1666666\d*,0.25\]\n0 │ ███ {11}│\ntrue BAD_ARGUMENT\n$/,
    );
  });

  it('works through CJS require', () => {
    const out = run(
      'node',
      [
        '-e',
        `
      const { AttentionError, initSync, softmax, tensor } = require('wasm-attention');
      const { heatmapSvg } = require('wasm-attention/heatmap');
      initSync();
      console.log(JSON.stringify(Array.from(softmax(tensor(new Float32Array([0, 0, 0, 0]), [4])).data)));
      console.log(heatmapSvg(tensor(new Float32Array([0.5, 0.5]), [1, 2])).match(/class="cell"/g).length);
      try { heatmapSvg(null); } catch (e) { console.log(e instanceof AttentionError, e.code); }
    `,
      ],
      project,
    );
    expect(out).toBe('[0.25,0.25,0.25,0.25]\n2\ntrue BAD_ARGUMENT\n');
  });

  // The same consumer as an ES module (.mts) and as CommonJS (.cts, which resolves the "require" condition's
  // .d.cts), with this repo's TypeScript and with 5.4, from before TypeScript let CommonJS require ES modules.
  const consumer = (esm: boolean) => `
    import { ${esm ? 'init' : 'initSync'}, MultiHeadAttention, type Tensor, type AttentionResult, AttentionError } from 'wasm-attention';
    import { heatmapSvg, type SvgHeatmapOptions } from 'wasm-attention/heatmap';
    ${esm ? 'await init();' : 'initSync();'}
    const x: Tensor = { data: new Float32Array(2 * 3 * 8), shape: [2, 3, 8] };
    const m = new MultiHeadAttention(8, 2, { numKVHeads: 1 });
    const r: AttentionResult = m.forward(x, x, x, { causal: true, averageWeights: false });
    const shape: readonly number[] = r.output.shape;
    // Weights asked for (here by default) are typed as present.
    const weights: Tensor = m.forward(x, x, x, { causal: true }).weights;
    const options: SvgHeatmapOptions = { title: 'mean of heads' };
    const svg: string = heatmapSvg({ data: r.weights!.data.subarray(0, 9), shape: [3, 3] }, options);
    try { m.forward(x, x, x, { causal: 'yes' as unknown as boolean }); } catch (e) { if (e instanceof AttentionError) console.log(e.code, shape, svg.length, weights.shape); }
    m.dispose();
  `;
  const compilers = { 'TypeScript 5.9': 'typescript', 'TypeScript 5.4': 'typescript-5.4' };
  describe.each(Object.entries(compilers))('%s', (_, pkg) => {
    const tscOf = join(repoRoot, 'node_modules', pkg, 'bin/tsc');
    /** What tsc reports (on stdout), or '' when the project type-checks. */
    const typeErrors = (config: string): string => {
      try {
        run('node', [tscOf, '-p', config], project);
        return '';
      } catch (e) {
        return `${(e as { stdout?: string }).stdout ?? ''}${(e as Error).message}`;
      }
    };
    // With and without esnext.disposable in lib (the declarations use Symbol.dispose), never with skipLibCheck.
    it.each([
      ['ES module', 'mts', true],
      ['CommonJS', 'cts', true],
      ['ES module, lib es2022', 'mts', false],
      ['CommonJS, lib es2022', 'cts', false],
    ])('type-checks a strict %s consumer (module nodenext), and catches its type errors', (kind, ext, disposable) => {
      const file = `user-${pkg}.${ext}`;
      const config = join(project, `tsconfig.${pkg}.${ext}.json`);
      const lib = disposable ? ['es2022', 'dom', 'esnext.disposable'] : ['es2022', 'dom'];
      writeFileSync(
        config,
        JSON.stringify({
          compilerOptions: {
            strict: true,
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            noEmit: true,
            lib,
          },
          files: [file],
        }),
      );
      writeFileSync(join(project, file), consumer(ext === 'mts'));
      expect(typeErrors(config), `${kind} consumer`).toBe('');
      // The types are real, not any: a wrong argument is an error.
      writeFileSync(join(project, file), `${consumer(ext === 'mts')}\nnew MultiHeadAttention('8', 2);\n`);
      expect(typeErrors(config)).toMatch(/user-[\w.-]+\(\d+,\d+\): error TS2345/);
      // …and weights not asked for may be absent.
      writeFileSync(
        join(project, file),
        `${consumer(ext === 'mts')}\nconsole.log(m.forward(x, x, x, { needWeights: false }).weights.shape);\n`,
      );
      expect(typeErrors(config)).toMatch(/user-[\w.-]+\(\d+,\d+\): error TS(2532|18048)/);
    });
  });

  it("runs the README's code blocks exactly as written, each a module of its own, against the installed package", () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    // Every js block but the browser app's (test/browser.test.ts builds and runs that one in Chromium).
    const sections = readme.split('\n## ').filter((s) => !s.startsWith('In the browser'));
    const blocks = sections.flatMap((s) => [...s.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]));
    expect(blocks).toHaveLength(4);
    const printed = blocks.map((block, i) => {
      writeFileSync(join(project, `readme-${i}.mjs`), block);
      return run('node', [`readme-${i}.mjs`], project)
        .replace(/\n$/, '')
        .split('\n');
    });
    // What the blocks' comments say they print.
    expect(printed[0]).toEqual([
      '[ 2, 10, 64 ] [ 2, 10, 10 ]',
      'undefined',
      'Float32Array(4) [ 1, 0, 0, 0 ]',
      '[ 4, 3 ]',
      '[ 2, 10, 64 ] [ 2, 8, 10, 10 ]',
      '3',
    ]);
    expect(printed[1][0]).toBe('     keys →  (queries ↓)');
    expect(printed[1][3]).toBe('The │ ███           │');
    expect(printed[1]).toHaveLength(9);
    expect(printed[2]).toEqual(['[ 8, 4 ] 67108864']);
    expect(printed[3]).toEqual(['2 [ 128, 768 ]']);
  });

  it('installs the CLI', () => {
    const out = run(join(project, 'node_modules/.bin/wasm-attention'), ['--help'], project);
    expect(out).toMatch(/^usage: wasm-attention \[demo \| bench\]/);
  });
});
