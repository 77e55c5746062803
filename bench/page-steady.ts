// Why a steady SDPA 512×64 call takes longer in Chromium than in Node: the same measurement in both, on the plain
// SIMD build — the fused kernel alone (a raw instance of build/simd.wasm, data already in its memory, as
// bench/kernel-ab.mjs times it) and the library's whole call (copies in and out included) on the same inputs,
// taking turns after the same warm-up; and, alone, the copies a call makes around its kernel (three 128 KB inputs
// into linear memory, the output into a new array). `node --import tsx bench/page-steady.ts [loads]`.
import { readFileSync } from 'node:fs';
import { withBenchPage } from './page-bench.js';
import { median } from './report.js';

const [N, D] = [512, 64];

/** Defines `measure(bytes, lib)`: the same source runs in Node and in the page. */
const MEASURE = `
async function measure(bytes, lib) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  const { instance } = await WebAssembly.instantiate(bytes, { env: { memory } });
  const x = instance.exports;
  let end = (x.heap_base() + 63) & ~63;
  const alloc = (floats) => {
    const at = end;
    end += (floats * 4 + 63) & ~63;
    return at;
  };
  const [q, k, v, o] = [alloc(${N * D}), alloc(${N * D}), alloc(${N * D}), alloc(${N * D})];
  const scratch = alloc(x.f32_attention_fused_scratch_floats(${N}, ${N}, ${D}, ${N}));
  const desc = alloc(40);
  memory.grow(Math.ceil(end / 65536));
  for (const [at, seed] of [[q, 1], [k, 2], [v, 3]]) {
    const a = new Float32Array(memory.buffer, at, ${N * D});
    for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * 0.37 + seed);
  }
  // The AttentionDesc (assembly/descriptor.ts): one item, one unit of all rows, no masks, not causal.
  new Int32Array(memory.buffer, desc, 32).set([1, ${N}, ${N}, ${D}, ${D}, ${N}, q, ${D}, 0, k, ${D}, 0, v, ${D}, 0, o, ${D}, 0]);
  new Float32Array(memory.buffer, desc + 80, 1)[0] = 1 / Math.sqrt(${D});
  const kernel = () => x.f32_attention_fused(desc, 0, 1, scratch);
  const engine = await lib.init({ build: 'simd' });
  const t = (at) => ({ data: new Float32Array(memory.buffer, at, ${N * D}).slice(), shape: [${N}, ${D}] });
  const [tq, tk, tv] = [t(q), t(k), t(v)];
  const call = () => lib.scaledDotProductAttention(tq, tk, tv).output.data;
  // The copies a call makes around its kernel: the inputs into linear memory, the output into a new array.
  const heap = new Float32Array(memory.buffer);
  const copyIn = () => {
    heap.set(tq.data, q / 4);
    heap.set(tk.data, k / 4);
    heap.set(tv.data, v / 4);
  };
  const copyOut = () => new Float32Array(memory.buffer, o, ${N * D}).slice();
  for (const t0 = performance.now(); performance.now() - t0 < 1500; ) { kernel(); call(); }
  const times = { kernel: [], call: [], copyIn: [], copyOut: [] };
  const parts = [['kernel', kernel], ['call', call], ['copyIn', copyIn], ['copyOut', copyOut]];
  for (let round = 0; round < 40; round++) {
    for (const [name, f] of round % 2 ? parts : [...parts].reverse()) {
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) f();
      times[name].push((performance.now() - t0) / 5);
    }
  }
  return { build: engine.info.build, ...times };
}
`;

const APP = `${MEASURE}
const bytes = await (await fetch('./data/simd.wasm')).arrayBuffer();
window.__result = await measure(bytes, await import('./lib/wasm-attention.min.js'));
`;

interface Times {
  build: string;
  kernel: number[];
  call: number[];
  copyIn: number[];
  copyOut: number[];
}

export interface SteadyRow {
  where: string;
  kernelMs: number;
  callMs: number;
  copyInMs: number;
  copyOutMs: number;
}

export async function measureSteady(loads: number): Promise<SteadyRow[] | string> {
  const simd = readFileSync(new URL('../build/simd.wasm', import.meta.url));
  const node: Times[] = [];
  const measure = new Function(`${MEASURE}; return measure;`)() as (b: Uint8Array, lib: unknown) => Promise<Times>;
  const lib = await import('../dist/index.js');
  const page = await withBenchPage(
    'steady calls',
    { lib: ['wasm-attention.min.js'], data: { 'simd.wasm': simd }, app: APP },
    async (load) => {
      const runs: Times[] = [];
      // Node and the page take turns.
      for (let i = 0; i < loads; i++) {
        node.push(await measure(simd, lib));
        runs.push((await load()) as Times);
      }
      return runs;
    },
  );
  if (typeof page === 'string') return page;
  const row = (where: string, runs: Times[]) => ({
    where: `${where} (${runs[0].build})`,
    kernelMs: median(runs.map((r) => median(r.kernel))),
    callMs: median(runs.map((r) => median(r.call))),
    copyInMs: median(runs.map((r) => median(r.copyIn))),
    copyOutMs: median(runs.map((r) => median(r.copyOut))),
  });
  return [row(`Node ${process.versions.node}`, node), row('Chromium page', page)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await measureSteady(Number(process.argv[2] ?? 5));
  if (typeof rows === 'string') console.log(rows);
  else {
    console.log(`SDPA ${N}×${D}, medians of 40 rounds of 5 calls after 1.5 s of warm-up, taking turns:`);
    for (const r of rows)
      console.log(
        `${r.where}: kernel alone ${r.kernelMs.toFixed(3)} ms, whole call ${r.callMs.toFixed(3)} ms; ` +
          `copying the inputs in ${r.copyInMs.toFixed(3)} ms, the output out ${r.copyOutMs.toFixed(3)} ms`,
      );
  }
}
