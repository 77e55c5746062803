// The README's benchmark tables, from bench/RESULTS.md as `npm run bench` last wrote it: the single-thread summary
// (our two builds and the ratios to each peer), the threads table and the async table, each replaced in place.
// `node scripts/readme-tables.mjs` after a run; the prose around the tables is edited by hand. A test checks that the
// README's tables are the ones bench/RESULTS.md gives.
import { readFileSync, writeFileSync } from 'node:fs';

const README = new URL('../README.md', import.meta.url);
const RESULTS = new URL('../bench/RESULTS.md', import.meta.url);

/** The rows (cells, trimmed) of the markdown table whose header line starts with `header`, and where it is. */
function table(lines, header) {
  const start = lines.findIndex((l) => l.startsWith(header));
  if (start < 0) throw new Error(`no table starting '${header}'`);
  let end = start;
  while (end < lines.length && lines[end].startsWith('|')) end++;
  const rows = lines.slice(start + 2, end).map((l) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim()),
  );
  return { start, end, rows };
}

/** The README's row labels for the summary, and the bench/RESULTS.md work each one shows. */
const SUMMARY = [
  ['seed module, batch 2 × seq 10 × embed 64', 'SelfAttention 2×10×64'],
  ['SDPA 512×64', 'SDPA 512×64'],
  ['SDPA 512×64 causal', 'SDPA 512×64 causal'],
  ['SDPA 2048×64', 'SDPA 2048×64'],
  ['SDPA 2048×64 causal', 'SDPA 2048×64 causal'],
  ['SelfAttention 512×256', 'SelfAttention 1×512×256'],
  ['matmul 512³', 'matmul 512³'],
  ['matmul 1024³', 'matmul 1024³'],
  ['MultiHeadAttention 128×768, 12 heads', 'MultiHeadAttention 128×768, 12 heads'],
  ['MultiHeadAttention 512×768, 12 heads', 'MultiHeadAttention 512×768, 12 heads'],
  ['decode step, 1024 cached, 12 heads', 'decode step, 1024 cached, 12 heads'],
  ['decode step, 1024 cached, 12 heads, 4 kv heads', 'decode step, 1024 cached, 12 heads, 4 kv heads'],
  ['SDPA 16384×64 causal (no peer: onnxruntime-web builds the 1 GiB score matrix)', 'SDPA 16384×64 causal'],
];

/** `readme` (the README's text) with its three benchmark tables made from `resultsText` (bench/RESULTS.md's). */
export function readmeWithTables(readme, resultsText) {
  const results = resultsText.split('\n');
  const main = table(results, '| work | engine | ms |');
  /** Our row of `work` on `build`: [work, engine, ms, GFLOP/s, % of peak, × onnxruntime-web, × tfjs-wasm, diff]. */
  const ours = (work, build) => {
    const row = main.rows.find((r) => r[0] === work && r[1] === `wasm-attention ${build}`);
    if (!row) throw new Error(`bench/RESULTS.md has no row for ${work} on ${build}`);
    return row;
  };
  const summary = [
    '| work | wasm-attention simd | relaxed-simd | × onnxruntime-web (simd / relaxed) | × tfjs-wasm (simd) |',
    '|---|---:|---:|---:|---:|',
    ...SUMMARY.map(([label, work]) => {
      const [simd, relaxed] = [ours(work, 'simd'), ours(work, 'relaxed-simd')];
      const ort = simd[5] ? `${simd[5]} / ${relaxed[5]}` : '';
      return `| ${label} | ${simd[2]} ms | ${relaxed[2]} ms | ${ort} | ${simd[6]} |`;
    }),
  ];
  let lines = readme.split('\n');
  /** Replaces the README's table starting with `header` by `rows`. */
  const replace = (header, rows) => {
    const { start, end } = table(lines, header);
    lines = [...lines.slice(0, start), ...rows, ...lines.slice(end)];
  };
  replace('| work | wasm-attention simd | relaxed-simd |', summary);
  for (const header of ['| work | build | 1 thread, ms | 2 threads, ms |', '| work | build | sync, 2 threads, ms |']) {
    const { start, end } = table(results, header);
    replace(header, results.slice(start, end));
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`)
  writeFileSync(README, readmeWithTables(readFileSync(README, 'utf8'), readFileSync(RESULTS, 'utf8')));
