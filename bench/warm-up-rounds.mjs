// What the warm-up's length trades: builds of assembly/ whose warm-up runs R rounds (assembly/warm-up.ts ROUNDS), each
// in new Node processes that import the package and init() it from that build, then make the same SDPA call 12 times.
// Cold start (import + init()) against the first call and the worst of calls 2–5 over the steady time (the median of
// calls 6–12), medians over processes; the builds take turns, so a slow spell of the machine falls on all of them.
//   node bench/warm-up-rounds.mjs [rounds = 1,2,3,6] [processes per build = 12]
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildWasm, copyAssembly } from './assembly-copy.mjs';
import { median, overSteady, startAndCalls } from './start-calls.mjs';

const [roundsArg = '1,2,3,6', processesArg = '12'] = process.argv.slice(2);
const ROUNDS = roundsArg.split(',').map(Number);
const PROCESSES = Number(processesArg);
const LENGTHS = [512, 2048];
const root = new URL('..', import.meta.url).pathname;
const ROUNDS_LINE = /^const ROUNDS = \d+;$/m;

const work = copyAssembly('warm-up');
const source = readFileSync(join(work, 'assembly/warm-up.ts'), 'utf8');
if (!ROUNDS_LINE.test(source)) throw new Error('assembly/warm-up.ts no longer declares `const ROUNDS = <n>;`');
const shipped = Number(source.match(ROUNDS_LINE)[0].match(/\d+/)[0]);
const builds = ROUNDS.map((r) => {
  writeFileSync(join(work, 'assembly/warm-up.ts'), source.replace(ROUNDS_LINE, `const ROUNDS = ${r};`));
  const out = join(work, `rounds-${r}.wasm`);
  buildWasm(work, 'simd', out);
  return out;
});

const results = ROUNDS.map(() => ({
  ready: [],
  ...Object.fromEntries(LENGTHS.map((n) => [n, { first: [], worst: [] }])),
}));
for (let p = 0; p < PROCESSES; p++) {
  for (let i = 0; i < ROUNDS.length; i++) {
    const b = p % 2 ? ROUNDS.length - 1 - i : i;
    for (const n of LENGTHS) {
      const { ready, calls } = startAndCalls('wasm-attention', { wasm: pathToFileURL(builds[b]).href }, n, root);
      const { first, worst } = overSteady(calls);
      if (n === LENGTHS[0]) results[b].ready.push(ready);
      results[b][n].first.push(first);
      results[b][n].worst.push(worst);
    }
  }
}
const cells = (r) => LENGTHS.flatMap((n) => [r[n].first, r[n].worst].map((x) => `${median(x).toFixed(2)}×`));
console.log(
  `Warm-up rounds (shipped: ${shipped}), simd build, Node ${process.versions.node}; medians over ${PROCESSES} processes per build and call`,
);
console.log(
  `| rounds | import + init(), ms | ${LENGTHS.map((n) => `SDPA ${n}×64 first ÷ steady | worst of calls 2–5 ÷ steady`).join(' | ')} |`,
);
console.log(`| ---: | ---: | ${LENGTHS.map(() => '---: | ---:').join(' | ')} |`);
ROUNDS.forEach((r, i) =>
  console.log(`| ${r} | ${median(results[i].ready).toFixed(1)} | ${cells(results[i]).join(' | ')} |`),
);
rmSync(work, { recursive: true });
