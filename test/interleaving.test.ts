// Calls of every kind interleaved at random on an engine of threads over one shared memory
// (test/support/interleave.ts), each result bit for bit what one thread gives in program order.
import { describe, expect, it } from 'vitest';
import { sharingEngine } from './helpers.js';
import { interleave } from './support/interleave.js';

describe('calls interleaved at random (shared memory)', () => {
  it('on 1 to 3 threads, sync and async, bad calls and resizes between them, give one thread’s bits', async () => {
    for (const seed of [1, 2, 3]) {
      const mix = await interleave(seed, await sharingEngine(2), 3, true);
      for (const [what, count] of Object.entries(mix)) expect(count, `${what} (seed ${seed})`).toBeGreaterThan(5);
    }
  });
});
