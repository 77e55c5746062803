// How two checkouts of the package start, in new Node processes taking turns (the order alternating): import +
// init() of the simd build, then the same SDPA n×64 call 12 times with no warm-up. For changes to how an engine
// starts (src/), which bench/warm-up-rounds.mjs, which varies the kernels' build, cannot see.
//   node bench/start-ab.mjs A B [processes each = 21] [n = 512]
// A and B are package roots with dist/ built: this checkout and, say, a worktree of another commit (`git worktree add
// /tmp/a <commit>`, a link to this node_modules, `npm run build` there).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, overSteady, startAndCalls } from './start-calls.mjs';

const [a, b, processes = '21', n = '512'] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: node bench/start-ab.mjs A B [processes] [n]');
const roots = { A: resolve(a), B: resolve(b) };
const runs = { A: [], B: [] };
for (let p = 0; p < Number(processes); p++) {
  for (const name of p % 2 ? ['A', 'B'] : ['B', 'A']) {
    const entry = pathToFileURL(`${roots[name]}/dist/index.js`).href;
    runs[name].push(startAndCalls(entry, { build: 'simd' }, Number(n), roots[name]));
  }
}
console.log(`Node ${process.versions.node}, SDPA ${n}×64, medians over ${processes} processes each`);
console.log(
  '| | import + init(), ms | first call ÷ steady | worst of calls 2–5 ÷ steady | import to first result, ms |',
);
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [name, rs] of Object.entries(runs)) {
  const ratios = rs.map((r) => overSteady(r.calls));
  const [ready, first, worst, toFirst] = [
    rs.map((r) => r.ready),
    ratios.map((r) => r.first),
    ratios.map((r) => r.worst),
    rs.map((r) => r.ready + r.calls[0]),
  ].map(median);
  console.log(
    `| ${name} (${roots[name]}) | ${ready.toFixed(1)} | ${first.toFixed(2)}× | ${worst.toFixed(2)}× | ${toFirst.toFixed(1)} |`,
  );
}
