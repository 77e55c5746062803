// Encodes a target as a delta against a source, in the format src/runtime/wasm-delta.ts decodes: greedy longest matches
// found through 4-byte seeds, the bytes between them inserted. Build-time only (scripts/embed-wasm.mjs).
const SEED = 4;
const MIN_COPY = 6;

function pushU16(out, value) {
  if (!(value >= 0 && value < 65536)) throw new Error(`wasm-delta: ${value} does not fit a u16 (a build past 64 KB?)`);
  out.push(value & 255, value >> 8);
}

export function encodeDelta(source, target) {
  const seeds = new Map();
  const key = (bytes, i) => Buffer.from(bytes.subarray(i, i + SEED)).toString('latin1');
  for (let i = 0; i + SEED <= source.length; i++) {
    const k = key(source, i);
    (seeds.get(k) ?? seeds.set(k, []).get(k)).push(i);
  }
  const out = [];
  pushU16(out, target.length);
  let inserted = [];
  const step = (from, len) => {
    pushU16(out, inserted.length);
    for (const byte of inserted) out.push(byte);
    inserted = [];
    pushU16(out, from);
    pushU16(out, len);
  };
  for (let i = 0; i < target.length;) {
    let best = 0;
    let bestAt = 0;
    for (const s of seeds.get(key(target, i)) ?? []) {
      let n = 0;
      while (i + n < target.length && s + n < source.length && source[s + n] === target[i + n]) n++;
      if (n > best) [best, bestAt] = [n, s];
    }
    if (best < MIN_COPY) {
      inserted.push(target[i++]);
    } else {
      step(bestAt, best);
      i += best;
    }
  }
  if (inserted.length > 0) step(0, 0);
  return Uint8Array.from(out);
}
