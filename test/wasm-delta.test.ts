// The relaxed build travels as a delta against the SIMD build (src/runtime/wasm-delta.ts): the encoder (build time) and
// the decoder (browser entry) agree on any pair of byte strings, not only on today's two builds.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeDelta } from '../scripts/wasm-delta.mjs';
import { applyDelta } from '../src/runtime/wasm-delta.js';
import { mulberry32 } from '../src/modules/random.js';

const roundTrip = (source: Uint8Array, target: Uint8Array) =>
  expect(applyDelta(source, encodeDelta(source, target))).toEqual(target);

describe('wasm delta', () => {
  it('rebuilds the relaxed build from the SIMD build, at under an eighth of its size', () => {
    const [simd, relaxed] = ['simd', 'relaxed-simd'].map(
      (b) => new Uint8Array(readFileSync(new URL(`../build/${b}.wasm`, import.meta.url))),
    );
    const delta = encodeDelta(simd, relaxed);
    expect(applyDelta(simd, delta)).toEqual(relaxed);
    expect(delta.length).toBeLessThan(relaxed.length / 8);
  });

  it('round-trips edges: empty, identical, unrelated, lengths past one varint byte', () => {
    const rand = mulberry32(7);
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
    const a = bytes(40_000);
    roundTrip(new Uint8Array(0), new Uint8Array(0));
    roundTrip(a, new Uint8Array(0));
    roundTrip(new Uint8Array(0), a.subarray(0, 300));
    roundTrip(a, a);
    roundTrip(a, bytes(20_000));
    // Copies that move backwards and forwards, long and short, between inserted runs.
    roundTrip(
      a,
      Uint8Array.from([
        ...a.subarray(30_000, 39_000),
        1,
        2,
        3,
        ...a.subarray(5, 20),
        ...bytes(200),
        ...a.subarray(100, 30_000),
        ...a.subarray(0, 7),
      ]),
    );
  });

  it('round-trips random edits of random sources', () => {
    const rand = mulberry32(11);
    for (let trial = 0; trial < 50; trial++) {
      const source = Uint8Array.from({ length: Math.floor(rand() * 3000) }, () => Math.floor(rand() * 4));
      const target = [...source];
      for (let e = Math.floor(rand() * 20); e > 0; e--) {
        const at = Math.floor(rand() * (target.length + 1));
        if (rand() < 0.5) target.splice(at, Math.floor(rand() * 10));
        else target.splice(at, 0, ...Array.from({ length: Math.floor(rand() * 10) }, () => Math.floor(rand() * 256)));
      }
      roundTrip(source, Uint8Array.from(target));
    }
  });
});
