// How long V8 takes to optimise each of the kernels' functions once a new engine's warm-up has asked for it, in Node
// and in Chromium (whose V8 is newer): what the first calls wait for before they run optimised code. V8 prints each
// optimising compile with --trace-wasm-compilation-times; functions are named from build/<build>.wat.
// `node --import tsx bench/compile-times.ts [runs = 5]`.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_PATH, NO_CHROMIUM } from '../scripts/chromium.mjs';
import { serve } from '../scripts/serve.mjs';
import { median, toMarkdown } from './report.js';

const runs = Number(process.argv[2] ?? 5);
const build = 'relaxed-simd';
const root = new URL('..', import.meta.url).pathname;

/** Function names by index, in the order the .wat lists them (the module imports no functions). */
const names = [...readFileSync(join(root, `build/${build}.wat`), 'utf8').matchAll(/^ \(func \$(\S+)/gm)].map((m) =>
  m[1].replace(/^assembly\//, ''),
);

/** ms per optimised function (by name) in one V8 log. */
function optimised(log: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of log.matchAll(/#(\d+) using TurboFan, took (\d+) (ms|μs)/g))
    out.set(names[Number(m[1])] ?? `#${m[1]}`, Number(m[2]) / (m[3] === 'ms' ? 1 : 1000));
  return out;
}

// Node: the module and its warm-up, as a new engine runs them, then time for the compiles to finish.
const NODE_SCRIPT = `
const { readFileSync } = require('node:fs');
const module = new WebAssembly.Module(readFileSync(${JSON.stringify(join(root, `build/${build}.wasm`))}));
const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
const x = new WebAssembly.Instance(module, { env: { memory } }).exports;
const at = Math.ceil(x.heap_base() / 64) * 64;
memory.grow(Math.ceil((at + x.warm_up_floats() * 4) / 65536));
x.warm_up(at);
setTimeout(() => {}, 1000);
`;
const nodeRun = (flags: string[]) =>
  optimised(
    execFileSync(
      process.execPath,
      ['--experimental-wasm-relaxed-simd', '--trace-wasm-compilation-times', ...flags, '-e', NODE_SCRIPT],
      { encoding: 'utf8' },
    ),
  );
// Chromium's V8 (and Node 22's) asks for 7 times the work Node 20's does before it optimises a function.
const CHROMIUM_BUDGET = '--wasm-tiering-budget=13000000';

// Chromium: a page that loads the standalone file, makes the engine ready and makes one SDPA 512×64 call.
async function chromiumRuns(): Promise<Array<Map<string, number>>> {
  const dir = mkdtempSync(join(tmpdir(), 'wasm-attention-compile-'));
  copyFileSync(join(root, 'dist/wasm-attention.min.js'), join(dir, 'wasm-attention.min.js'));
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><meta charset="utf-8"><script type="module" src="./app.js"></script>',
  );
  writeFileSync(
    join(dir, 'app.js'),
    `const { init, scaledDotProductAttention } = await import('./wasm-attention.min.js');
await init();
const t = { data: new Float32Array(512 * 64), shape: [512, 64] };
scaledDotProductAttention(t, t, t);
document.body.textContent = 'done';`,
  );
  const { url, server } = await serve(dir);
  try {
    const out: Array<Map<string, number>> = [];
    for (let i = 0; i < runs; i++) {
      // Chromium itself, not through playwright: V8's trace goes to the browser's output. --dump-dom lets the page
      // run for the virtual time given and prints it. Not execFileSync: the server is in this process.
      const flags = CHROMIUM_ARGS.filter((a) => !a.startsWith('--js-flags'));
      const { stdout } = await promisify(execFile)(
        CHROMIUM_PATH,
        [...flags, '--dump-dom', '--virtual-time-budget=10000', '--js-flags=--trace-wasm-compilation-times', url],
        { encoding: 'utf8', timeout: 60_000 },
      );
      out.push(optimised(stdout));
    }
    return out;
  } finally {
    server.close();
  }
}

const nodeLogs = Array.from({ length: runs }, () => nodeRun([]));
const budgetLogs = Array.from({ length: runs }, () => nodeRun([CHROMIUM_BUDGET]));
const pageLogs = NO_CHROMIUM ? [] : await chromiumRuns();
const seen = [...new Set([...nodeLogs, ...budgetLogs, ...pageLogs].flatMap((m) => [...m.keys()]))];
const cell = (logs: Array<Map<string, number>>, name: string) => {
  const ms = logs.flatMap((m) => (m.has(name) ? [m.get(name)!] : []));
  return ms.length ? `${median(ms).toFixed(1)} (${ms.length} of ${logs.length})` : '–';
};
console.log(
  `Optimising compiles after a new engine's warm-up, ${build} build, ms: medians over ${runs} runs (in how many runs V8 optimised the function); Node prints whole ms.`,
);
console.log(
  toMarkdown([
    [
      'function',
      `Node ${process.versions.node}, after the warm-up`,
      `the same with ${CHROMIUM_BUDGET}`,
      NO_CHROMIUM ? 'Chromium (not found)' : 'Chromium, after the warm-up and one SDPA 512×64 call',
    ],
    ...seen.map((name) => [name, cell(nodeLogs, name), cell(budgetLogs, name), cell(pageLogs, name)]),
  ]),
);
