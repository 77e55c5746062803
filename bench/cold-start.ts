// Cold start in Node: a fresh process imports each engine and initialises it; the time from before the import to
// ready, median over several processes. `node --import tsx bench/cold-start.ts [processes = 11]`
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from './report.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const model = fileURLToPath(new URL('./models/matmul_512.onnx', import.meta.url));

/** Module code per engine: everything from the import to an engine ready to run (a row may restart the clock, t0). */
const STARTS: Record<string, string> = {
  'wasm-attention': `const m = await import('wasm-attention'); await m.init();`,
  // The part of the row above that is ours to shorten: init() alone (compiling, instantiating, the warm-up).
  'wasm-attention, init() alone': `const m = await import('wasm-attention'); t0 = performance.now(); await m.init();`,
  'onnxruntime-web': `const ort = await import('onnxruntime-web'); ort.env.wasm.numThreads = 1; await ort.InferenceSession.create(${JSON.stringify(model)});`,
  'tfjs-wasm': `const tf = await import('@tensorflow/tfjs-core'); const w = await import('@tensorflow/tfjs-backend-wasm'); w.setThreadsCount(1); await tf.setBackend('wasm'); await tf.ready();`,
  // What Node itself takes to import a first module from a file: the floor under every row above.
  'a one-line module (Node alone)': `await import(${JSON.stringify(new URL('./empty-module.mjs', import.meta.url).href)});`,
};

export interface ColdStart {
  engine: string;
  ms: number;
  runs: number;
}

export function measureColdStarts(runs: number): ColdStart[] {
  return Object.entries(STARTS).map(([engine, code]) => {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const script = `let t0 = performance.now(); ${code} console.log(performance.now() - t0);`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: root,
        encoding: 'utf8',
      });
      times.push(Number(out.trim().split('\n').pop()));
    }
    return { engine, ms: median(times), runs };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(measureColdStarts(Number(process.argv[2] ?? 11)));
