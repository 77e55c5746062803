// `npm run demo:web`: bundles web/demo.ts (with the .wasm inline) and serves web/ on 127.0.0.1 with a strict CSP.
import { build } from 'esbuild';
import { embeddedWasm } from './esbuild-embedded.mjs';
import { serve } from './serve.mjs';

export const webDir = new URL('../web/', import.meta.url).pathname;

export async function buildDemo() {
  await build({
    entryPoints: [new URL('../web/demo.ts', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: new URL('../web/dist/demo.js', import.meta.url).pathname,
    plugins: [embeddedWasm],
    logLevel: 'warning',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildDemo();
  const { url } = await serve(webDir, Number(process.env.PORT ?? 5173));
  console.log(`wasm-attention demo: ${url}  (Ctrl-C to stop)`);
}
