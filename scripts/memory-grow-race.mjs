// Hunting the flaky threads test, one hypothesis: a worker that gets the shared memory (and instantiates a module
// over it) while the main thread grows it keeps a stale size, so its memory.fill past the old end traps, as a
// helper's kernel would. Each round starts a worker while the memory grows page by page, then asks it for
// memory.size, memory.buffer's length and a memory.fill of the last byte; prints every round where the worker's view
// is not the memory's.   node scripts/memory-grow-race.mjs [rounds = 200]
import { Worker } from 'node:worker_threads';

const rounds = Number(process.argv[2] ?? 200);
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
const { memory, module } = workerData;
const { exports } = new WebAssembly.Instance(module, { env: { memory } });
parentPort.on('message', (bytes) => {
  let fill = 'ok';
  try {
    exports.fill(bytes - 1);
  } catch (e) {
    fill = e.message;
  }
  parentPort.postMessage({ size: exports.size() * 65536, buffer: memory.buffer.byteLength, fill });
});
parentPort.postMessage(memory.buffer.byteLength);
`;

let stale = 0;
let midGrowth = 0;
for (let r = 0; r < rounds; r++) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4096, shared: true });
  const worker = new Worker(WORKER, { eval: true, workerData: { memory, module } });
  // A page every 40 µs for 150 ms: the worker starts (takes the memory, instantiates) meanwhile.
  for (let p = 1, t0 = performance.now(); performance.now() - t0 < 150 && p < 4000; p++) {
    memory.grow(1);
    for (const until = performance.now() + 0.04; performance.now() < until;);
  }
  const atStart = await new Promise((resolve) => worker.once('message', resolve));
  const bytes = memory.buffer.byteLength;
  // Only rounds where the worker took the memory before the growing ended test anything.
  if (atStart < bytes) midGrowth++;
  worker.postMessage(bytes);
  const seen = await new Promise((resolve) => worker.once('message', resolve));
  if (seen.size !== bytes || seen.buffer !== bytes || seen.fill !== 'ok') {
    stale++;
    console.log(
      `round ${r}: memory ${bytes} B; the worker's size ${seen.size}, buffer ${seen.buffer}, fill: ${seen.fill}`,
    );
  }
  await worker.terminate();
}
console.log(
  `${stale} of ${rounds} rounds with a stale view (in ${midGrowth} the worker started while the memory grew)`,
);
