// The relaxed-SIMD build differs from the SIMD build in a few hundred bytes, so the browser entry carries it as a
// delta against the SIMD build (written by scripts/wasm-delta.mjs). In little-endian u16s (a build is under 64 KB):
// the target's length, then steps until the delta ends: n and n bytes to insert, then an offset and a length to
// copy from the source.

export function applyDelta(source: Uint8Array, delta: Uint8Array): Uint8Array {
  const u16 = (i: number) => delta[i] | (delta[i + 1] << 8);
  const target = new Uint8Array(u16(0));
  for (let i = 2, n = 0; i < delta.length; i += 4) {
    const inserted = delta.subarray(i + 2, (i += 2 + u16(i)));
    const copied = source.subarray(u16(i), u16(i) + u16(i + 2));
    target.set(inserted, n);
    target.set(copied, (n += inserted.length));
    n += copied.length;
  }
  return target;
}
