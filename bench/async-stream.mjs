// Two builds' async decode steps as the threads section samples them (30 ms of calls back to back after 30 ms idle,
// medians of 21 such samples), each build in processes of its own, taking turns: no build shares a process (and its
// cores' threads) with the other, as in bench/threads-ab.mjs, whose second side can be favoured.
// `node --experimental-wasm-relaxed-simd bench/async-stream.mjs A/dist B/dist [simd|relaxed-simd] [kv heads = 12]
// [processes per build = 3] [async|sync]`: a decode step of MultiHeadAttention 768 wide, 12 heads, 1024 cached, on an
// engine of 2 threads.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeStep } from './decode-step.mjs';

const args = process.argv.slice(2);

if (args[0] === '--child') {
  const [, dir, build, kv, mode] = args;
  const lib = await import(resolve(dir, 'index.js'));
  const engine = await lib.createEngine({ build, threads: 2 });
  const step = decodeStep(lib, engine, Number(kv));
  const run = mode === 'sync' ? async () => step.sync() : step.async;
  // Workers start a few tens of ms after their engine; then the threads section's warm-up and samples.
  await new Promise((r) => setTimeout(r, 300));
  const t0 = performance.now();
  let n = 0;
  for (; performance.now() - t0 < 600; n++) await run();
  const calls = Math.max(1, Math.round((30 * n) / (performance.now() - t0)));
  const samples = [];
  for (let r = 0; r < 21; r++) {
    await new Promise((res) => setTimeout(res, 30));
    const s = performance.now();
    for (let c = 0; c < calls; c++) await run();
    samples.push((performance.now() - s) / calls);
  }
  engine.close();
  console.log(samples.sort((a, b) => a - b)[10]);
} else {
  const [aDir, bDir, build = 'simd', kv = '12', processes = '3', mode = 'async'] = args;
  if (!aDir || !bDir) throw new Error('usage: bench/async-stream.mjs A/dist B/dist [build] [kv] [processes] [mode]');
  const self = fileURLToPath(import.meta.url);
  const once = (dir) =>
    Number(
      execFileSync(process.execPath, [...process.execArgv, self, '--child', dir, build, kv, mode], {
        encoding: 'utf8',
      }),
    );
  const times = { A: [], B: [] };
  for (let p = 0; p < Number(processes); p++) {
    for (const side of p % 2 ? ['B', 'A'] : ['A', 'B']) times[side].push(once(side === 'A' ? aDir : bDir));
  }
  const median = (x) => [...x].sort((a, b) => a - b)[x.length >> 1];
  const [a, b] = [median(times.A), median(times.B)];
  const faster = times.B.filter((t, i) => t < times.A[i]).length;
  console.log(
    `${build} decode step, ${kv} kv heads, ${mode}, 2 threads: A ${a.toFixed(3)} ms, B ${b.toFixed(3)} ms per call; ` +
      `B ÷ A ${(b / a).toFixed(3)}, B faster in ${faster} of ${processes} process pairs`,
  );
}
