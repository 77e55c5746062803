// Lifetimes of resident memory: dispose() frees it; a module or cache that is forgotten instead is freed when
// it is garbage-collected.
import { AttentionError } from './errors.js';
import type { Heap } from './memory.js';

const registry =
  typeof FinalizationRegistry === 'undefined'
    ? undefined
    : new FinalizationRegistry<{ heap: Heap; ptr: number }>(({ heap, ptr }) => heap.releaseIfHeld(ptr));

/**
 * A block of the heap held by one module or cache (its only holder) until dispose(), or until it is
 * collected with its holder.
 */
export class Resident {
  #ptr: number | undefined;

  constructor(
    readonly heap: Heap,
    ptr: number,
    /** What holds it, for DISPOSED messages: 'module', 'KV cache'. */
    readonly kind: string,
  ) {
    this.#ptr = ptr;
    registry?.register(this, { heap, ptr }, this);
  }

  get disposed(): boolean {
    return this.#ptr === undefined;
  }

  /** The block, or DISPOSED naming the caller. */
  ptr(what: string): number {
    if (this.#ptr === undefined) throw new AttentionError('DISPOSED', `${what}: this ${this.kind} was disposed`);
    return this.#ptr;
  }

  /** Frees the block; safe to call twice. */
  dispose(): void {
    if (this.#ptr === undefined) return;
    registry?.unregister(this);
    this.heap.release(this.#ptr);
    this.#ptr = undefined;
  }
}
