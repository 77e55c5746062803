// A thread of the shared-memory pool spins between jobs (waitWhile), serving result arrays while it does
// (arrayServer). The spin must make no garbage: a spin that allocated collected it every few ms, and each collection
// made the helper start the next job late and took the other core for its parallel tasks.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { arrayServer } from '../src/runtime/threads/result-arrays.js';
import { CONTROL_SLOTS, SLOT, waitWhile } from '../src/runtime/threads/thread-jobs.js';

/** Minor collections of this thread's heap while `run` runs. */
async function minorCollections(run: () => void): Promise<number> {
  const at: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR)
        at.push(e.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });
  const t0 = performance.now();
  run();
  const t1 = performance.now();
  // Entries come on a later turn of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  return at.filter((t) => t >= t0 && t <= t1).length;
}

const TURNS = 2_000_000;

describe('a spinning thread makes no garbage', () => {
  it('the check for arrays to make allocates nothing while none is asked', async () => {
    const ctl = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
    const { port1, port2 } = new MessageChannel();
    const serve = arrayServer(ctl, port1);
    let made = 0;
    const collections = await minorCollections(() => {
      for (let i = 0; i < TURNS; i++) if (serve()) made++;
    });
    port1.close();
    port2.close();
    expect(made).toBe(0);
    // Tens of MB of garbage would take several collections; one may fall in the window from work before it.
    expect(collections).toBeLessThanOrEqual(1);
  });

  it('a spin reads the clock seldom (each read allocates in Node) and ends when the slot changes', async () => {
    const ctl = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
    // A spin paused for longer than SPIN_MS (by this shared machine, or while its code is still interpreted) blocks
    // instead: another thread wakes it every ms, and it spins again, until the turns are done.
    const waker = new Worker(
      `const ctl = new Int32Array(require('node:worker_threads').workerData);
       while (!Atomics.load(ctl, 1)) { Atomics.wait(ctl, 2, 0, 1); Atomics.notify(ctl, ${SLOT.epoch}); }`,
      { eval: true, workerData: ctl.buffer },
    );
    let turns = 0;
    // Says it did work every 1000 turns, as a helper making arrays does, so the spin goes on.
    const idle = () => {
      if (++turns === TURNS) Atomics.store(ctl, SLOT.epoch, 1);
      return turns % 1000 === 0;
    };
    const collections = await minorCollections(() => {
      while (Atomics.load(ctl, SLOT.epoch) === 0) waitWhile(ctl, SLOT.epoch, 0, false, idle);
    });
    Atomics.store(ctl, 1, 1);
    await waker.terminate();
    expect(turns).toBe(TURNS);
    expect(collections).toBeLessThanOrEqual(1);
  });
});
