import { AttentionError } from './errors.js';

const PAGE = 65536;
/** Blocks start on cache-line boundaries: aligned for v128 and free of false sharing between blocks. */
const ALIGN = 64;

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

interface Block {
  ptr: number;
  size: number;
}

/**
 * The wrapper-owned allocator over the wasm linear memory, from heap_base to the end of memory.
 * First fit over an address-ordered free list that coalesces on release, so a call that frees what it
 * took leaves the heap as it was and repeated calls reach a steady state.
 */
export class Heap {
  readonly #free: Block[] = [];
  readonly #used = new Map<number, number>();
  #f32View = new Float32Array(0);
  #u8View = new Uint8Array(0);
  readonly #memory: WebAssembly.Memory;

  constructor(
    memory: WebAssembly.Memory,
    base: number,
    /** Linear memory is never grown past this many bytes. */
    readonly maxBytes: number,
  ) {
    this.#memory = memory;
    const start = alignUp(base, ALIGN);
    const end = memory.buffer.byteLength;
    if (end > start) this.#free.push({ ptr: start, size: end - start });
  }

  /** Current size of linear memory in bytes. */
  get bytes(): number {
    return this.#memory.buffer.byteLength;
  }

  /** Bytes currently handed out. */
  get usedBytes(): number {
    let n = 0;
    for (const s of this.#used.values()) n += s;
    return n;
  }

  /** A block of at least `bytes` bytes, 64-byte aligned; grows memory if it must. */
  alloc(bytes: number): number {
    const size = alignUp(Math.max(bytes, 1), ALIGN);
    let i = this.#free.findIndex((b) => b.size >= size);
    if (i < 0) i = this.#grow(size);
    const block = this.#free[i];
    const ptr = block.ptr;
    if (block.size === size) this.#free.splice(i, 1);
    else {
      block.ptr += size;
      block.size -= size;
    }
    this.#used.set(ptr, size);
    return ptr;
  }

  /** Releases ptr if it is still handed out (a collected module's block); a no-op otherwise. */
  releaseIfHeld(ptr: number): void {
    if (this.#used.has(ptr)) this.release(ptr);
  }

  /** Bytes that scoped(bytes) would allocate. */
  static scopedBytes(bytes: readonly number[]): number {
    return bytes.reduce((total, b) => total + alignUp(b, ALIGN), 0);
  }

  /** Whether scoped(bytes) could allocate without passing maxBytes (counting free space already there). */
  fits(bytes: readonly number[]): boolean {
    const size = alignUp(Math.max(Heap.scopedBytes(bytes), 1), ALIGN);
    if (this.#free.some((b) => b.size >= size)) return true;
    const end = this.#memory.buffer.byteLength;
    const last = this.#free[this.#free.length - 1];
    const tail = last && last.ptr + last.size === end ? last.size : 0;
    return end + Math.ceil((size - tail) / PAGE) * PAGE <= this.maxBytes;
  }

  /** Returns a block from alloc(); neighbouring free blocks merge. */
  release(ptr: number): void {
    const size = this.#used.get(ptr);
    if (size === undefined) throw new Error(`heap: release of unknown block ${ptr}`);
    this.#used.delete(ptr);
    let i = 0;
    while (i < this.#free.length && this.#free[i].ptr < ptr) i++;
    this.#free.splice(i, 0, { ptr, size });
    const next = this.#free[i + 1];
    if (next && ptr + size === next.ptr) {
      this.#free[i].size += next.size;
      this.#free.splice(i + 1, 1);
    }
    const prev = this.#free[i - 1];
    if (prev && prev.ptr + prev.size === ptr) {
      prev.size += this.#free[i].size;
      this.#free.splice(i, 1);
    }
  }

  /**
   * Runs `body` with one block per entry of `bytes` (carved from one allocation, each 64-byte aligned)
   * and releases them when it returns or throws.
   */
  scoped<T>(bytes: readonly number[], body: (ptrs: number[]) => T): T {
    let total = 0;
    const offsets = bytes.map((b) => {
      const at = total;
      total += alignUp(b, ALIGN);
      return at;
    });
    if (!Number.isSafeInteger(total) || total > this.maxBytes) {
      throw new AttentionError('OUT_OF_MEMORY', `needs ${total} bytes of linear memory for this call, past the limit of ${this.maxBytes} bytes`);
    }
    const base = this.alloc(total);
    try {
      return body(offsets.map((o) => base + o));
    } finally {
      this.release(base);
    }
  }

  /** A Float32Array over all of linear memory, rebuilt when memory has grown (old views are detached). */
  f32(): Float32Array {
    if (this.#f32View.buffer !== this.#memory.buffer) this.#f32View = new Float32Array(this.#memory.buffer);
    return this.#f32View;
  }

  u8(): Uint8Array {
    if (this.#u8View.buffer !== this.#memory.buffer) this.#u8View = new Uint8Array(this.#memory.buffer);
    return this.#u8View;
  }

  writeF32(ptr: number, data: Float32Array): void {
    this.f32().set(data, ptr >>> 2);
  }

  writeU8(ptr: number, data: Uint8Array): void {
    this.u8().set(data, ptr >>> 0);
  }

  /** A copy of `length` floats at ptr, owned by the caller. */
  readF32(ptr: number, length: number): Float32Array {
    const at = ptr >>> 2;
    return this.f32().slice(at, at + length);
  }

  /** Grows memory so that a free block of `size` bytes exists at the top; returns its index in the free list. */
  #grow(size: number): number {
    const end = this.#memory.buffer.byteLength;
    const last = this.#free[this.#free.length - 1];
    const tail = last && last.ptr + last.size === end ? last : undefined;
    const pages = Math.ceil((size - (tail ? tail.size : 0)) / PAGE);
    const newEnd = end + pages * PAGE;
    if (newEnd > this.maxBytes) {
      throw new AttentionError('OUT_OF_MEMORY', `needs ${size} more bytes of linear memory, which would grow it from ${end} to ${newEnd} bytes, past the limit of ${this.maxBytes} bytes`);
    }
    try {
      this.#memory.grow(pages);
    } catch {
      throw new AttentionError('OUT_OF_MEMORY', `needs ${size} more bytes of linear memory, but growing it from ${end} to ${newEnd} bytes failed`);
    }
    if (tail) tail.size += pages * PAGE;
    else this.#free.push({ ptr: end, size: pages * PAGE });
    return this.#free.length - 1;
  }
}
