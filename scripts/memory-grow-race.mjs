// The flaky threads test's cause: V8 tells each thread that shares a memory of a growth, and a thread can act before it
// has heard: its instance's bounds and memory.buffer still have the old size, and a memory.fill past the old end traps
// ("memory access out of bounds"), as a helper's kernel did. Each round starts a worker while the memory grows a page
// at a time; the worker then waits on a shared flag, as a helper waits for a job (never back in its event loop), and
// when the flag is raised checks its view against the size the main thread wrote. A stale worker then does what
// src/runtime/threads/thread-jobs.ts seeMemory does, memory.grow(0), and checks again. Rare: the one stale worker seen
// here came in some 5,000 rounds.   node scripts/memory-grow-race.mjs [rounds = 600] [ms of growing = 60]
import { Worker } from 'node:worker_threads';

const rounds = Number(process.argv[2] ?? 600);
const growMs = Number(process.argv[3] ?? 60);
// (module (import "env" "memory" (memory 1 4096 shared))
//   (func (export "size") (result i32) memory.size)
//   (func (export "fill") (param i32) (memory.fill (local.get 0) (i32.const 0) (i32.const 1))))
const module = new WebAssembly.Module(
  new Uint8Array([
    ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...[1, 9, 2, 0x60, 0, 1, 0x7f, 0x60, 1, 0x7f, 0],
    ...[2, 0x11, 1, 3, 0x65, 0x6e, 0x76, 6, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 2, 3, 1, 0x80, 0x20],
    ...[3, 3, 2, 0, 1],
    ...[7, 0x0f, 2, 4, 0x73, 0x69, 0x7a, 0x65, 0, 0, 4, 0x66, 0x69, 0x6c, 0x6c, 0, 1],
    ...[0x0a, 0x12, 2, 4, 0, 0x3f, 0, 0x0b, 0x0b, 0, 0x20, 0, 0x41, 0, 0x41, 1, 0xfc, 0x0b, 0, 0x0b],
  ]),
);
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { memory, module, flag } = workerData;
const { exports } = new WebAssembly.Instance(module, { env: { memory } });
const view = () => {
  let fill = 'ok';
  try {
    exports.fill(flag[1] - 1);
  } catch (e) {
    fill = e.message;
  }
  return { size: exports.size() * 65536, buffer: memory.buffer.byteLength, fill };
};
// As a helper waits for a job: spinning, then blocking.
for (const until = performance.now() + 0.5; Atomics.load(flag, 0) === 0;) {
  if (performance.now() > until) Atomics.wait(flag, 0, 0);
}
const seen = view();
const stale = seen.size !== flag[1] || seen.buffer !== flag[1] || seen.fill !== 'ok';
if (stale) memory.grow(0);
parentPort.postMessage({ seen, after: stale ? view() : undefined });
`;

let [stale, fixed] = [0, 0];
for (let r = 0; r < rounds; r++) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4096, shared: true });
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(WORKER, { eval: true, workerData: { memory, module, flag } });
  const answer = new Promise((resolve) => worker.once('message', resolve));
  // A page every 0.2 ms while the worker starts (takes the memory, instantiates, begins to wait).
  for (const t0 = performance.now(); performance.now() - t0 < growMs;) {
    memory.grow(1);
    for (const until = performance.now() + 0.2; performance.now() < until;);
  }
  flag[1] = memory.buffer.byteLength;
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  const { seen, after } = await answer;
  if (after) {
    stale++;
    const ok = after.size === flag[1] && after.buffer === flag[1] && after.fill === 'ok';
    if (ok) fixed++;
    console.log(
      `round ${r}: memory ${flag[1]} B; the worker's size ${seen.size}, buffer ${seen.buffer}, fill: ${seen.fill}; ` +
        `after memory.grow(0): size ${after.size}, buffer ${after.buffer}, fill: ${after.fill}`,
    );
  }
  await worker.terminate();
}
console.log(`${stale} of ${rounds} workers saw a stale memory; memory.grow(0) made ${fixed} of them see all of it`);
