// A module made to share its memory between threads: its memory import's limits flagged shared.

/** Reads an unsigned LEB128 at `at`; returns the value and the position after it. */
function leb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, at];
  }
}

/**
 * The module's bytes with its memory import declared shared (limits flag 0x01 → 0x03: the same memory, with a
 * maximum, now shareable between threads); undefined when it has no such import.
 */
export function sharedMemoryModule(source: ArrayBuffer | ArrayBufferView): Uint8Array | undefined {
  const bytes =
    source instanceof ArrayBuffer
      ? new Uint8Array(source)
      : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, body] = leb(bytes, at + 1);
    if (id === 2) {
      let [count, p] = leb(bytes, body);
      while (count-- > 0) {
        for (let name = 0; name < 2; name++) {
          const [length, after] = leb(bytes, p);
          p = after + length;
        }
        const kind = bytes[p++];
        if (kind === 2) {
          if (bytes[p] !== 0x01) return undefined;
          const copy = bytes.slice();
          copy[p] = 0x03;
          return copy;
        }
        // Skip the other kinds of import: a function's type index, a table's type and limits, a global's type.
        if (kind === 0) p = leb(bytes, p)[1];
        else if (kind === 1) {
          const flags = bytes[p + 1];
          p = leb(bytes, p + 2)[1];
          if (flags & 1) p = leb(bytes, p)[1];
        } else p += 2;
      }
      return undefined;
    }
    at = body + size;
  }
  return undefined;
}
