// What a result's new array costs the thread that fills it, by where its pages came from: a new array (its pages
// touched for the first time by the copy), an array a worker made, touched and transferred (as a pool's helper makes
// them: src/runtime/threads/result-arrays.ts), and an array filled before (pages in place). Sizes of this repo's
// benchmark results; medians of rounds that take turns with a pause between them.
// `node --import tsx bench/result-arrays.ts [rounds = 15]`
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { median, toMarkdown } from './report.js';

const rounds = Number(process.argv[2] ?? 15);
const SIZES: Array<[string, number]> = [
  ['SDPA 512×64 output (128 KiB)', 512 * 64],
  ['SDPA 2048×64 output (512 KiB)', 2048 * 64],
  ['MultiHeadAttention 512×768 output (1.5 MiB)', 512 * 768],
  ['matmul 1024³ output (4 MiB)', 1024 * 1024],
];

const { port1, port2 } = new MessageChannel();
const worker = new Worker(
  `const { workerData: { port } } = require('node:worker_threads');
  port.on('message', (n) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i += 1024) a[i] = 0;
    port.postMessage(a.buffer, [a.buffer]);
  });`,
  { eval: true, workerData: { port: port2 }, transferList: [port2] },
);

/** An array of `n` floats made and touched by the worker, taken over once it has come. */
async function fromWorker(n: number): Promise<Float32Array> {
  port1.postMessage(n);
  for (;;) {
    const m = receiveMessageOnPort(port1);
    if (m) return new Float32Array(m.message as ArrayBuffer);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const rows = [['result', 'new array, ms', 'made by a worker, ms', 'filled before, ms', 'new ÷ made by a worker']];
for (const [name, n] of SIZES) {
  const src = Float32Array.from({ length: n }, (_, i) => i);
  const kept = new Float32Array(n);
  const ms = { fresh: [] as number[], worker: [] as number[], kept: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    const given = await fromWorker(n);
    await new Promise((resolve) => setTimeout(resolve, 20));
    let t0 = performance.now();
    new Float32Array(n).set(src);
    ms.fresh.push(performance.now() - t0);
    t0 = performance.now();
    given.set(src);
    ms.worker.push(performance.now() - t0);
    t0 = performance.now();
    kept.set(src);
    ms.kept.push(performance.now() - t0);
  }
  const [fresh, made, resident] = [ms.fresh, ms.worker, ms.kept].map(median);
  rows.push([name, fresh.toFixed(3), made.toFixed(3), resident.toFixed(3), `${(fresh / made).toFixed(1)}×`]);
}
await worker.terminate();
port1.close();
console.log(`Copying a result into its array, by where the array came from: medians of ${rounds} rounds`);
console.log(toMarkdown(rows));
