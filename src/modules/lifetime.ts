// Lifetimes of resident memory: dispose() frees it; a module or cache that is forgotten instead is freed when
// it is garbage-collected; a call in progress keeps it until the call ends.
import { AttentionError } from '../runtime/errors.js';
import type { Heap } from '../runtime/memory.js';
import { afterSteps } from '../runtime/recording.js';

const registry =
  typeof FinalizationRegistry === 'undefined'
    ? undefined
    : new FinalizationRegistry<{ heap: Heap; ptr: number }>(({ heap, ptr }) => heap.releaseIfHeld(ptr));

/**
 * A block of the heap held by one module or cache (its only holder) until dispose(), or until it is
 * collected with its holder. Calls use it through use(): a dispose() during a call frees it when the call ends.
 */
export class Resident {
  readonly #ptr: number;
  #disposed = false;
  /** Calls using the block now. */
  #users = 0;

  constructor(
    readonly heap: Heap,
    ptr: number,
    /** What holds it, for DISPOSED messages: 'module', 'KV cache'. */
    readonly kind: string,
  ) {
    this.#ptr = ptr;
    registry?.register(this, { heap, ptr }, this);
  }

  /** Throws DISPOSED, naming the caller, once dispose() was called. */
  check(what: string): void {
    if (this.#disposed) throw new AttentionError('DISPOSED', `${what}: this ${this.kind} was disposed`);
  }

  /**
   * Runs body with the block's pointer; the block stays allocated until body returns (for a recorded call: until
   * its steps have run), whatever it calls.
   */
  use<T>(what: string, body: (ptr: number) => T): T {
    this.check(what);
    this.#users++;
    try {
      return body(this.#ptr);
    } finally {
      afterSteps(this.heap, () => {
        if (--this.#users === 0 && this.#disposed) this.#free();
      });
    }
  }

  /** Frees the block (at the end of the calls using it); safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#users === 0) this.#free();
  }

  #free(): void {
    registry?.unregister(this);
    this.heap.release(this.#ptr);
  }
}
