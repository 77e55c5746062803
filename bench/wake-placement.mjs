// Where Linux runs a worker thread woken from Atomics.wait, as the pool's helpers are after an idle spell, and what
// it costs when that is the calling thread's own CPU. No library code: a main thread and one worker, each doing the
// same fixed work after the wake (about `WORK_MS` alone); each reads the CPU it runs on from /proc/thread-self/stat.
// The worker sleeps between wakes; the main thread either sleeps too (the whole machine idles) or stays busy.
// `node bench/wake-placement.mjs [wakes per idle time = 40] [work ms = 3]` (Linux only).
import { existsSync, readFileSync } from 'node:fs';
import { isMainThread, Worker, workerData } from 'node:worker_threads';

const IDLE_MS = [1, 5, 20, 50];

const cpu = () => Number(readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ')[36]);

/** Floating-point work that takes as long as the CPU it gets. */
function work(iterations) {
  let x = 1;
  for (let i = 0; i < iterations; i++) x = x * 1.0000001 + 1e-9;
  return x;
}

// Control block: [0] wakes posted, [1] worker's CPU at its wake, [2] wakes finished by the worker, [3] iterations.
if (!isMainThread) {
  const c = new Int32Array(workerData);
  for (let seen = 0; ;) {
    Atomics.wait(c, 0, seen);
    seen = Atomics.load(c, 0);
    c[1] = cpu();
    work(c[3]);
    Atomics.store(c, 2, seen);
    Atomics.notify(c, 2);
  }
} else if (!existsSync('/proc/thread-self/stat')) {
  console.log('wake-placement: needs Linux (/proc/thread-self/stat)');
} else {
  const wakes = Number(process.argv[2] ?? 40);
  const WORK_MS = Number(process.argv[3] ?? 3);
  const c = new Int32Array(new SharedArrayBuffer(16));
  // Iterations that take WORK_MS on this thread alone (after a warm-up, so the loop runs optimised).
  work(1e6);
  const t0 = performance.now();
  work(1e6);
  c[3] = Math.round((1e6 * WORK_MS) / (performance.now() - t0));
  const worker = new Worker(new URL(import.meta.url), { workerData: c.buffer });
  worker.unref();
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1] : NaN);
  await pause(300);
  const rows = [];
  let posted = 0;
  for (const [idle, busy] of IDLE_MS.flatMap((ms) => [
    [ms, false],
    [ms, true],
  ])) {
    const together = [];
    const apart = [];
    for (let i = 0; i < wakes; i++) {
      if (busy) for (const t = performance.now(); performance.now() - t < idle;);
      await pause(busy ? 0 : idle);
      const mine = cpu();
      const start = performance.now();
      Atomics.store(c, 0, ++posted);
      Atomics.notify(c, 0);
      work(c[3]);
      while (Atomics.load(c, 2) !== posted) Atomics.wait(c, 2, posted - 1, 1);
      (c[1] === mine ? together : apart).push(performance.now() - start);
    }
    rows.push(
      `| ${idle} | ${busy ? 'busy' : 'asleep'} | ${together.length} of ${wakes} | ${median(together).toFixed(2)} | ${median(apart).toFixed(2)} |`,
    );
  }
  console.log(
    `Both threads doing ${WORK_MS} ms of work after the wake (medians, ms; NaN where no wake fell in the column):\n`,
  );
  console.log(
    '| worker asleep before the wake, ms | main thread meanwhile | worker woken on the caller’s CPU | both done, same CPU | both done, apart |',
  );
  console.log('| ---: | --- | ---: | ---: | ---: |');
  for (const row of rows) console.log(row);
}
