import { build } from 'esbuild';
import { embeddedWasm } from './scripts/esbuild-embedded.mjs';
const noWasm = { name: 'nw', setup(b) { b.onResolve({ filter: /\/wasm-base64\.js$/ }, () => ({ path: 'x', namespace: 'nw' })); b.onLoad({ filter: /.*/, namespace: 'nw' }, () => ({ contents: "export const SIMD='';export const RELAXED_SIMD='';", loader: 'js' })); } };
const r = await build({ entryPoints: ['src/index.ts'], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, write: false, packages: 'external', plugins: [embeddedWasm, noWasm], logLevel: 'warning', metafile: true });
const out = Object.values(r.metafile.outputs)[0];
for (const [f, v] of Object.entries(out.inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)) console.log(v.bytesInOutput, f);
