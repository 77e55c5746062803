// The fused path never builds the Lq × Lk matrix: 16384 tokens of causal attention fit in 64 MiB of linear memory.
import { describe, expect, it } from 'vitest';
import { init, scaledDotProductAttention } from '../src/index.js';
import { refAttention } from '../src/reference.js';
import { BUILD, expectClose, randomTensor, ATOL, RTOL } from './helpers.js';

const MiB = 1024 * 1024;

describe('long sequences', () => {
  it('SDPA 16384×64 causal without weights stays within 64 MiB and matches the reference (first and last rows)', async () => {
    // A fresh engine whose memory may never grow past 64 MiB: exceeding it would throw OUT_OF_MEMORY.
    const engine = await init({ build: BUILD, maxMemoryBytes: 64 * MiB });
    const [n, d] = [16384, 64];
    const q = randomTensor(1, [n, d]);
    const k = randomTensor(2, [n, d]);
    const v = randomTensor(3, [n, d]);
    const { output, weights } = scaledDotProductAttention(q, k, v, { causal: true });
    expect(weights).toBeUndefined();
    expect(engine.memoryBytes()).toBeLessThanOrEqual(64 * MiB);
    // The weights alone would be n² floats: 1 GiB.
    expect(n * n * 4).toBe(1024 * MiB);
    const rows = 32;
    const tail = refAttention({ data: q.data.subarray((n - rows) * d), shape: [rows, d] }, k, v, { causal: true }).output.data;
    expectClose('last rows', output.data.subarray((n - rows) * d), tail, ATOL, RTOL);
    const head = refAttention({ data: q.data.subarray(0, rows * d), shape: [rows, d] }, { data: k.data.subarray(0, rows * d), shape: [rows, d] }, { data: v.data.subarray(0, rows * d), shape: [rows, d] }, { causal: true }).output.data;
    expectClose('first rows', output.data.subarray(0, rows * d), head, ATOL, RTOL);
    console.log(`[${BUILD}] SDPA 16384×64 causal: linear memory ${(engine.memoryBytes() / MiB).toFixed(1)} MiB`);
  });
});
