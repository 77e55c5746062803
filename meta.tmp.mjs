import { build } from 'esbuild';
import { embeddedWasm } from './scripts/esbuild-embedded.mjs';
const noWasm = { name: 'nw', setup(b) { b.onResolve({ filter: /\/wasm-base64\.js$/ }, () => ({ path: 'x', namespace: 'nw' })); b.onLoad({ filter: /.*/, namespace: 'nw' }, () => ({ contents: "export const SIMD='';export const RELAXED_SIMD='';", loader: 'js' })); } };
const r = await build({ entryPoints: ['src/index.ts'], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, write: false, packages: 'external', plugins: [embeddedWasm, noWasm], logLevel: 'warning', metafile: true });
const text = r.outputFiles[0].text;
const strs = [...text.matchAll(/`(?:[^`\\]|\\.)*`|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g)].map((m) => m[0]);
console.log('total', text.length, 'strings', strs.reduce((n, s) => n + s.length, 0));
for (const s of strs.sort((a, b) => b.length - a.length).slice(0, 70)) console.log(s.length, s.slice(0, 160));
