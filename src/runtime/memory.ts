import { badArgument, outOfMemory } from './errors.js';
import { afterSteps } from './recording.js';
import { typedArrayLength, typedArrayName } from './snapshot.js';

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
  #memory: WebAssembly.Memory;

  constructor(
    memory: WebAssembly.Memory,
    base: number,
    /** Linear memory is never grown past this many bytes. */
    readonly maxBytes: number,
  ) {
    this.#memory = memory;
    const start = alignUp(base, ALIGN);
    const end = this.bytes;
    if (end > start) this.#free.push({ ptr: start, size: end - start });
  }

  /** Goes on over `memory`, a copy of the one it had (a pool moving the engine to a shared memory). */
  adopt(memory: WebAssembly.Memory): void {
    this.#memory = memory;
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
    // Sizes are float64 and may be anything a caller computed: check before any arithmetic on the free list.
    if (!(size <= this.maxBytes)) {
      throw outOfMemory(
        `needs ${bytes} bytes of linear memory for this call, past the limit of ${this.maxBytes} bytes`,
      );
    }
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

  /** Bytes that scoped(bytes) takes, and whether that many are still free under the limit. */
  fit(bytes: readonly number[]): { need: number; fits: boolean } {
    const need = bytes.reduce((total, n) => total + alignUp(n, ALIGN), 0);
    return { need, fits: need <= this.maxBytes - this.usedBytes };
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
   * and releases them when it returns or throws (for a recorded call: once its steps have run).
   */
  scoped<T>(bytes: readonly number[], body: (ptrs: number[]) => T): T {
    const ptrs = this.allocMany(bytes);
    try {
      return body(ptrs);
    } finally {
      afterSteps(this, () => this.release(ptrs[0]));
    }
  }

  /**
   * One allocation (64-byte aligned) carved into a block per entry of `bytes` (at least one), each starting on a
   * multiple of `align` from the first; release(ptrs[0]) frees them all.
   */
  allocMany(bytes: readonly number[], align = ALIGN): number[] {
    let total = 0;
    const offsets = bytes.map((b) => {
      const at = total;
      total += alignUp(b, align);
      return at;
    });
    const base = this.alloc(total);
    return offsets.map((o) => base + o);
  }

  /** A Float32Array over all of linear memory, rebuilt when memory has grown (old views are detached). */
  f32(): Float32Array {
    if (this.#f32View.buffer !== this.#memory.buffer) this.#f32View = new Float32Array(this.#memory.buffer);
    return this.#f32View;
  }

  /**
   * Copies an argument's data (as read by the entry step: its length is its size unless its buffer was
   * shrunk or detached since) into linear memory at ptr; nothing is written past `size` elements.
   */
  write(
    ptr: number,
    arg: { readonly name?: string; readonly data: Float32Array | Uint8Array; readonly size?: number },
  ): void {
    const n = typedArrayLength(arg.data);
    if (arg.size !== undefined && n !== arg.size) throw badArgument(`${arg.name}.data changed size during the call`);
    if (typedArrayName(arg.data) === 'Float32Array') this.f32().set(arg.data, ptr >>> 2);
    // Byte masks only: a view made per write, where every float array goes through the cached one.
    else new Uint8Array(this.#memory.buffer).set(arg.data, ptr >>> 0);
  }

  /**
   * A copy of `length` floats at ptr, in a new array or `out` (one made ahead), owned by the caller (for a recorded
   * call: filled once its steps have run).
   */
  readF32(ptr: number, length: number, out: Float32Array = new Float32Array(length)): Float32Array {
    const at = ptr >>> 2;
    afterSteps(this, () => out.set(this.f32().subarray(at, at + length)));
    return out;
  }

  /** Grows memory so that a free block of `size` bytes exists at the top; returns its index in the free list. */
  #grow(size: number): number {
    const end = this.bytes;
    const last = this.#free[this.#free.length - 1];
    const tail = last && last.ptr + last.size === end ? last : undefined;
    const pages = Math.ceil((size - (tail ? tail.size : 0)) / PAGE);
    const newEnd = end + pages * PAGE;
    try {
      if (newEnd > this.maxBytes) throw 0;
      this.#memory.grow(pages);
    } catch {
      throw outOfMemory(
        `needs ${size} more bytes of linear memory, and growing it from ${end} to ${newEnd} bytes ${newEnd > this.maxBytes ? `passes the limit of ${this.maxBytes} bytes` : 'failed'}`,
      );
    }
    if (tail) tail.size += pages * PAGE;
    else this.#free.push({ ptr: end, size: pages * PAGE });
    return this.#free.length - 1;
  }
}
