// First calls: in a new Node process per engine and workload, the same call made 12 times right after the engine
// is ready and the inputs made; the first call, and the worst of calls 2–5, over the steady time (the median of
// calls 6–12), medians over several processes. What a page or a short script pays before V8 has optimised the
// engine's wasm (see issue "Fast from the first call"). Every engine is set up the same way as in the main suite
// (bench/workloads.ts), with no warm-up.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Build } from '../src/index.js';
import { median } from './report.js';

export const FIRST_CALL_WORKLOADS = ['SDPA 512×64', 'SDPA 2048×64', 'MultiHeadAttention 512×768, 12 heads'];
const CALLS = 12;

export interface FirstCalls {
  workload: string;
  engine: string;
  /** Medians over processes. */
  firstMs: number;
  worst2to5Ms: number;
  steadyMs: number;
  processes: number;
}

/** In a child process: one engine's calls on one workload, as JSON on the last line. */
async function child(workloadName: string, label: string, builds: Build[]): Promise<void> {
  const { makeEngines, setUpOnly, workloads } = await import('./workloads.js');
  // This engine alone: another's setup (compiling its wasm) would still be using the CPU during these calls.
  setUpOnly(label);
  if (label.startsWith('wasm-attention')) await makeEngines(builds);
  const w = workloads(builds).find((x) => x.name === workloadName)!;
  const runs = await w.engines();
  const r = runs.find((x) => (x.variant ? `${x.engine} (${x.variant})` : x.engine) === label)!;
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    await r.run();
    times.push(performance.now() - t0);
  }
  console.log(JSON.stringify(times));
}

/** Engines of a workload, by label, as the main suite lists them (read once, in a child, to stay fresh here). */
function labels(workload: string, builds: Build[]): string[] {
  const script = `const { makeEngines, workloads } = await import(${JSON.stringify(new URL('./workloads.ts', import.meta.url).href)});
await makeEngines(${JSON.stringify(builds)});
const w = workloads(${JSON.stringify(builds)}).find((x) => x.name === ${JSON.stringify(workload)});
const runs = await w.engines();
console.log(JSON.stringify(runs.filter((r) => !r.measureOnly && r.engine !== 'plain JS').map((r) => (r.variant ? r.engine + ' (' + r.variant + ')' : r.engine))));`;
  return JSON.parse(run(['--input-type=module', '-e', script]).trim().split('\n').pop()!);
}

function run(args: string[]): string {
  return execFileSync(process.execPath, [...process.execArgv.filter((a) => a !== '--no-warnings'), ...args], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/** Every engine's first calls on every workload; `only` keeps the engines whose label contains it. */
export function measureFirstCalls(builds: Build[], processes: number, only = ''): FirstCalls[] {
  const out: FirstCalls[] = [];
  for (const workload of FIRST_CALL_WORKLOADS) {
    for (const engine of labels(workload, builds).filter((label) => label.includes(only))) {
      const firsts: number[] = [];
      const worsts: number[] = [];
      const steadies: number[] = [];
      for (let p = 0; p < processes; p++) {
        const times: number[] = JSON.parse(
          run([fileURLToPath(import.meta.url), '--child', workload, engine, builds.join(',')])
            .trim()
            .split('\n')
            .pop()!,
        );
        firsts.push(times[0]);
        worsts.push(Math.max(...times.slice(1, 5)));
        steadies.push(median(times.slice(5)));
      }
      out.push({
        workload,
        engine,
        firstMs: median(firsts),
        worst2to5Ms: median(worsts),
        steadyMs: median(steadies),
        processes,
      });
    }
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--child');
  if (i >= 0) await child(process.argv[i + 1], process.argv[i + 2], process.argv[i + 3].split(',') as Build[]);
  // node --import tsx bench/first-calls.ts [processes] [engine label part, e.g. wasm-attention]
  else console.log(measureFirstCalls(['simd'], Number(process.argv[2] ?? 3), process.argv[3]));
}
