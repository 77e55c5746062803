// Lifetimes of resident memory: dispose() frees it; a module or cache that is forgotten instead is freed when
// it is garbage-collected.
import type { Heap } from './memory.js';

const registry =
  typeof FinalizationRegistry === 'undefined'
    ? undefined
    : new FinalizationRegistry<{ heap: Heap; ptr: number }>(({ heap, ptr }) => heap.releaseIfHeld(ptr));

/** Frees `ptr` when `owner` is collected, unless untrack(owner) came first. */
export function track(owner: object, heap: Heap, ptr: number): void {
  registry?.register(owner, { heap, ptr }, owner);
}

export function untrack(owner: object): void {
  registry?.unregister(owner);
}
