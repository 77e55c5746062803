// New Node processes that import the package, initialise it and make the same SDPA call 12 times, with no warm-up:
// the time from before the import to ready, and each call's. For bench/warm-up-rounds.mjs and bench/start-ab.mjs.
import { execFileSync } from 'node:child_process';

/** Calls per process: the first, calls 2–5, and calls 6–12, whose median is the steady time. */
const CALLS = 12;

/**
 * One new process (in `cwd`): `from` imported (a specifier or a file URL), `init(initOptions)` awaited, then SDPA
 * n×64 CALLS times on the same inputs; { ready, calls } in ms.
 */
export function startAndCalls(from, initOptions, n, cwd) {
  const child = `
const t0 = performance.now();
const m = await import(${JSON.stringify(from)});
await m.init(${JSON.stringify(initOptions)});
const ready = performance.now() - t0;
let s = 1;
const t = () => ({ data: Float32Array.from({ length: ${n} * 64 }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5)), shape: [${n}, 64] });
const [q, k, v] = [t(), t(), t()];
const calls = [];
for (let i = 0; i < ${CALLS}; i++) {
  const a = performance.now();
  m.scaledDotProductAttention(q, k, v);
  calls.push(performance.now() - a);
}
console.log(JSON.stringify({ ready, calls }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', child], { cwd, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}

export const median = (x) => {
  const s = [...x].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The first call and the worst of calls 2–5 over the steady time (the median of calls 6–12), and that time. */
export function overSteady(calls) {
  const steady = median(calls.slice(5));
  return { first: calls[0] / steady, worst: Math.max(...calls.slice(1, 5)) / steady, steady };
}
