// The attention kernels' descriptor ABI: its layout matches what the wrapper writes, and a pass cut into work
// units (any unit size that is a multiple of MR, any split of the units between calls, each call with its own
// scratch, in any order) gives bit-for-bit the output of one call over everything: what threads will rely on.
import { beforeAll, describe, expect, it } from 'vitest';
import { attentionRuns, DESC, attentionScratchFloats, type AttentionPass } from '../../src/ops/attention.js';
import { DESC_FIELDS } from '../../src/runtime/kernels.js';
import { leadStrides } from '../../src/ops/batch.js';
import { runtimeOf, type Runtime } from '../../src/runtime/engine.js';
import { MaskKind } from '../../src/runtime/kernels.js';
import { mulberry32 } from '../../src/modules/random.js';
import { initBuild, randomTensor } from '../helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = runtimeOf(await initBuild());
});

describe('AttentionDesc', () => {
  it('has the fields the wrapper writes, 4 bytes each, in its order, within the room the wrapper keeps for it', () => {
    rt.heap.scoped([DESC_FIELDS * 4], ([out]) => {
      const bytes = rt.kernels.attention_desc_layout(out);
      // 32 fields attentionRuns writes, then packedK, which only a pool sets (src/runtime/threads/worker-pool.ts,
      // d[32]).
      expect(bytes).toBe(33 * 4);
      expect(bytes).toBeLessThanOrEqual(DESC_FIELDS * 4);
      expect(Array.from(new Int32Array(rt.kernels.memory.buffer, out, 33))).toEqual(
        Array.from({ length: 33 }, (_, i) => i * 4),
      );
    });
  });
});

const GUARD = 4096;

/** Output (and weights) of one pass, run as `schedule` says: unit size and the [begin, end) of each call. */
function runPass(
  shape: { B: number; lq: number; lk: number; dk: number; dv: number },
  causal: boolean,
  masked: boolean,
  withWeights: boolean,
  rows: number,
  schedule: (units: number) => Array<[number, number]>,
) {
  const { B, lq, lk, dk, dv } = shape;
  const q = randomTensor(1, [B, lq, dk]);
  const k = randomTensor(2, [B, lk, dk]);
  const v = randomTensor(3, [B, lk, dv]);
  const rand = mulberry32(4);
  const mask = Float32Array.from({ length: lq * lk }, () => (rand() < 0.2 ? -Infinity : rand()));
  const scratchFloats = attentionScratchFloats(rt, Math.min(rows, lq), lk, dk, dv, withWeights, lq);
  const heap = rt.heap;
  return heap.scoped(
    [
      q.data.length * 4,
      k.data.length * 4,
      v.data.length * 4,
      B * lq * dv * 4,
      B * lq * lk * 4,
      mask.length * 4 + 16,
      scratchFloats * 4 + GUARD,
      scratchFloats * 4 + GUARD,
    ],
    ([pq, pk, pv, po, pw, pm, s1, s2]) => {
      // Bytes past each scratch block that no call may write: a kernel that needs more scratch than it is given fails.
      const guards = [s1, s2].map((s) => s + scratchFloats * 4);
      for (const g of guards) new Uint8Array(heap.f32().buffer, g, GUARD).fill(0xab);
      heap.write(pq, q);
      heap.write(pk, k);
      heap.write(pv, v);
      heap.write(pm, { data: mask });
      // Garbage in the outputs: every element must be written.
      heap.write(po, { data: new Float32Array(B * lq * dv).fill(NaN) });
      heap.write(pw, { data: new Float32Array(B * lq * lk).fill(NaN) });
      const batch = [B];
      const pass: AttentionPass = {
        batch,
        lq,
        lk,
        dk,
        dv,
        q: { ptr: pq, ld: dk, strides: leadStrides(batch, batch, lq * dk) },
        k: { ptr: pk, ld: dk, strides: leadStrides(batch, batch, lk * dk) },
        v: { ptr: pv, ld: dv, strides: leadStrides(batch, batch, lk * dv) },
        o: { ptr: po, ld: dv, strides: leadStrides(batch, batch, lq * dv) },
        weights: withWeights ? { ptr: pw, strides: leadStrides(batch, batch, lq * lk) } : undefined,
        masks: masked
          ? [
              {
                layout: {
                  kind: MaskKind.add,
                  tensor: { name: 'mask', data: mask, shape: [lq, lk], size: mask.length },
                  lead: [],
                  matrixSize: lq * lk,
                  ldr: lk,
                  ldc: 1,
                },
                ptr: pm,
                strides: [0],
              },
            ]
          : [],
        scale: 1 / Math.sqrt(dk),
        causal,
        scratch: s1,
      };
      const kernel = withWeights ? rt.kernels.f32_attention_weights : rt.kernels.f32_attention_fused;
      attentionRuns(pass, rows, (units) => {
        heap.write(s1, { data: DESC });
        // Alternate between two scratch blocks, as two threads would have.
        schedule(units).forEach(([begin, end], i) => kernel(s1, begin, end, (i % 2 ? s2 : s1) + DESC_FIELDS * 4));
      });
      for (const g of guards) expect(new Uint8Array(heap.f32().buffer, g, GUARD).every((b) => b === 0xab)).toBe(true);
      return {
        output: heap.readF32(po, B * lq * dv),
        weights: withWeights ? heap.readF32(pw, B * lq * lk) : undefined,
      };
    },
  );
}

const whole = (units: number): Array<[number, number]> => [[0, units]];
const halves = (units: number): Array<[number, number]> => [
  [0, units >> 1],
  [units >> 1, units],
];
const oneByOneBackwards = (units: number): Array<[number, number]> =>
  Array.from({ length: units }, (_, i) => [units - 1 - i, units - i]);

describe.each([
  ['fused', false],
  ['weights', true],
] as const)('%s kernel, cut into work units', (_, withWeights) => {
  const shapes = [
    { B: 1, lq: 37, lk: 70, dk: 9, dv: 7 },
    { B: 3, lq: 16, lk: 5, dk: 64, dv: 64 },
    { B: 2, lq: 1, lk: 33, dk: 8, dv: 3 },
    // Longer than the fused kernel's query tile (64 rows): tiles start where each unit does.
    { B: 1, lq: 150, lk: 90, dk: 5, dv: 6 },
  ];
  for (const shape of shapes) {
    for (const [causal, masked] of [
      [false, false],
      [true, true],
    ] as const) {
      it(`${JSON.stringify(shape)}${causal ? ' causal, masked' : ''}: bit-for-bit the same output for every split`, () => {
        const reference = runPass(shape, causal, masked, withWeights, shape.lq, whole);
        expect(reference.output.some(Number.isNaN)).toBe(false);
        for (const rows of [4, 8, 12]) {
          for (const schedule of [whole, halves, oneByOneBackwards]) {
            const got = runPass(shape, causal, masked, withWeights, rows, schedule);
            expect(got.output).toEqual(reference.output);
            if (withWeights) expect(got.weights).toEqual(reference.weights);
          }
        }
      });
    }
  }
});
