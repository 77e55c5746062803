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
  const port = Number(process.env.PORT ?? 5173);
  try {
    const { url } = await serve(webDir, port);
    console.log(`wasm-attention demo: ${url}  (Ctrl-C to stop)`);
  } catch (e) {
    if (e?.code !== 'EADDRINUSE') throw e;
    console.error(`port ${port} is in use: choose another, e.g. PORT=8080 npm run demo:web`);
    process.exitCode = 1;
  }
}
