// A build's .wasm instantiated alone, over a memory of its own, for the scripts that time kernels directly
// (bench/kernel-ab.mjs, bench/gemm-ab.mjs): its exports, its memory and a bump allocator past its static data.
// (bench/page-steady.ts runs the same set-up as a string in the page.)

/** `bytes` instantiated over a new memory (shared if asked: the bytes must then import one); `alloc(floats)` gives the
 * byte offset of that many new floats, 64-byte aligned, growing the memory as it goes. */
export function rawInstance(bytes, shared = false) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared });
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  let end = (exports.heap_base() + 63) & ~63;
  const alloc = (floats) => {
    const at = end;
    end += (floats * 4 + 63) & ~63;
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
    return at;
  };
  return { exports, memory, alloc };
}
