// The fused path never builds the Lq × Lk matrix: 16384 tokens of causal attention run in the 24.2 MiB of linear memory
// the README states, where the weights path would need 1 GiB more.
import { describe, expect, it } from 'vitest';
import { init, scaledDotProductAttention } from '../src/index.js';
import { refAttention } from '../src/reference.js';
import { readFileSync } from 'node:fs';
import { BUILD, expectAttentionError, expectClose, randomTensor, ATOL, RTOL } from './helpers.js';

const MiB = 1024 * 1024;

describe('long sequences', () => {
  it("SDPA 16384×64 causal without weights stays within the README's 24.2 MiB and matches the reference (first and last rows)", async () => {
    // A fresh engine whose memory may never grow past 64 MiB: exceeding it would throw OUT_OF_MEMORY.
    const engine = await init({ build: BUILD, maxMemoryBytes: 64 * MiB });
    const [n, d] = [16384, 64];
    const q = randomTensor(1, [n, d]);
    const k = randomTensor(2, [n, d]);
    const v = randomTensor(3, [n, d]);
    const { output, weights } = scaledDotProductAttention(q, k, v, { causal: true });
    expect(weights).toBeUndefined();
    // What the README says it takes (q, k, v and the output alone are 16 MiB).
    const stated = Number(
      readFileSync(new URL('../README.md', import.meta.url), 'utf8').match(
        /16384 tokens of causal attention run in under ([\d.]+) MiB of linear memory/,
      )![1],
    );
    expect(stated).toBe(24.2);
    expect(engine.memoryBytes()).toBeLessThanOrEqual(stated * MiB);
    expect(engine.memoryBytes()).toBeGreaterThan(16 * MiB);
    // With weights (n² floats: 1 GiB) the same call does not fit, and says so before any kernel runs.
    expectAttentionError(
      () => scaledDotProductAttention(q, k, v, { causal: true, returnWeights: true }),
      'OUT_OF_MEMORY',
      /without weights \(options\.returnWeights: false\) the call needs \d+ bytes, which fits/,
    );
    const rows = 32;
    const tail = refAttention({ data: q.data.subarray((n - rows) * d), shape: [rows, d] }, k, v, { causal: true })
      .output.data;
    expectClose('last rows', output.data.subarray((n - rows) * d), tail, ATOL, RTOL);
    const head = refAttention(
      { data: q.data.subarray(0, rows * d), shape: [rows, d] },
      { data: k.data.subarray(0, rows * d), shape: [rows, d] },
      { data: v.data.subarray(0, rows * d), shape: [rows, d] },
      { causal: true },
    ).output.data;
    expectClose('first rows', output.data.subarray(0, rows * d), head, ATOL, RTOL);
    console.log(`[${BUILD}] SDPA 16384×64 causal: linear memory ${(engine.memoryBytes() / MiB).toFixed(1)} MiB`);
  });
});
