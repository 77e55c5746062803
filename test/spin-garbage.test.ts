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
      if ((e.detail as { kind?: number } | undefined)?.kind === constants.NODE_PERFORMANCE_GC_MINOR)
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
    // A spin paused for longer than SPIN_MS (by a collection, by this shared machine, or while its code is still
    // interpreted) blocks instead: the measure counts only where it spun on.
    let spun = false;
    for (let attempt = 0; attempt < 10 && !spun; attempt++) {
      const ctl = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
      // Another thread changes the slot after 200 ms, and wakes this one if it blocked.
      const flip = new Worker(
        `const ctl = new Int32Array(require('node:worker_threads').workerData);
         Atomics.wait(ctl, 1, 0, 200);
         Atomics.store(ctl, ${SLOT.epoch}, 1);
         Atomics.notify(ctl, ${SLOT.epoch});`,
        { eval: true, workerData: ctl.buffer },
      );
      let turns = 0;
      // Says it did work every 1000 turns, as a helper making arrays does, so the spin goes on.
      const idle = () => ++turns % 1000 === 0;
      const collections = await minorCollections(() => waitWhile(ctl, SLOT.epoch, 0, false, idle));
      await flip.terminate();
      expect(Atomics.load(ctl, SLOT.epoch)).toBe(1);
      if (turns < 1_000_000) continue;
      spun = true;
      expect(collections).toBeLessThanOrEqual(1);
    }
    expect(spun, 'a million turns of spin without a pause, in one of ten tries').toBe(true);
  });
});
