// The size budget's measure: the main browser entry as a bundler emits it, minified, everything it imports
// included (a dependency would count too), without the inline .wasm (counted on its own). The heatmap entry is
// measured apart.
import { build } from 'esbuild';
import { embeddedWasm } from './esbuild-embedded.mjs';

const noWasm = {
  name: 'no-inline-wasm',
  setup(b) {
    b.onResolve({ filter: /\/wasm-base64\.js$/ }, () => ({ path: 'wasm-base64', namespace: 'no-wasm' }));
    b.onLoad({ filter: /.*/, namespace: 'no-wasm' }, () => ({
      contents: "export const SIMD = ''; export const RELAXED_SIMD_DELTA = '';",
      loader: 'js',
    }));
  },
};

async function minifiedBytes(entry) {
  const result = await build({
    entryPoints: [new URL(`../src/${entry}`, import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    plugins: [embeddedWasm, noWasm],
    logLevel: 'warning',
  });
  return result.outputFiles[0].contents.length;
}

/** Minified bytes of the main entry (the budget's figure) and of the heatmap entry. */
export async function wrapperSize() {
  const [main, heatmap] = await Promise.all([minifiedBytes('index.ts'), minifiedBytes('heatmap.ts')]);
  return { main, heatmap };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await wrapperSize());
